"""Real desk servers on loopback for WebSocket tests.

With PostgreSQL and Redis configured, two uvicorn processes share the test database and the
Redis channel layer, so a push made in one reaches a socket held by the other. On the
embedded SQLite default (an in-memory test database no other process can open), one
uvicorn server runs in a thread of the test process and plays both parts.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import uvicorn
from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, *, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited early: {process.stdout.read().decode()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


class ThreadServer:
    """uvicorn serving the project's ASGI app from a thread of this process."""

    def __init__(self) -> None:
        from caseloop.asgi import application

        self.port = free_port()
        config = uvicorn.Config(
            application, host="127.0.0.1", port=self.port, lifespan="off", log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        wait_for_port(self.port)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class ProcessServer:
    """`uvicorn caseloop.asgi:application` in its own process, on the test database."""

    def __init__(self) -> None:
        self.port = free_port()
        parts = urlsplit(os.environ["DATABASE_URL"])
        test_db = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
        env = {
            **os.environ,
            "DATABASE_URL": test_db,
            "SECRET_KEY": settings.SECRET_KEY,
            "CASELOOP_JOBS_IMMEDIATE": "1",
            "CASELOOP_CHANNEL_PREFIX": settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
            "LOG_LEVEL": "WARNING",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "caseloop.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--lifespan",
                "off",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def start(self) -> None:
        wait_for_port(self.port, process=self.process)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            # Shown by pytest when a test fails: what the server said.
            sys.stderr.write(self.process.stdout.read().decode(errors="replace")[-20000:])
            self.process.stdout.close()


def multi_process() -> bool:
    return bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))


def desk_servers() -> list:
    """Two servers to talk to (the same one twice on the embedded default), started."""
    if multi_process():
        servers = [ProcessServer(), ProcessServer()]
    else:
        only = ThreadServer()
        servers = [only, only]
    for server in {id(s): s for s in servers}.values():
        server.start()
    return servers
