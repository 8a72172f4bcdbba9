"""`CASELOOP_LOG_FORMAT=json`: one JSON object per line, with the request id, and never a
token, password, cookie or signed link."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from django.core import signing

from caseloop.lib.logjson import JsonFormatter, redact

SECRETS = (
    "cl_9fK2LmQp7xZt4RvW8yHs3NbJ6cDe1GaU",
    "hunter2-Password",
    "sess1on0key0never0logged",
    "csrf0token0never0logged",
    "db-password-in-url",
)


@pytest.fixture
def json_lines():
    """Everything logged while the test runs, formatted as the JSON handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def assert_no_secret(text: str, *extra: str) -> None:
    for secret in (*SECRETS, *extra):
        assert secret not in text, f"{secret!r} was logged"


@pytest.mark.django_db
def test_a_request_logs_json_with_its_id_and_no_secret(client, json_lines):
    link = signing.dumps({"id": 42, "a": "yes"}, salt="caseloop.test", compress=True)
    client.cookies["sessionid"] = "sess1on0key0never0logged"
    client.cookies["csrftoken"] = "csrf0token0never0logged"
    response = client.get(
        f"/no/such/link/{link}/",
        headers={"Authorization": f"Bearer {SECRETS[0]}", "X-Request-ID": "req-77"},
    )
    assert response.status_code == 404
    lines = json_lines()
    (not_found,) = [line for line in lines if line["logger"] == "django.request"]
    assert not_found["level"] == "WARNING"
    assert not_found["message"].startswith("Not Found: /no/such/link/")
    assert not_found["request_id"] == "req-77"
    assert not_found["status_code"] == 404
    assert set(not_found) <= {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "status_code",
        "exception",
    }
    assert_no_secret(json.dumps(lines), link)


def test_an_exception_is_logged_whole_but_scrubbed(json_lines, settings):
    logger = logging.getLogger("caseloop.test.ops")
    try:
        raise RuntimeError(
            f"login failed: password={SECRETS[1]} "
            f"url=postgres://caseloop:{SECRETS[4]}@db.example:5432/desk "
            f"secret key {settings.SECRET_KEY}"
        )
    except RuntimeError:
        logger.exception("could not reach %s", "postgres://caseloop:db-password-in-url@db/desk")
    (line,) = json_lines()
    assert line["level"] == "ERROR"
    assert line["logger"] == "caseloop.test.ops"
    assert "RuntimeError: login failed" in line["exception"]
    assert "postgres://caseloop:[redacted]@db/desk" in line["message"]
    assert "request_id" not in line
    assert_no_secret(json.dumps(line), settings.SECRET_KEY)


def test_redaction_keeps_ordinary_text():
    text = "effect 12 (message.deliver) failed: SMTPRecipientsRefused for ann@example.com"
    assert redact(text) == text
    assert redact('{"token": "abc"}') == '{"token": "[redacted]"}'
    assert redact("Cookie: sessionid=abc; csrftoken=def") == (
        "Cookie: [redacted]; csrftoken=[redacted]"
    )
    assert redact("reply token with a bad signature for CL-12") == (
        "reply token with a bad signature for CL-12"
    )


SCRIPT = """
import logging, django
django.setup()
log = logging.getLogger("caseloop.test.ops")
log.warning("Authorization: Bearer %s", "cl_9fK2LmQp7xZt4RvW8yHs3NbJ6cDe1GaU")
try:
    raise ValueError("multi\\nline password=hunter2-Password")
except ValueError:
    log.exception("it failed")
"""


def test_the_environment_switches_the_console_to_json_lines(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "DJANGO_SETTINGS_MODULE": "caseloop.settings",
        "CASELOOP_DATA_DIR": str(tmp_path),
        "CASELOOP_LOG_FORMAT": "json",
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [line["level"] for line in lines] == ["WARNING", "ERROR"]
    assert lines[0]["message"] == "Authorization: [redacted]"
    assert "ValueError: multi\nline password=[redacted]" in lines[1]["exception"]
    assert_no_secret(done.stderr)


def test_an_unknown_log_format_is_refused(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "caseloop.settings",
        "CASELOOP_DATA_DIR": str(tmp_path),
        "CASELOOP_LOG_FORMAT": "xml",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "CASELOOP_LOG_FORMAT must be text or json" in done.stderr
