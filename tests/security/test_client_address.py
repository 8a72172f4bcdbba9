"""The client's address is the connecting peer unless that peer is a trusted proxy, in
Django and in `caseloop serve`'s uvicorn: a client cannot name itself in X-Forwarded-For
to walk past the rate limits."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.test import RequestFactory

from caseloop.cli.management.commands import serve
from caseloop.lib.ratelimit import client_address

BIN = Path(sys.executable).parent
PARALLEL = 20


def request_from(remote: str, forwarded: str = ""):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_does_not_change_the_address(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(request_from("127.0.0.1", "203.0.113.9")) == "127.0.0.1"
    settings.TRUSTED_PROXIES = ["10.9.0.0/16"]
    assert client_address(request_from("198.51.100.7", "203.0.113.9")) == "198.51.100.7"
    assert client_address(request_from("127.0.0.1", "10.9.0.1")) == "127.0.0.1"


def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.9.0.0/16"]
    assert client_address(request_from("10.9.0.2", "203.0.113.9")) == "203.0.113.9"
    # Whatever the client put to the left of what the proxies appended is not believed.
    chain = "192.0.2.1, 203.0.113.9, 10.9.0.5"
    assert client_address(request_from("10.9.0.2", chain)) == "203.0.113.9"


def test_serve_has_uvicorn_believe_forwarded_headers_only_from_trusted_proxies(
    settings, monkeypatch
):
    calls: list[dict] = []
    monkeypatch.setattr(serve, "call_command", lambda *args, **kwargs: None)
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: calls.append(kwargs))

    def run() -> dict:
        serve.Command().handle(
            host="127.0.0.1", port=8000, workers=1, no_jobs=True, no_migrate=True
        )
        return calls.pop()

    settings.TRUSTED_PROXIES = []
    assert run()["proxy_headers"] is False
    settings.TRUSTED_PROXIES = ["10.9.0.0/16", "192.0.2.7"]
    options = run()
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == ["10.9.0.0/16", "192.0.2.7"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """`caseloop serve` as shipped (two uvicorn workers, jobs in-process) on the embedded
    default — SQLite in a data dir of its own, the file cache — with mail written to files.
    No trusted proxies."""
    data_dir = tmp_path_factory.mktemp("serve-data")
    outbox = data_dir / "outbox"
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    unset = {"DATABASE_URL", "REDIS_URL", "CASELOOP_TESTING", "CASELOOP_TRUSTED_PROXIES"}
    env = {
        **{name: value for name, value in os.environ.items() if name not in unset},
        "CASELOOP_DATA_DIR": str(data_dir),
        "CASELOOP_SITE_URL": base_url,
        "CASELOOP_SECURE_COOKIES": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(outbox),
        "FORWARDED_ALLOW_IPS": "*",  # uvicorn's own knob: must not matter either
    }
    subprocess.run(
        [str(BIN / "caseloop"), "migrate", "--noinput", "--verbosity", "0"],
        env=env,
        check=True,
        timeout=60,
    )
    log = (data_dir / "serve.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "caseloop"), "serve", "--port", str(port), "--workers", "2", "--no-migrate"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (data_dir / "serve.log").read_text()[-3000:]
            try:
                requests.get(f"{base_url}/login/", timeout=1)
                break
            except requests.RequestException:  # not listening, or workers still starting
                assert time.monotonic() < deadline, "caseloop serve did not start"
                time.sleep(0.1)
        yield base_url, outbox
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', page).group(1)


def in_parallel(attempt, n: int = PARALLEL) -> list:
    start = threading.Barrier(n)

    def run(i: int):
        start.wait()
        return attempt(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_a_spoofed_forwarded_for_cannot_dodge_the_web_form_limit_of_a_real_server(desk):
    base_url, outbox = desk
    url = f"{base_url}/channels/form/"
    session = requests.Session()
    pages = [session.get(url, timeout=10).text for _ in range(PARALLEL)]
    cookies = session.cookies.get_dict()

    def post(i: int) -> int:
        data = {
            "csrfmiddlewaretoken": hidden(pages[i], "csrfmiddlewaretoken"),
            "form_token": hidden(pages[i], "form_token"),
            "name": f"Sender {i}",
            "email": f"sender{i}@example.com",
            "subject": f"Message {i}",
            "message": "Hello there.",
            "website": "",
        }
        response = requests.post(
            url,
            data=data,
            cookies=cookies,
            # A different made-up address on every request.
            headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
            allow_redirects=False,
            timeout=30,
        )
        return response.status_code

    statuses = in_parallel(post)
    # The default form allows 5 messages per address in 10 minutes.
    assert Counter(statuses) == {302: 5, 429: PARALLEL - 5}

    # The portal's sign-in link, for a customer one of those messages created.
    email = f"sender{statuses.index(302)}@example.com"
    signin = f"{base_url}/portal/sign-in/"
    csrf = hidden(session.get(signin, timeout=10).text, "csrfmiddlewaretoken")
    cookies = session.cookies.get_dict()

    def ask_for_link(i: int) -> int:
        response = requests.post(
            signin,
            data={"csrfmiddlewaretoken": csrf, "email": email},
            cookies=cookies,
            headers={"X-Forwarded-For": f"198.51.100.{i + 1}"},
            timeout=30,
        )
        return response.status_code

    assert Counter(in_parallel(ask_for_link)) == {200: 5, 429: PARALLEL - 5}
    subject = re.compile(r"^Subject: Your .*sign-in link$", re.MULTILINE)
    links = sum(len(subject.findall(path.read_text())) for path in outbox.glob("*"))
    assert links == 5
