"""Raw RFC 5322 / MIME bytes → one `ParsedEmail`, with the standard library's parser.

Real mail is messy: broken headers, unknown charsets, odd transfer encodings. Every access
here falls back to something readable instead of raising; only input with no headers at
all is refused (`EmailUnparsable`).
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from typing import cast

from django.conf import settings

from caseloop.cases.services import AttachmentUpload
from caseloop.lib.errors import DomainError, ErrorKind
from caseloop.lib.html import html_to_text

from .quotes import reply_split


class EmailUnparsable(DomainError, ValueError):
    """The bytes are not an email message we can read; the message says why."""

    code = "email_unparsable"
    kind = ErrorKind.MALFORMED


@dataclass
class Bounce:
    """What a delivery status notification says about a message we sent."""

    original_ids: list[str] = field(default_factory=list)
    failed_recipients: list[str] = field(default_factory=list)
    status: str = ""
    diagnostic: str = ""
    action: str = ""

    @property
    def is_failure(self) -> bool:
        return self.action in ("", "failed") and not self.status.startswith(("2", "4"))


@dataclass
class ParsedEmail:
    message_id: str
    subject: str
    from_name: str
    from_email: str
    to: list[str]
    cc: list[str]
    delivered_to: list[str]
    reply_to: str
    date: str
    text: str
    new_text: str
    html: str
    in_reply_to: list[str]
    references: list[str]
    attachments: list[AttachmentUpload]
    auto_reply_reason: str = ""
    bounce: Bounce | None = None
    defects: list[str] = field(default_factory=list)
    # What the caps on MIME parts and attachments kept out of `text`/`attachments`, in
    # words ("" when nothing was left out).
    left_out: str = ""

    @property
    def is_auto_reply(self) -> bool:
        return bool(self.auto_reply_reason)

    @property
    def thread_ids(self) -> list[str]:
        """Ids of earlier messages this one answers, nearest first."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid and mid not in seen:
                seen.append(mid)
        return seen

    @property
    def recipients(self) -> list[str]:
        return [*self.delivered_to, *self.to, *self.cc]


_ID_RE = re.compile(r"<([^<>\s]+)>")


def message_ids(value: str) -> list[str]:
    """Message ids in a header value, bare (without angle brackets)."""
    found = _ID_RE.findall(value or "")
    if not found and value and value.strip() and " " not in value.strip():
        found = [value.strip().strip("<>")]
    return [mid.strip() for mid in found if mid.strip()]


def message_id_of_bytes(raw: bytes) -> str:
    """A stable stand-in id for a message without a Message-ID: the same bytes, the same id."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _decode_words(value: str) -> str:
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, UnicodeError, ValueError, TypeError):
        return value


# Mailers label Windows-1252 text as ISO-8859-1; its C1 controls then mean cp1252 punctuation.
_C1_AS_CP1252 = {
    code: bytes([code]).decode("cp1252", errors="ignore") or None for code in range(0x80, 0xA0)
}


def _clean_header_text(value: str) -> str:
    value = value.replace("\x00", "").translate(_C1_AS_CP1252)
    return re.sub(r"\s+", " ", value).strip()


def header(msg: Message, name: str) -> str:
    """A header's value as text; malformed values come back as their best decoded reading."""
    try:
        value = msg.get(name)
        if value is None:
            return ""
        return _clean_header_text(str(value))
    except Exception:  # noqa: BLE001 - a malformed header must not lose the message
        for key, raw_value in msg.raw_items():
            if key.lower() == name.lower():
                return _clean_header_text(_decode_words(str(raw_value)))
        return ""


def header_all(msg: Message, name: str) -> list[str]:
    values = []
    try:
        values = [str(v) for v in (msg.get_all(name) or [])]
    except Exception:  # noqa: BLE001
        values = [_decode_words(str(v)) for k, v in msg.raw_items() if k.lower() == name.lower()]
    return [_clean_header_text(v) for v in values]


def addresses(values: list[str]) -> list[str]:
    result = []
    for _name, addr in getaddresses(values):
        addr = addr.strip().strip("<>").lower()
        if "@" in addr and addr not in result:
            result.append(addr)
    return result


def _charset_decode(payload: bytes, charset: str | None) -> str:
    """Bytes → text with the declared charset, falling back to UTF-8 then Latin-1 (which
    never fails) for unknown or wrong charsets such as X-UNKNOWN."""
    candidates = []
    if charset and charset.strip().strip('"').lower() in (
        "iso-8859-1",
        "latin-1",
        "latin1",
        "us-ascii",
    ):
        charset = "cp1252"  # a superset that browsers and mail readers apply the same way
    if charset:
        with contextlib.suppress(LookupError):
            candidates.append(codecs.lookup(charset.strip().strip('"')).name)
    candidates += ["utf-8", "cp1252", "latin-1"]
    for name in candidates:
        try:
            return payload.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return payload.decode("latin-1", errors="replace")


