"""A real Caseloop server for the browser tests: uvicorn in a subprocess on a free loopback
port, with its own data directory and a freshly migrated database (SQLite, or a PostgreSQL
database created for the session when DATABASE_URL is set), mail written to files."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DeskServer:
    def __init__(self, base_url: str, env: dict, mail_dir: Path) -> None:
        self.base_url = base_url
        self.env = env
        self.mail_dir = mail_dir

    def run(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "python"), str(ROOT / "tests" / "browser" / "desk_script.py"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def mails(self) -> list[str]:
        return [p.read_text() for p in sorted(self.mail_dir.glob("*"), key=os.path.getmtime)]


@pytest.fixture(scope="session")
def desk_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("desk-data")
    mail_dir = tmp_path_factory.mktemp("desk-mail")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    run_id = f"{os.getpid()}_{port}"
    env = {
        **os.environ,
        "CASELOOP_DATA_DIR": str(data_dir),
        "CASELOOP_SECURE_COOKIES": "0",
        "CASELOOP_TESTING": "1",
        "CASELOOP_SITE_URL": base_url,
        "CASELOOP_MAIL_DIR": str(mail_dir),
        "DJANGO_SETTINGS_MODULE": "tests.browser.server_settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "CASELOOP_QUEUE_NAME": f"browser_{run_id}",
        "CASELOOP_CHANNEL_PREFIX": f"browser_{run_id}",
    }
    pg_admin = pg_name = None
    if os.environ.get("DATABASE_URL"):
        pg_admin = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
        pg_name = f"cl_browser_{run_id}"
        subprocess.run(
            [str(BIN / "python"), str(ROOT / "scripts" / "pgdb.py"), "create", pg_admin, pg_name],
            check=True,
        )
        env["DATABASE_URL"] = pg_admin.rsplit("/", 1)[0] + "/" + pg_name
    subprocess.run(
        [str(BIN / "caseloop"), "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True
    )
    server = DeskServer(base_url, env, mail_dir)
    server.run("seed")
    log_path = ROOT / "test-artifacts" / "desk-server.log"
    log_path.parent.mkdir(exist_ok=True)
    log = open(log_path, "w")  # noqa: SIM115 - closed after the server stops
    process = subprocess.Popen(
        [
            str(BIN / "python"),
            "-m",
            "uvicorn",
            "caseloop.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base_url + "/login/", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "the desk server did not start:\n" + log_path.read_text()[-3000:]
                    ) from None
                time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        if pg_name:
            subprocess.run(
                [str(BIN / "python"), str(ROOT / "scripts" / "pgdb.py"), "drop", pg_admin, pg_name],
                check=False,
            )


# Module scope: Playwright's sync API keeps an event loop running while it is open, which
# would break async fixtures of tests that run after the browser tests.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


class Shots:
    """Screenshots of a journey's key screens, and of every open page when a test fails."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pages: dict[str, object] = {}
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def watch(self, label: str, page) -> None:
        self.pages[label] = page

    def take(self, page, step: str) -> None:
        # Screenshots are a record for people, not an assertion: a page in a background
        # window of a busy machine may produce no frame in time, and that must not fail
        # a journey whose assertions all held.
        from playwright.sync_api import Error as PlaywrightError

        try:
            page.bring_to_front()
            page.screenshot(
                path=str(ARTIFACTS / f"{self.name}-{step}.png"),
                full_page=True,
                animations="disabled",
                timeout=10_000,
            )
        except PlaywrightError as error:
            warnings.warn(f"screenshot {self.name}-{step} not taken: {error}", stacklevel=2)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        shots = item.funcargs.get("shots")
        if shots is not None:
            for label, page in shots.pages.items():
                # A closed page must not hide the real failure.
                with contextlib.suppress(Exception):
                    shots.take(page, f"FAILED-{label}")


@pytest.fixture
def shots(request):
    return Shots(request.node.name)
