"""Build realistic raw emails for the tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

_seq = itertools.count(1)


def make_email(
    *,
    sender: str = "Ann Lee <ann@example.com>",
    to: str = "support@desk.test",
    subject: str = "My kettle arrived broken",
    text: str = "Hello,\n\nThe kettle I ordered arrived with a cracked lid.\n\nAnn",
    html: str | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict | None = None,
    attachments: list[tuple[str, bytes, str]] = (),
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 11, 23, 9, next(_seq) % 60, tzinfo=UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="example.com")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, content, ctype in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()