def part_text(part: Message) -> str:
    """The decoded text of a text/* part, whatever its charset or transfer encoding."""
    try:
        payload = cast("bytes | None", part.get_payload(decode=True))
    except Exception:  # noqa: BLE001
        payload = None
    if payload is None:
        raw = part.get_payload()
        if isinstance(raw, str):
            return raw
        return ""
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001
        charset = None
    return _charset_decode(payload, charset).replace("\x00", "")


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:  # noqa: BLE001
        return ""


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001
        name = ""
    return _clean_header_text(_decode_words(name))


def _walk(part: Message):
    """Leaf parts, not descending into attached messages (they stay whole attachments)."""
    if part.is_multipart():
        payload = part.get_payload()
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, Message):
                    yield from _walk(sub)
        return
    yield part


_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "application/pdf": ".pdf",
    "message/rfc822": ".eml",
    "text/plain": ".txt",
    "text/html": ".html",
}


def _attachment_bytes(part: Message) -> bytes:
    if _content_type(part) == "message/rfc822" or part.is_multipart():
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(inner, Message):
            try:
                return inner.as_bytes(policy=policy.SMTP.clone(max_line_length=0))
            except Exception:  # noqa: BLE001
                return str(inner).encode("utf-8", "replace")
    try:
        data = cast("bytes | None", part.get_payload(decode=True))
    except Exception:  # noqa: BLE001
        data = None
    if data is None:
        raw = part.get_payload()
        data = raw.encode("utf-8", "replace") if isinstance(raw, str) else b""
    return data


@dataclass(frozen=True)
class _Caps:
    max_parts: int
    max_attachments: int


def _bodies_and_attachments(
    msg: Message, caps: _Caps
) -> tuple[str, str, list[AttachmentUpload], int, bool]:
    """Text, HTML and attachments of the first `caps.max_parts` MIME parts, with at most
    `caps.max_attachments` attachments; how many attachments those parts hold, and whether
    parts were left unread."""
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[AttachmentUpload] = []
    found = 0
    leaves: list[Message] = []
    stack = [msg]
    read = 0
    while stack and read < caps.max_parts:
        part = stack.pop(0)
        read += 1
        ctype = _content_type(part)
        if ctype == "message/rfc822" or (
            ctype.startswith("message/") and part.is_multipart() and ctype != "message/partial"
        ):
            leaves.append(part)
        elif part.is_multipart():
            payload = part.get_payload()
            if ctype == "multipart/alternative" and isinstance(payload, list):
                # One rendering of the body: the last plain and the last HTML alternative.
                # (A multipart payload is a list of messages.)
                alternatives = cast("list[Message]", payload)
                plain = [p for p in alternatives if _content_type(p) == "text/plain"]
                rich = [p for p in alternatives if _content_type(p) == "text/html"]
                others = [p for p in alternatives if p not in plain and p not in rich]
                leaves += plain[-1:] + rich[-1:]
                stack = others + stack
            elif isinstance(payload, list):
                stack = [p for p in payload if isinstance(p, Message)] + stack
        else:
            leaves.append(part)
    for index, part in enumerate(leaves, start=1):
        ctype = _content_type(part)
        disposition = _disposition(part)
        filename = _filename(part)
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            (texts if ctype == "text/plain" else htmls).append(part_text(part))
            continue
        if ctype in ("message/delivery-status", "text/rfc822-headers") and not filename:
            continue
        found += 1
        if len(attachments) >= caps.max_attachments:
            continue
        content = _attachment_bytes(part)
        content_id = header(part, "Content-ID").strip().strip("<>")
        if not filename:
            filename = f"attachment-{index}{_EXTENSIONS.get(ctype, '.bin')}"
        attachments.append(
            AttachmentUpload(
                filename=filename[:255],
                content=content,
                content_type=ctype,
                content_id=content_id[:255],
            )
        )
    text = "\n\n".join(t.strip("\n") for t in texts if t.strip())
    html = "\n".join(h for h in htmls if h.strip())
    return text, html, attachments, found, bool(stack)


_BOUNDARY_PARAM = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.I)


