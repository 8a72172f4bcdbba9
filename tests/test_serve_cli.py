"""`caseloop serve` logs each request only when asked: `--access-log` or
CASELOOP_ACCESS_LOG=1. Checked on the real server, by what it prints."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import requests

from tests.serving import BIN, serving

ACCESS_LINE = '"GET /login/?probe=1 HTTP/1.1" 200'


@pytest.fixture(scope="module")
def embedded_env(tmp_path_factory) -> dict[str, str]:
    """The embedded default (SQLite in a data dir of its own), migrated once."""
    data_dir = tmp_path_factory.mktemp("serve-cli")
    unset = {"DATABASE_URL", "REDIS_URL", "CASELOOP_TESTING", "CASELOOP_ACCESS_LOG"}
    env = {
        **{name: value for name, value in os.environ.items() if name not in unset},
        "CASELOOP_DATA_DIR": str(data_dir),
        "CASELOOP_SECURE_COOKIES": "0",
    }
    subprocess.run(
        [str(BIN / "caseloop"), "migrate", "--noinput", "--verbosity", "0"],
        env=env,
        check=True,
        timeout=120,
    )
    return env


def served_log(env: dict[str, str], log: Path, *args: str) -> str:
    """What the server printed while it answered one request."""
    with serving(env=env, log=log, args=args) as base_url:
        assert requests.get(f"{base_url}/login/?probe=1", timeout=10).status_code == 200
    return log.read_text()


def test_serve_does_not_log_each_request_by_default(embedded_env, tmp_path):
    output = served_log(embedded_env, tmp_path / "serve.log")
    assert "Caseloop is serving on" in output
    assert ACCESS_LINE not in output


def test_the_access_log_flag_logs_each_request(embedded_env, tmp_path):
    output = served_log(embedded_env, tmp_path / "serve.log", "--access-log")
    assert ACCESS_LINE in output


def test_the_environment_turns_the_access_log_on(embedded_env, tmp_path):
    env = {**embedded_env, "CASELOOP_ACCESS_LOG": "1"}
    output = served_log(env, tmp_path / "serve.log")
    assert ACCESS_LINE in output
