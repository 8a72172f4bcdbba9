"""The email pipeline: raw bytes → parse → dedupe → thread → store, whichever way the mail
arrived (SMTP gateway, IMAP polling, provider webhook). Writes for mailboxes.

`email_ingest` never loses a message: what cannot become a case is quarantined raw, with
the reason. `email_receive` is the same pipeline raising instead, for quarantine retries.

Dedupe: a Message-ID seen before with the same content (sender, subject, text, HTML,
attachments) is a re-delivery and creates nothing; with different content (a broken sender
reusing ids) the message is kept under the id plus its content digest. A message over the
caps on MIME parts or attachments is filed with what fits, and kept whole in quarantine.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from caseloop.cases.errors import CaseError
from caseloop.cases.models import Message
from caseloop.cases.services import message_delivery_mark
from caseloop.channels.base import InboundMessage
from caseloop.channels.intake import (
    IntakeRejected,
    IntakeResult,
    inbound_quarantine,
    inbound_receive,
)
from caseloop.channels.models import InboundReceipt, QuarantinedMessage
from caseloop.lib.errors import DomainError, ErrorKind
from caseloop.lib.text import text_clean

from .models import EmailThread, Mailbox, url_redact
from .parser import EmailUnparsable, ParsedEmail, email_parse, raw_from_text, raw_to_text
from .tokens import address_base, reply_token_verify, subject_reference

logger = logging.getLogger(__name__)

CHANNEL = "email"


class EmailRejected(IntakeRejected):
    """This email cannot become a case; the message says why."""

    code = "email_rejected"


class MailboxInvalid(DomainError, ValueError):
    code = "mailbox_invalid"
    kind = ErrorKind.INVALID


@dataclass(frozen=True)
class IngestOutcome:
    result: IntakeResult | None = None
    quarantined: QuarantinedMessage | None = None

    @property
    def stored(self) -> bool:
        return self.result is not None or self.quarantined is not None


def mailbox_for_address(address: str) -> Mailbox | None:
    """The active mailbox an address (or its plus-address) belongs to."""
    base = address_base(text_clean(address or ""))
    if "@" not in base:
        return None
    return Mailbox.objects.filter(address=base, is_active=True).first()


def _mailbox_for(parsed: ParsedEmail, envelope: list[str]) -> Mailbox | None:
    candidates = [address_base(a) for a in [*envelope, *parsed.recipients] if "@" in a]
    if not candidates:
        return None
    found = {m.address: m for m in Mailbox.objects.filter(address__in=candidates, is_active=True)}
    for address in candidates:
        if address in found:
            return found[address]
    return None


def _reply_reference(parsed: ParsedEmail, envelope: list[str]) -> tuple[str, bool]:
    """(case reference, verified) from a reply token, else the subject tag (unverified)."""
    tampered = ""
    for address in [*envelope, *parsed.recipients]:
        token = reply_token_verify(address)
        if token is None:
            continue
        reference, verified = token
        if verified:
            return reference, True
        tampered = reference
    if tampered:
        logger.info("reply token with a bad signature for %s; not trusted", tampered)
    return subject_reference(parsed.subject), False


def _bounce_record(parsed: ParsedEmail) -> list[int]:
    """Mark our outbound messages a bounce names as failed; returns their ids."""
    bounce = parsed.bounce
    if bounce is None or not bounce.original_ids:
        return []
    sent = list(
        Message.objects.filter(
            external_id__in=bounce.original_ids, direction=Message.Direction.OUTBOUND
        ).values_list("pk", "delivery_status")
    )
    if bounce.is_failure:
        detail = " ".join(
            part
            for part in (bounce.status, bounce.diagnostic, ", ".join(bounce.failed_recipients))
            if part
        )
        for pk, status in sent:
            if status != Message.Delivery.FAILED:
                message_delivery_mark(
                    message_id=pk,
                    status=Message.Delivery.FAILED,
                    error=f"bounced: {detail or 'delivery failed'}"[:2000],
                )
    return [pk for pk, _ in sent]


def content_digest(parsed: ParsedEmail) -> str:
    """SHA-256 of what a message says: sender, subject, text, HTML and attachments — the
    same for every delivery of one message, whatever headers the relays added."""
    digest = hashlib.sha256()
    for value in (parsed.from_email, parsed.subject, parsed.text, parsed.html):
        digest.update(value.encode("utf-8", "surrogatepass") + b"\x00")
    for upload in parsed.attachments:
        digest.update(upload.filename.encode("utf-8", "surrogatepass") + b"\x00")
        digest.update(hashlib.sha256(upload.content).digest())
    return digest.hexdigest()


def _stored_digest(message: Message) -> str:
    """The content digest of a stored email message (recomputed from its raw for messages
    stored before digests were kept)."""
    email_data = (message.metadata or {}).get("email") or {}
    if email_data.get("content_sha256"):
        return str(email_data["content_sha256"])
    try:
        raw = raw_from_text(message.raw, email_data.get("raw_encoding") or "utf-8")
        return content_digest(email_parse(raw))
    except (EmailUnparsable, ValueError, UnicodeError):
        return ""


def _external_id(parsed: ParsedEmail, digest: str) -> str:
    """The Message-ID, unless an earlier message with different content came with it: then
    the id and the digest, so this one is kept too and its own re-deliveries still dedupe."""
    earlier = (
        InboundReceipt.objects.filter(channel=CHANNEL, external_id=parsed.message_id[:500])
        .select_related("message")
        .first()
    )
    if earlier is None or _stored_digest(earlier.message) in ("", digest):
        return parsed.message_id
    return f"{parsed.message_id[:470]}#{digest[:24]}"


def _metadata(parsed: ParsedEmail, *, mailbox: Mailbox | None, source: str, envelope, enc: str):
    data: dict[str, Any] = {
        "message_id": parsed.message_id,
        "content_sha256": content_digest(parsed),
        "from": parsed.from_email,
        "to": parsed.to[:20],
        "cc": parsed.cc[:20],
        "date": parsed.date,
        "in_reply_to": parsed.in_reply_to[:5],
        "references": parsed.references[-20:],
        "source": source,
        "mailbox": mailbox.pk if mailbox else None,
        "envelope_recipients": list(envelope)[:20],
        "raw_encoding": enc,
    }
    if parsed.new_text != parsed.text.strip():
        data["full_text"] = parsed.text
    if parsed.auto_reply_reason:
        data["auto_reply_reason"] = parsed.auto_reply_reason
    if parsed.bounce is not None:
        data["bounce"] = {
            "status": parsed.bounce.status,
            "action": parsed.bounce.action,
            "diagnostic": parsed.bounce.diagnostic[:500],
            "original_ids": parsed.bounce.original_ids[:5],
        }
    if parsed.defects:
        data["defects"] = parsed.defects
    if parsed.left_out:
        data["left_out"] = parsed.left_out
    return {"email": data}


def email_receive(
    *,
    raw: bytes,
    source: str = "",
    mailbox: Mailbox | None = None,
    envelope_recipients: list[str] | tuple[str, ...] = (),
    allow_unmatched_bounce: bool = False,
) -> IntakeResult:
    """Run one raw email through the pipeline: parse, dedupe by Message-ID, thread by
    In-Reply-To/References and reply token, store. Raises EmailRejected with the reason.

    Side effects: those of `inbound_receive` (case, message, events, acknowledgement after
    commit — never for auto-replies); outbound messages a bounce names are marked failed;
    the case remembers the mailbox it came in on."""
    try:
        parsed = email_parse(raw)
    except EmailUnparsable as exc:
        raise EmailRejected(f"unparsable: {exc}") from exc
    envelope = [a.lower() for a in envelope_recipients]
    if not parsed.from_email:
        raise EmailRejected("no usable sender address (From)")
    try:
        validate_email(parsed.from_email)
    except ValidationError as exc:
        raise EmailRejected(f"the sender address {parsed.from_email!r} is not valid") from exc
    mailbox = mailbox or _mailbox_for(parsed, envelope)
    if Mailbox.objects.filter(address=address_base(parsed.from_email)).exists():
        raise EmailRejected("sent from one of our own mailboxes (mail loop guard)")
    text_raw, encoding = raw_to_text(raw)
    try:
        return _store(
            parsed=parsed,
            raw=raw,
            raw_text=text_raw,
            encoding=encoding,
            source=source,
            mailbox=mailbox,
            envelope=envelope,
            allow_unmatched_bounce=allow_unmatched_bounce,
        )
    except CaseError as exc:
        # e.g. an attachment over the size limit: a clear reason, the raw mail kept
        raise EmailRejected(str(exc)) from exc


@transaction.atomic
def _store(
    *,
    parsed: ParsedEmail,
    raw: bytes,
    raw_text: str,
    encoding: str,
    source: str,
    mailbox: Mailbox | None,
    envelope: list[str],
    allow_unmatched_bounce: bool,
) -> IntakeResult:
    bounced = _bounce_record(parsed)
    if parsed.bounce is not None and not bounced and not allow_unmatched_bounce:
        raise EmailRejected("a delivery status notification that matches no message we sent")
    reference, verified = _reply_reference(parsed, envelope)
    thread_ids = parsed.thread_ids
    if parsed.bounce is not None:
        thread_ids = [*parsed.bounce.original_ids, *thread_ids]
    metadata = _metadata(parsed, mailbox=mailbox, source=source, envelope=envelope, enc=encoding)
    if verified:
        metadata["reference_verified"] = True
    inbound = InboundMessage(
        channel=CHANNEL,
        text=parsed.new_text,
        html=parsed.html,
        subject=parsed.subject,
        email=parsed.from_email,
        name=parsed.from_name,
        raw=raw_text,
        external_id=_external_id(parsed, metadata["email"]["content_sha256"]),
        thread_ids=thread_ids,
        case_reference=reference,
        attachments=parsed.attachments,
        metadata=metadata,
        is_auto_reply=parsed.is_auto_reply,
    )
    if not (inbound.text or inbound.html or inbound.attachments):
        inbound.text = "(empty message)"
    result = inbound_receive(inbound)
    if not result.duplicate:
        EmailThread.objects.get_or_create(case=result.case, defaults={"mailbox": mailbox})
        if parsed.left_out:
            _left_out_keep(
                result=result, raw=raw, left_out=parsed.left_out, source=source, mailbox=mailbox
            )
    return result


def _left_out_keep(
    *, result: IntakeResult, raw: bytes, left_out: str, source: str, mailbox: Mailbox | None
) -> None:
    """Quarantine the whole message the caps trimmed, linked to its case, and note on the
    stored message what was left out and where the whole is."""
    item = inbound_quarantine(
        channel=CHANNEL,
        raw=raw,
        reason=f"{left_out}; filed on {result.case.reference} with what fits, "
        "the whole message is kept here",
        source=source,
        metadata={"mailbox": mailbox.pk if mailbox else None, "message": result.message.pk},
        case=result.case,
    )
    message = result.message
    message.metadata.setdefault("email", {})["left_out_quarantine"] = item.pk
    message.save(update_fields=["metadata"])


def email_ingest(
    *,
    raw: bytes,
    source: str = "",
    mailbox: Mailbox | None = None,
    envelope_recipients: list[str] | tuple[str, ...] = (),
) -> IngestOutcome:
    """`email_receive`, quarantining instead of raising: the message is always stored.
    Side effects: those of `email_receive`, or a quarantine record with the reason."""
    meta = {
        "mailbox": mailbox.pk if mailbox else None,
        "envelope_recipients": list(envelope_recipients)[:20],
    }
    try:
        return IngestOutcome(
            result=email_receive(
                raw=raw, source=source, mailbox=mailbox, envelope_recipients=envelope_recipients
            )
        )
    except IntakeRejected as exc:
        reason = str(exc)
    except Exception as exc:  # noqa: BLE001 - anything unexpected is quarantined, not lost
        logger.exception("email intake failed for a message from %s", source or "?")
        reason = f"intake failed: {exc.__class__.__name__}: {exc}"[:2000]
    return IngestOutcome(
        quarantined=inbound_quarantine(
            channel=CHANNEL, raw=raw, reason=reason, source=source, metadata=meta
        )
    )


def email_retry(*, raw: bytes, metadata: dict) -> IntakeResult:
    """Re-run a quarantined email; an admin retrying it accepts unmatched bounces too."""
    mailbox = None
    if metadata.get("mailbox"):
        mailbox = Mailbox.objects.filter(pk=metadata["mailbox"]).first()
    try:
        return email_receive(
            raw=raw,
            source="quarantine retry",
            mailbox=mailbox,
            envelope_recipients=metadata.get("envelope_recipients") or (),
            allow_unmatched_bounce=True,
        )
    except IntakeRejected:
        raise
    except Exception as exc:  # noqa: BLE001 - reported on the quarantine record
        logger.exception("retrying a quarantined email failed")
        raise EmailRejected(f"intake failed: {exc.__class__.__name__}: {exc}"[:2000]) from exc


def imap_url_parse(url: str) -> dict:
    """Split an IMAP URL into connection settings; raises MailboxInvalid with the reason."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise MailboxInvalid(f"the IMAP URL {url_redact(url)!r} is not valid") from exc
    if parts.scheme not in ("imap", "imaps"):
        raise MailboxInvalid("the IMAP URL must start with imap:// or imaps://")
    if not parts.hostname or not parts.username:
        raise MailboxInvalid("the IMAP URL needs a user and a host: imaps://user:pass@host/INBOX")
    return {
        "ssl": parts.scheme == "imaps",
        "host": parts.hostname,
        "port": port or (993 if parts.scheme == "imaps" else 143),
        "user": unquote(parts.username),
        "password": unquote(parts.password or ""),
        "folder": unquote(parts.path.lstrip("/")),
    }


@transaction.atomic
def mailbox_add(
    *,
    address: str,
    display_name: str = "",
    imap_url: str = "",
    after_processing: str = Mailbox.AfterProcessing.FLAG,
    processed_folder: str = "",
) -> Mailbox:
    """Create (or update) the mailbox for `address`. Raises MailboxInvalid."""
    address = (address or "").strip().lower()
    try:
        validate_email(address)
    except ValidationError as exc:
        raise MailboxInvalid(f"{address!r} is not a valid email address") from exc
    if "+" in address.partition("@")[0]:
        raise MailboxInvalid("a mailbox address cannot contain '+': plus-addresses are tokens")
    if after_processing not in Mailbox.AfterProcessing.values:
        raise MailboxInvalid(f"after_processing must be one of {Mailbox.AfterProcessing.values}")
    folder = "INBOX"
    if imap_url:
        folder = imap_url_parse(imap_url)["folder"] or "INBOX"
    mailbox, _ = Mailbox.objects.update_or_create(
        address=address,
        defaults={
            "display_name": display_name,
            "imap_url": imap_url,
            "imap_folder": folder,
            "after_processing": after_processing,
            "is_active": True,
            **({"processed_folder": processed_folder} if processed_folder else {}),
        },
    )
    return mailbox