def _parts_trim(raw: bytes, max_parts: int) -> tuple[bytes, int]:
    """`raw` cut before the delimiter line that would open part number `max_parts + 1`,
    and how many parts the whole holds — or (`raw`, 0) when it holds no more than allowed.
    Found with two regular expressions, without parsing: the standard library's parser
    spends about a millisecond on every part, so a small message of thousands of empty
    parts must not reach it whole."""
    boundaries: list[bytes] = []
    for found in _BOUNDARY_PARAM.finditer(raw):
        boundary = found.group(1) or found.group(2)
        if boundary not in boundaries:
            boundaries.append(boundary)
            if len(boundaries) > max_parts:
                break
    if not boundaries:
        return raw, 0
    alternatives = b"|".join(re.escape(b) for b in sorted(boundaries, key=len, reverse=True))
    opening = re.compile(rb"^--(?:" + alternatives + rb")[ \t]*\r?$", re.MULTILINE)
    starts = [found.start() for found in opening.finditer(raw)]
    parts = 1 + len(starts)  # the message itself, and one part after each opening delimiter
    if parts <= max_parts:
        return raw, 0
    return raw[: starts[max_parts - 1]], parts


def _left_out(*, parts: int, parts_cut: bool, attachments: int, caps: _Caps) -> str:
    """What the caps kept out, in words, for the quarantine reason and the message's note."""
    notes = []
    if parts_cut:
        notes.append(f"{parts} MIME parts, more than the {caps.max_parts} allowed")
    if attachments > caps.max_attachments:
        counted = "at least " if parts_cut else ""
        notes.append(
            f"{counted}{attachments} attachments, more than the {caps.max_attachments} allowed"
        )
    return "; ".join(notes)


_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|abwesenheit|"
    r"undeliver(able|ed)|delivery (status notification|failure|has failed)|"
    r"mail delivery (failed|failure|system)|returned mail|failure notice|"
    r"r[ée]ponse automatique|absence)\b",
    re.IGNORECASE,
)
_DAEMON_LOCAL = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)$", re.IGNORECASE)


