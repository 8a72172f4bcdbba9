"""`caseloop serve` as a real process on a free loopback port, for tests that need the
shipped server (uvicorn, its logging, its database connections)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(*, env: dict[str, str], log: Path, args: tuple[str, ...] = ()) -> Iterator[str]:
    """Run `caseloop serve --no-migrate --no-jobs` with `env` until the block ends; yields
    its base URL. Everything it prints goes to `log`."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [str(BIN / "caseloop"), "serve", "--port", str(port), "--no-migrate", "--no-jobs"]
    with log.open("w") as out:
        process = subprocess.Popen([*command, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log.read_text()[-3000:]
                try:
                    requests.get(f"{base_url}/login/", timeout=1)
                    break
                except requests.RequestException:
                    assert time.monotonic() < deadline, "caseloop serve did not start"
                    time.sleep(0.1)
            yield base_url
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
