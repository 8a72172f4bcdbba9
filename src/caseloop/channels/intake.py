"""The one intake service. Every channel adapter builds an `InboundMessage` and calls
`inbound_receive`; it resolves the customer, ignores duplicate deliveries, threads the
message onto its case or opens a new one through `case_create`.

`inbound_quarantine` keeps what could not be parsed or placed, raw, with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import cast

from django.db import transaction

from caseloop.cases.models import Case, Message
from caseloop.cases.services import case_create, message_add
from caseloop.customers.errors import InvalidContactPoint
from caseloop.customers.services import Identity, customer_find_or_create
from caseloop.lib.errors import DomainError, ErrorKind
from caseloop.lib.idempotency import idempotent
from caseloop.lib.text import data_clean, text_clean

from .base import InboundMessage, quarantine_retrier_for
from .models import InboundReceipt, QuarantinedMessage

logger = logging.getLogger(__name__)


class IntakeRejected(DomainError):
    """The message cannot become a case; the reason says why. Callers quarantine it."""

    code = "intake_rejected"
    kind = ErrorKind.INVALID


@dataclass(frozen=True)
class IntakeResult:
    case: Case
    message: Message
    created: bool
    duplicate: bool = False


def _identity(inbound: InboundMessage) -> Identity:
    return Identity(
        email=inbound.email,
        phone=inbound.phone,
        chat=inbound.chat_id,
        social=inbound.social_handle,
        name=inbound.name,
    )


def _thread_case(*, inbound: InboundMessage, customer) -> Case | None:
    """The existing case this message continues, if any.

    A case reference alone only threads for the same customer (or when the adapter verified
    a signed reply token), so guessing a reference cannot write into someone else's case.
    """
    if inbound.case_reference:
        pk = Case.pk_from_reference(inbound.case_reference)
        case = Case.objects.filter(pk=pk).first() if pk else None
        if case and (case.customer_id == customer.pk or inbound.metadata.get("reference_verified")):
            return case
    thread_ids = [tid for tid in inbound.thread_ids if tid]
    if thread_ids:
        earlier = (
            Message.objects.filter(external_id__in=thread_ids)
            .select_related("case")
            .order_by("-id")
            .first()
        )
        if earlier is not None:
            return earlier.case
    return None


def inbound_receive(inbound: InboundMessage) -> IntakeResult:
    """Turn one inbound message into a case, or a message on its existing case.

    The same external id on the same channel is processed once; a repeat returns the first
    result with `duplicate=True`. Raises IntakeRejected when the sender cannot be identified.
    Side effects: those of `case_create` / `message_add` (events, hooks, acknowledgement).
    """
    inbound = _storable(inbound)
    seen = (
        InboundReceipt.objects.select_related("case", "message").filter(
            channel=inbound.channel, external_id=inbound.external_id[:500]
        )
        if inbound.external_id
        else None
    )
    return idempotent(seen=seen, replay=_replay, perform=lambda: _receive(inbound))


def _storable(inbound: InboundMessage) -> InboundMessage:
    """The message with every text as a database can keep it (no NUL, no lone surrogate):
    channels hand over what senders wrote, and no sender is there to be asked again."""
    return replace(
        inbound,
        text=text_clean(inbound.text),
        html=text_clean(inbound.html),
        subject=text_clean(inbound.subject),
        email=text_clean(inbound.email),
        phone=text_clean(inbound.phone),
        chat_id=text_clean(inbound.chat_id),
        social_handle=text_clean(inbound.social_handle),
        name=text_clean(inbound.name),
        raw=text_clean(inbound.raw),
        external_id=text_clean(inbound.external_id),
        case_reference=text_clean(inbound.case_reference),
        thread_ids=[text_clean(tid) for tid in inbound.thread_ids],
        attachments=[
            replace(
                upload,
                filename=text_clean(upload.filename),
                content_type=text_clean(upload.content_type),
                content_id=text_clean(upload.content_id),
            )
            for upload in inbound.attachments
        ],
        metadata=data_clean(inbound.metadata),
    )


def _replay(receipt: InboundReceipt) -> IntakeResult:
    return IntakeResult(case=receipt.case, message=receipt.message, created=False, duplicate=True)


def _receive(inbound: InboundMessage) -> IntakeResult:
    """The work of `inbound_receive`, inside its transaction; records the receipt."""
    try:
        identity = _identity(inbound)
        identity.contact_points()
    except InvalidContactPoint as exc:
        raise IntakeRejected(str(exc)) from exc
    if not (identity.email or identity.phone or identity.chat or identity.social):
        raise IntakeRejected("the sender left no email, phone, chat id or handle")
    customer = customer_find_or_create(identity=identity)
    case = _thread_case(inbound=inbound, customer=customer)
    metadata = (
        {**inbound.metadata, "auto_reply": inbound.is_auto_reply}
        if inbound.is_auto_reply
        else dict(inbound.metadata)
    )
    if case is None:
        case = case_create(
            customer=customer,
            subject=inbound.subject,
            text=inbound.text,
            html=inbound.html,
            channel=inbound.channel,
            raw=inbound.raw,
            external_id=inbound.external_id,
            metadata=metadata,
            attachments=inbound.attachments,
        )
        # case_create wrote the case's first message.
        message = cast(Message, case.messages.order_by("id").first())
        created = True
    else:
        message = message_add(
            case=case,
            direction=Message.Direction.INBOUND,
            channel=inbound.channel,
            text=inbound.text,
            html=inbound.html,
            raw=inbound.raw,
            external_id=inbound.external_id,
            metadata=metadata,
            attachments=inbound.attachments,
            author_customer=customer,
        )
        created = False
    if inbound.external_id:
        InboundReceipt.objects.create(
            channel=inbound.channel,
            external_id=inbound.external_id[:500],
            case=case,
            message=message,
        )
    return IntakeResult(case=case, message=message, created=created)


def inbound_quarantine(
    *,
    channel: str,
    raw: bytes | str,
    reason: str,
    source: str = "",
    metadata: dict | None = None,
    case: Case | None = None,
) -> QuarantinedMessage:
    """Keep input that could not become a case (or not whole: then `case` is the one it
    was filed on), raw, with the reason; never lose it."""
    if isinstance(raw, str):
        text = raw
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate that no undecodable byte became
            raw = text.encode("utf-8", "surrogatepass")
    reason, source = text_clean(reason), text_clean(source)
    logger.warning("quarantined %s input from %s: %s", channel, source or "?", reason)
    return QuarantinedMessage.objects.create(
        channel=channel,
        source=source[:200],
        reason=reason,
        raw=raw,
        metadata=data_clean(metadata or {}),
        case=case,
    )


class QuarantineNotRetryable(IntakeRejected):
    """The quarantined input cannot be retried (no pipeline for its channel, or discarded)."""

    code = "quarantine_not_retryable"
    kind = ErrorKind.CONFLICT


def quarantine_retry(*, quarantined_id: int) -> QuarantinedMessage:
    """Run a quarantined input through its channel's pipeline again. On success it is marked
    retried and linked to its case; on failure the attempt and the new reason are kept and
    IntakeRejected is raised. Side effects: those of the channel's pipeline."""
    with transaction.atomic():
        item = QuarantinedMessage.objects.select_for_update().get(pk=quarantined_id)
        if item.state != QuarantinedMessage.State.HELD:
            raise QuarantineNotRetryable(f"this record is already {item.state}")
        retrier = quarantine_retrier_for(item.channel)
        if retrier is None:
            raise QuarantineNotRetryable(f"no pipeline can retry '{item.channel}' input")
        item.attempts += 1
        try:
            with transaction.atomic():
                result = retrier(raw=bytes(item.raw), metadata=dict(item.metadata))
        except IntakeRejected as exc:
            item.reason = str(exc)
            item.save(update_fields=["attempts", "reason", "updated_at"])
            failure = exc
        else:
            item.state = QuarantinedMessage.State.RETRIED
            item.case = cast(IntakeResult, result).case
            item.save(update_fields=["attempts", "state", "case", "updated_at"])
            return item
    raise failure


@transaction.atomic
def quarantine_discard(*, quarantined_id: int) -> QuarantinedMessage:
    """Mark a quarantined input discarded; it is kept (raw) but no longer waits for action."""
    item = QuarantinedMessage.objects.select_for_update().get(pk=quarantined_id)
    if item.state == QuarantinedMessage.State.HELD:
        item.state = QuarantinedMessage.State.DISCARDED
        item.save(update_fields=["state", "updated_at"])
    return item