def _auto_reply_reason(msg: Message, from_email: str, subject: str) -> str:
    auto_submitted = header(msg, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = header(msg, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autogenerated", "X-AutoReply-From"):
        if header(msg, name):
            return f"{name} header"
    suppress = header(msg, "X-Auto-Response-Suppress").lower()
    if any(word in suppress for word in ("all", "oof", "autoreply")):
        return f"X-Auto-Response-Suppress: {suppress}"
    ctype = _content_type(msg)
    if ctype == "multipart/report":
        return f"multipart/report ({msg.get_param('report-type') or 'report'})"
    if header(msg, "List-Id") or header(msg, "List-Unsubscribe"):
        return "mailing list message (List-Id/List-Unsubscribe)"
    local = from_email.partition("@")[0]
    if _DAEMON_LOCAL.match(local):
        return f"sent by {local.lower()}"
    if header(msg, "Return-Path").strip() == "<>":
        return "empty Return-Path (a bounce)"
    if _AUTO_SUBJECT.match(subject or ""):
        return "automatic reply subject"
    return ""


_STATUS_RE = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_BODY_MSGID_RE = re.compile(r"^\s*Message-ID:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)


def _dsn_fields(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    text = payload if isinstance(payload, str) else part_text(part)
    blocks = re.split(r"\r?\n\s*\r?\n", text.strip())
    parser = BytesParser(policy=policy.compat32)
    return [parser.parsebytes(block.encode("utf-8", "replace") + b"\n\n") for block in blocks]


def _bounce(msg: Message, auto_reason: str, text: str) -> Bounce | None:
    """Read a bounce: the standard multipart/report, or a daemon's plain-text notice."""
    is_report = _content_type(msg) == "multipart/report"
    if not is_report and not auto_reason.startswith(("sent by", "empty Return-Path")):
        return None
    bounce = Bounce()
    for part in _walk_all(msg):
        ctype = _content_type(part)
        if ctype == "message/delivery-status":
            for block in _dsn_fields(part):
                action = header(block, "Action").lower()
                status = header(block, "Status")
                recipient = header(block, "Final-Recipient") or header(block, "Original-Recipient")
                if action:
                    bounce.action = bounce.action or action
                if status:
                    bounce.status = bounce.status or status
                diag = header(block, "Diagnostic-Code")
                if diag:
                    bounce.diagnostic = bounce.diagnostic or diag
                if recipient and action in ("failed", ""):
                    addr = recipient.partition(";")[2].strip() or recipient
                    bounce.failed_recipients.append(addr.strip("<> ").lower())
        elif ctype in ("message/rfc822", "text/rfc822-headers"):
            inner = _embedded_headers(part)
            if inner is not None:
                bounce.original_ids += message_ids(header(inner, "Message-ID"))
    if not bounce.original_ids:
        bounce.original_ids = [mid.strip("<>") for mid in _BODY_MSGID_RE.findall(text)]
    if not bounce.status:
        found = _STATUS_RE.search(text)
        bounce.status = found.group(1) if found else ""
    report_type = msg.get_param("report-type")
    if (
        is_report
        and (report_type if isinstance(report_type, str) else "").lower() != "delivery-status"
    ):
        return None
    return bounce


def _walk_all(msg: Message):
    stack = [msg]
    while stack:
        part = stack.pop(0)
        yield part
        if part.is_multipart() and _content_type(part) not in (
            "message/rfc822",
            "message/delivery-status",
        ):
            payload = part.get_payload()
            if isinstance(payload, list):
                stack = [p for p in payload if isinstance(p, Message)] + stack


def _embedded_headers(part: Message) -> Message | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    text = payload if isinstance(payload, str) else part_text(part)
    if not text:
        return None
    return BytesParser(policy=policy.default).parsebytes(
        text.encode("utf-8", "replace"), headersonly=True
    )


def email_parse(
    raw: bytes, *, max_parts: int | None = None, max_attachments: int | None = None
) -> ParsedEmail:
    """Parse raw message bytes. Raises EmailUnparsable when there is nothing to read.

    Reads at most `max_parts` MIME parts and keeps at most `max_attachments` attachments
    (by default settings.MAX_MIME_PARTS and MAX_ATTACHMENTS_PER_MESSAGE); `left_out` says
    what that kept out."""
    caps = _Caps(
        max_parts=max(1, settings.MAX_MIME_PARTS if max_parts is None else max_parts),
        max_attachments=(
            settings.MAX_ATTACHMENTS_PER_MESSAGE if max_attachments is None else max_attachments
        ),
    )
    if not raw or not raw.strip():
        raise EmailUnparsable("the message is empty")
    readable, parts_counted = _parts_trim(raw, caps.max_parts)
    try:
        msg = BytesParser(policy=policy.default).parsebytes(readable)
    except Exception as exc:  # noqa: BLE001 - the parser itself gave up
        raise EmailUnparsable(f"the MIME parser failed: {exc.__class__.__name__}") from exc
    if not list(msg.raw_items()):
        raise EmailUnparsable("no headers: this is not an email message")
    assert isinstance(msg, EmailMessage | Message)
    subject = header(msg, "Subject")
    from_values = header_all(msg, "From") or header_all(msg, "Sender")
    from_name, from_email = "", ""
    for value in from_values:
        name, addr = parseaddr(value)
        addr = addr.strip().strip("<>").lower()
        if "@" in addr:
            from_name, from_email = _clean_header_text(_decode_words(name)), addr
            break
    message_id = (message_ids(header(msg, "Message-ID")) or [""])[0]
    if not message_id:
        message_id = message_id_of_bytes(raw)
    try:
        text, html, attachments, found, parts_cut = _bodies_and_attachments(msg, caps)
    except Exception as exc:  # noqa: BLE001
        raise EmailUnparsable(f"the MIME structure is unreadable: {exc}") from exc
    full_text = text or html_to_text(html)
    auto_reason = _auto_reply_reason(msg, from_email, subject)
    parts = list(_walk_all(msg))
    defects = sorted({d.__class__.__name__ for part in parts for d in part.defects})
    return ParsedEmail(
        message_id=message_id[:900],
        subject=subject[:300],
        from_name=from_name[:200],
        from_email=from_email[:320],
        to=addresses(header_all(msg, "To")),
        cc=addresses(header_all(msg, "Cc")),
        delivered_to=addresses(header_all(msg, "Delivered-To") + header_all(msg, "X-Original-To")),
        reply_to=(addresses(header_all(msg, "Reply-To")) or [""])[0],
        date=header(msg, "Date"),
        text=full_text,
        new_text=reply_split(full_text),
        html=html,
        in_reply_to=message_ids(header(msg, "In-Reply-To")),
        references=message_ids(header(msg, "References")),
        attachments=attachments,
        auto_reply_reason=auto_reason,
        bounce=_bounce(msg, auto_reason, full_text),
        defects=defects,
        left_out=_left_out(
            parts=parts_counted or len(parts),
            parts_cut=bool(parts_counted) or parts_cut,
            attachments=found,
            caps=caps,
        ),
    )


def raw_to_text(raw: bytes) -> tuple[str, str]:
    """Raw bytes in a form a text column keeps exactly: (text, encoding). UTF-8 as is,
    other 8-bit mail as Latin-1 (a lossless byte mapping), NUL bytes as base64."""
    if b"\x00" in raw:
        return base64.b64encode(raw).decode("ascii"), "base64"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def raw_from_text(text: str, encoding: str) -> bytes:
    if encoding == "base64":
        return base64.b64decode(text)
    return text.encode(encoding or "utf-8", errors="surrogateescape")
