"""What an agent does with one message of a case besides answering it: split it into a case
of its own (a customer who raised a second, unrelated problem in the same thread), or
forward it by email to someone outside the desk (a supplier, a carrier)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _, gettext_lazy

from caseloop.accounts.models import User

from . import outbox
from .errors import CaseValidationError
from .events import EventNames, event_kind
from .models import Case, CaseEvent, Message
from .services import AttachmentUpload, case_create, event_record

FORWARD_EFFECT = "message.forward"


def _data(event: CaseEvent) -> dict[str, Any]:
    return event.data if isinstance(event.data, dict) else {}


def _split_out(event: CaseEvent, names: EventNames) -> str:
    return _("A message was split into its own case, %(reference)s") % {
        "reference": _data(event).get("reference", "")
    }


def _split_from(event: CaseEvent, names: EventNames) -> str:
    return _("Split from a message of %(reference)s") % {
        "reference": _data(event).get("reference", "")
    }


def _forwarded(event: CaseEvent, names: EventNames) -> str:
    return _("A message was forwarded to %(to)s") % {"to": _data(event).get("to", "")}


CASE_SPLIT_OUT = event_kind(
    "case_split_out", gettext_lazy("Message split into a new case"), describe=_split_out
)
CASE_SPLIT_FROM = event_kind(
    "case_split_from", gettext_lazy("Split from another case"), describe=_split_from
)
MESSAGE_FORWARDED = event_kind(
    "message_forwarded", gettext_lazy("Message forwarded"), describe=_forwarded
)


def _staff(actor: User) -> None:
    if not actor.is_agent_like:
        raise CaseValidationError("only agents split or forward messages", field="actor")


def _customer_message(case: Case, message_id: int) -> Message:
    message = (
        Message.objects.filter(case=case, pk=message_id).prefetch_related("attachments").first()
    )
    if message is None:
        raise CaseValidationError("no such message on this case", field="message")
    return message


@transaction.atomic
def case_split(*, case: Case, message_id: int, actor: User, subject: str = "") -> Case:
    """Open a new case for the customer with one of their messages on `case` (its text and
    attachments, on its channel); the message stays where it was. Only a customer's message
    is split. Side effects: those of `case_create`; `case_split_out` on `case` and
    `case_split_from` on the new one."""
    _staff(actor)
    message = _customer_message(case, message_id)
    if message.direction != Message.Direction.INBOUND:
        raise CaseValidationError("only a customer's message is split into a case", field="message")
    subject = (subject or "").strip()[:300] or (
        (message.text.strip().splitlines() or [case.subject])[0][:120] or case.subject
    )
    uploads = []
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            uploads.append(
                AttachmentUpload(attachment.filename, handle.read(), attachment.content_type)
            )
    new = case_create(
        customer=message.author_customer or case.customer,
        subject=subject,
        text=message.text,
        html=message.html,
        channel=message.channel,
        actor=actor,
        attachments=uploads,
        metadata={"split_from": {"case": case.pk, "message": message.pk}},
    )
    event_record(
        case=case,
        actor=actor,
        kind=CASE_SPLIT_OUT,
        data={"message": message.pk, "case": new.pk, "reference": new.reference},
    )
    event_record(
        case=new,
        actor=actor,
        kind=CASE_SPLIT_FROM,
        data={"message": message.pk, "case": case.pk, "reference": case.reference},
    )
    return new


@transaction.atomic
def message_forward(
    *, case: Case, message_id: int, actor: User, to: str, note: str = ""
) -> CaseEvent:
    """Email one message of `case` (with its attachments, and the agent's note above it) to
    `to`, someone outside the desk. Not a reply: the customer does not see it, and the
    case's timeline says it went. Side effects: a `message_forwarded` event; the email,
    sent through the outbox."""
    _staff(actor)
    to = (to or "").strip()
    try:
        validate_email(to)
    except ValidationError:
        raise CaseValidationError("forward to an email address", field="to") from None
    message = _customer_message(case, message_id)
    if message.direction == Message.Direction.NOTE:
        raise CaseValidationError("internal notes are not forwarded", field="message")
    event = event_record(
        case=case,
        actor=actor,
        kind=MESSAGE_FORWARDED,
        data={"message": message.pk, "to": to.lower(), "note": (note or "").strip()[:2000]},
    )
    outbox.effect_record(
        kind=FORWARD_EFFECT,
        payload={"event": event.pk},
        key=f"{FORWARD_EFFECT}:{event.pk}",
        case_id=case.pk,
    )
    return event
