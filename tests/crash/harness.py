"""Real Caseloop processes to kill: `caseloop serve` (and, with Redis, `caseloop worker`)
on a data directory and database of their own, driven over HTTP while they are killed with
SIGKILL, then restarted. Used by the crash test and by bench/crash_bench.py."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NEUTRAL_REPLY = "Thank you for your message. We are looking into it and will write again today."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Desk:
    """One desk on real processes: PostgreSQL + Redis when DATABASE_URL and REDIS_URL are
    set (a web server without jobs and a separate worker), else the embedded default (one
    `caseloop serve` with in-process jobs on SQLite)."""

    def __init__(self, workdir: Path, *, lease_seconds: int = 3) -> None:
        self.workdir = workdir
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.run_id = f"crash_{os.getpid()}_{self.port}"
        self.at_scale = bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
        self.processes: list[subprocess.Popen[bytes]] = []
        self.pg_admin = self.pg_name = ""
        self.env = {
            **os.environ,
            "CASELOOP_DATA_DIR": str(workdir / "data"),
            "CASELOOP_JOBS_IMMEDIATE": "0",
            "CASELOOP_TESTING": "0",
            "CASELOOP_OUTBOX_LEASE_SECONDS": str(lease_seconds),
            "CASELOOP_SITE_URL": self.base_url,
            "CASELOOP_SECURE_COOKIES": "0",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(workdir / "mail"),
            "CASELOOP_QUEUE_NAME": self.run_id,
            "CASELOOP_CHANNEL_PREFIX": self.run_id,
            "PYTHONPATH": str(ROOT / "src"),
        }
        for name in ("DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST"):
            self.env.pop(name, None)
        if not self.at_scale:
            self.env.pop("DATABASE_URL", None)
            self.env.pop("REDIS_URL", None)
        self.token = ""

    # --- processes ------------------------------------------------------------------------

    def _cli(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "caseloop"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"caseloop {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def setup(self) -> None:
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)
        (self.workdir / "mail").mkdir(parents=True, exist_ok=True)
        if self.at_scale:
            server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
            self.pg_admin, self.pg_name = server + "/postgres", self.run_id
            subprocess.run(
                [
                    str(BIN / "python"),
                    str(ROOT / "scripts" / "pgdb.py"),
                    "create",
                    self.pg_admin,
                    self.pg_name,
                ],
                check=True,
            )
            self.env["DATABASE_URL"] = f"{server}/{self.pg_name}"
        self._cli("migrate", "--noinput", "-v", "0")
        self._cli("createuser", "--username", "crash-agent", "--role", "agent")
        self.token = self._cli("token", "--username", "crash-agent").split()[-1].strip()

    def start(self) -> None:
        log = open(self.workdir / "server.log", "ab")  # noqa: SIM115 - lives with the process
        serve = [str(BIN / "caseloop"), "serve", "--port", str(self.port), "--no-migrate"]
        if self.at_scale:
            serve += ["--workers", "2", "--no-jobs"]
        # Each in its own process group, so SIGKILL takes uvicorn's workers with it.
        self.processes = [
            subprocess.Popen(
                serve, env=self.env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True
            )
        ]
        if self.at_scale:
            self.processes.append(
                subprocess.Popen(
                    [str(BIN / "caseloop"), "worker"],
                    env=self.env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(self.base_url + "/login/", timeout=2)
                return
            except OSError:
                if any(p.poll() is not None for p in self.processes) or (
                    time.monotonic() > deadline
                ):
                    raise RuntimeError(
                        "the desk did not start:\n"
                        + (self.workdir / "server.log").read_text(errors="replace")[-3000:]
                    ) from None
                time.sleep(0.3)

    def outbox(self) -> dict:
        """The outbox's counts, read by the CLI (pending, failed, done)."""
        return json.loads(self._cli("outbox").strip().splitlines()[-1])

    def kill(self) -> None:
        """SIGKILL every process of the desk, mid-flight."""
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        for process in self.processes:
            process.wait(timeout=30)
        self.processes = []

    def stop(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill()
        self.processes = []
        if self.pg_name:
            subprocess.run(
                [
                    str(BIN / "python"),
                    str(ROOT / "scripts" / "pgdb.py"),
                    "drop",
                    self.pg_admin,
                    self.pg_name,
                ],
                check=False,
            )

    # --- HTTP -----------------------------------------------------------------------------

    def api(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        *,
        key: str = "",
        timeout: float = 30,
    ) -> tuple[int, dict | list]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        if key:
            headers["Idempotency-Key"] = key
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers=headers,
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


@dataclass
class Drive:
    """What the clients were told: cases whose create was answered 200/201 and replies
    answered 201 (acknowledged), and how many requests died with the server."""

    cases: dict[str, int] = field(default_factory=dict)  # idempotency key -> case id
    replies: dict[int, int] = field(default_factory=dict)  # message id -> case id
    lost_requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def drive(
    desk: Desk, *, cases: int, clients: int, kill_after: int, on_kill: Callable[[], None]
) -> Drive:
    """`clients` threads open cases (each with a unique Idempotency-Key, then one reply)
    until `cases` were tried; once `kill_after` creates were acknowledged, the desk is
    killed while the others are in flight."""
    state = Drive()
    tried = iter(range(cases))
    tried_lock = threading.Lock()
    killed = threading.Event()

    def client() -> None:
        while not killed.is_set():
            with tried_lock:
                n = next(tried, None)
            if n is None:
                return
            key = uuid.uuid4().hex
            try:
                status, body = desk.api(
                    "POST",
                    "/api/v1/cases",
                    {
                        "subject": f"Order {n} arrived damaged",
                        "channel": "email",
                        "customer": {"email": f"crash{n}@example.com", "name": f"Customer {n}"},
                        "message": {"text": f"My order {n} arrived with a broken lid."},
                    },
                    key=key,
                )
            except OSError:
                with state.lock:
                    state.lost_requests += 1
                continue
            if status not in (200, 201) or not isinstance(body, dict):
                continue
            with state.lock:
                state.cases[key] = body["id"]
                if len(state.cases) == kill_after and not killed.is_set():
                    killed.set()
                    on_kill()
            try:
                status, reply = desk.api(
                    "POST",
                    f"/api/v1/cases/{body['id']}/messages",
                    {"text": NEUTRAL_REPLY, "direction": "outbound", "send_anyway": True},
                )
            except OSError:
                with state.lock:
                    state.lost_requests += 1
                continue
            if status == 201 and isinstance(reply, dict):
                with state.lock:
                    state.replies[reply["id"]] = body["id"]

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return state


@dataclass
class Outcome:
    cases: int
    replies: int
    acknowledgements_missing: int
    acknowledgements_duplicated: int
    triage_missing: int
    replies_stuck: int
    replies_failed: list[str]


def outcome(desk: Desk, state: Drive) -> Outcome:
    """Read every acknowledged case back through the API."""
    missing_ack = duplicated_ack = missing_triage = stuck = 0
    failed: list[str] = []
    for case_id in sorted(set(state.cases.values())):
        _, events = desk.api("GET", f"/api/v1/cases/{case_id}/events")
        kinds = [event["kind"] for event in events] if isinstance(events, list) else []
        acks = kinds.count("acknowledged")
        missing_ack += acks == 0
        duplicated_ack += acks > 1
        missing_triage += "triaged" not in kinds
        _, messages = desk.api("GET", f"/api/v1/cases/{case_id}/messages")
        for message in messages if isinstance(messages, list) else []:
            if message["direction"] != "outbound":
                continue
            if message["delivery_status"] == "queued":
                stuck += 1
            elif message["delivery_status"] == "failed":
                failed.append(message.get("delivery_error") or "(no reason)")
    return Outcome(
        cases=len(set(state.cases.values())),
        replies=len(state.replies),
        acknowledgements_missing=missing_ack,
        acknowledgements_duplicated=duplicated_ack,
        triage_missing=missing_triage,
        replies_stuck=stuck,
        replies_failed=failed,
    )


def settle(desk: Desk, state: Drive, *, patience: float = 180) -> Outcome:
    """Wait for the restarted desk to finish what the crash left (the sweep runs every
    minute, and at start), then read the outcome."""
    deadline = time.monotonic() + patience
    while True:
        result = outcome(desk, state)
        done = not (
            result.acknowledgements_missing or result.triage_missing or result.replies_stuck
        )
        if done or time.monotonic() > deadline:
            return result
        time.sleep(2)
