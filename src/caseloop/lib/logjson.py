"""Structured logs: one JSON object per line (`CASELOOP_LOG_FORMAT=json`).

Each line holds `time` (UTC, ISO 8601), `level`, `logger`, `message`, the `request_id` of
the request being served when there is one, and `exception` (the traceback) when the record
carries one; `django.request` records add their `status_code`. Nothing else of a record is
written: Django attaches the whole request to some records, and its headers and cookies
must never reach a log.

What is written is scrubbed first (`redact`): bearer and API tokens, `password=`/`token=`/
cookie-style pairs, passwords in URLs, an OpenID Connect answer's code, the
desk's own secrets (SECRET_KEY, mail password, metrics token, webhook keys, the single
sign-on client secret) and anything that looks like a signed link's token (a long
run of base64 characters mixing digits and both cases) become `[redacted]`. The same
scrubbing applies to the traceback, whose lines can quote values.

This module is loaded by `logging.config` before the apps, so it imports no models.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime

# The id of the request being served, set by the request middleware (`caseloop.web.ops`)
# and cleared when the response is finished.
request_id: ContextVar[str | None] = ContextVar("caseloop_request_id", default=None)

REDACTED = "[redacted]"

_SECRET_NAMES = (
    r"password|passwd|pwd|secret|secret_key|token|api_key|apikey|access_token|"
    r"refresh_token|sessionid|csrftoken|csrfmiddlewaretoken|cookie|authorization|signature"
)
_PAIR = re.compile(
    rf"""(?P<name>["']?\b[\w\-]*(?:{_SECRET_NAMES})[\w\-]*["']?\s*[=:]\s*)"""
    r"""(?P<value>(?:(?:Bearer|Basic|Token)\s+)?(?:"[^"]*"|'[^']*'|[^\s,;&'"}\]]+))""",
    re.IGNORECASE,
)


def _pair_redact(match: re.Match[str]) -> str:
    value = match.group("value")
    quote = value[0] if value[0] in "\"'" else ""
    return f"{match.group('name')}{quote}{REDACTED}{quote}"


_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A bearer token wherever it is quoted (in a header's own line, the pair rule took it).
    (
        re.compile(r"\b(Bearer)\s+(?!\[redacted\])[^\s'\",;]+", re.IGNORECASE),
        rf"\1 {REDACTED}",
    ),
    # The desk's API tokens (`cl_…`).
    (re.compile(r"\bcl_[A-Za-z0-9_\-]{8,}"), f"cl_{REDACTED}"),
    # An OpenID Connect answer's code in a logged URL (the sign-in callback).
    (
        re.compile(r"([?&](?:code|id_token)=)[^&\s'\"]+", re.IGNORECASE),
        rf"\1{REDACTED}",
    ),
    # user:password@ in URLs (DATABASE_URL, REDIS_URL, SMTP).
    (
        re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^/\s:@]*):[^@\s/]+@", re.IGNORECASE),
        rf"\1:{REDACTED}@",
    ),
)
# A signed link's token, a CSRF token, a key: long, base64-like, digits and both cases.
_LONG_TOKEN = re.compile(r"[A-Za-z0-9_\-.:]{40,}")


def _looks_secret(word: str) -> bool:
    return (
        any(c.isdigit() for c in word)
        and any(c.islower() for c in word)
        and any(c.isupper() for c in word)
    )


def _configured_secrets() -> list[str]:
    """The values of the desk's secret settings, longest first (read lazily: logging is
    configured before settings are all there)."""
    try:
        from django.conf import settings

        values = [
            str(getattr(settings, "SECRET_KEY", "") or ""),
            str(getattr(settings, "EMAIL_HOST_PASSWORD", "") or ""),
            str(getattr(settings, "METRICS_TOKEN", "") or ""),
            str(getattr(settings, "OIDC_CLIENT_SECRET", "") or ""),
            *(
                str(value or "")
                for key, value in (getattr(settings, "ANYMAIL", {}) or {}).items()
                if "KEY" in key or "SECRET" in key
            ),
        ]
    except Exception:  # noqa: BLE001 - settings not configured: nothing of theirs to hide
        return []
    return sorted((v for v in values if len(v) >= 6), key=len, reverse=True)


def redact(text: str) -> str:
    """`text` with every secret this module knows how to recognise replaced."""
    for secret in _configured_secrets():
        text = text.replace(secret, REDACTED)
    # name=value, name: value, "name": "value" for names that hold secrets.
    text = _PAIR.sub(_pair_redact, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _LONG_TOKEN.sub(
        lambda match: REDACTED if _looks_secret(match.group(0)) else match.group(0), text
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside values are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        current = request_id.get()
        if current:
            entry["request_id"] = current
        status_code = getattr(record, "status_code", None)
        if isinstance(status_code, int):
            entry["status_code"] = status_code
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)
