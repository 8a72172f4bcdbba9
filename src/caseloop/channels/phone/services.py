"""Calls: an agent's log or a provider's report of a call opens or updates a case."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from caseloop.cases.errors import CaseError
from caseloop.cases.models import Case, Channel, Message, Status
from caseloop.cases.services import case_create, case_transition, event_record, message_add
from caseloop.channels.base import InboundMessage
from caseloop.channels.events import CALL_LOGGED
from caseloop.channels.intake import IntakeRejected, inbound_receive
from caseloop.customers.errors import InvalidContactPoint
from caseloop.customers.models import ContactPoint
from caseloop.customers.services import Identity, contact_normalize, customer_find_or_create
from caseloop.lib.errors import ErrorKind

from .models import CallLog


class CallRejected(CaseError):
    code = "call_rejected"
    kind = ErrorKind.INVALID

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class CallDetails:
    direction: str
    phone: str
    duration_seconds: int = 0
    notes: str = ""
    name: str = ""
    subject: str = ""
    case_reference: str = ""
    started_at: datetime | None = None
    provider: str = ""
    external_id: str = ""


def _summary(details: CallDetails) -> str:
    minutes, seconds = divmod(max(0, details.duration_seconds), 60)
    kind = "Inbound" if details.direction == CallLog.Direction.INBOUND else "Outbound"
    return f"{kind} call, {minutes}:{seconds:02d}"


def phone_normalize(*, phone: str) -> str:
    try:
        return contact_normalize(kind=ContactPoint.Kind.PHONE, value=phone)
    except InvalidContactPoint as exc:
        raise CallRejected(
            f"{phone!r} is not a phone number; give it with its country code, e.g. +14155550100",
            field="phone",
        ) from exc


@transaction.atomic
def call_log(*, details: CallDetails, agent=None) -> CallLog:
    """Record a call on the case it belongs to, opening one when none is named.

    The customer is found (or created) by phone number. An inbound call is the customer
    speaking (it reopens a solved case); an outbound call is our reply and counts as the
    first response. The agent who took an unowned new case's call becomes its owner. A
    provider call id seen before returns the first log.
    Side effects: a `call_logged` event and those of intake / `message_add` (events,
    acknowledgement of a new case)."""
    if details.direction not in CallLog.Direction.values:
        raise CallRejected("direction must be 'inbound' or 'outbound'", field="direction")
    if details.duration_seconds < 0:
        raise CallRejected("duration cannot be negative", field="duration_seconds")
    phone = phone_normalize(phone=details.phone)
    if details.external_id:
        earlier = CallLog.objects.filter(
            provider=details.provider, external_id=details.external_id
        ).first()
        if earlier is not None:
            return earlier
    case = None
    if details.case_reference:
        pk = Case.pk_from_reference(details.case_reference)
        case = Case.objects.filter(pk=pk).first() if pk else None
        if case is None:
            raise CallRejected(f"no case {details.case_reference!r}", field="case_reference")
    started = details.started_at or timezone.now()
    text = details.notes.strip() or _summary(details)
    call_meta = {
        "direction": details.direction,
        "duration_seconds": details.duration_seconds,
        "started_at": started.isoformat(),
    }
    if details.direction == CallLog.Direction.INBOUND:
        case, message = _inbound(details=details, phone=phone, case=case, text=text, meta=call_meta)
    else:
        case, message = _outbound(
            details=details, phone=phone, case=case, text=text, meta=call_meta, agent=agent
        )
    case.refresh_from_db(fields=["status", "owner"])
    if agent is not None and case.status == Status.NEW and case.owner_id is None:
        case = case_transition(case=case, to=Status.OPEN, actor=agent, reason="took the call")
    call = CallLog.objects.create(
        case=case,
        message=message,
        direction=details.direction,
        phone=phone,
        duration_seconds=details.duration_seconds,
        notes=details.notes.strip(),
        agent=agent,
        started_at=started,
        provider=details.provider,
        external_id=details.external_id,
    )
    event_record(
        case=case,
        actor=agent,
        kind=CALL_LOGGED,
        data={"call": call.pk, **call_meta, "phone": phone, "provider": details.provider},
    )
    return call


def _inbound(*, details: CallDetails, phone: str, case, text: str, meta: dict):
    try:
        result = inbound_receive(
            InboundMessage(
                channel=Channel.PHONE,
                phone=phone,
                name=details.name,
                subject=details.subject or f"Call from {details.name or phone}",
                text=text,
                case_reference=case.reference if case else "",
                external_id=(
                    f"call:{details.provider}:{details.external_id}"
                    if details.external_id
                    else f"call:{uuid.uuid4().hex}"
                ),
                # The agent picked the case while talking to the caller: trust the choice.
                metadata={"call": meta, "reference_verified": case is not None},
            )
        )
    except IntakeRejected as exc:
        raise CallRejected(str(exc), field="phone") from exc
    return result.case, result.message


def _outbound(*, details: CallDetails, phone: str, case, text: str, meta: dict, agent):
    if case is None:
        customer = customer_find_or_create(identity=Identity(phone=phone, name=details.name))
        case = case_create(
            customer=customer,
            subject=details.subject or f"Call to {details.name or phone}",
            text=text,
            channel=Channel.PHONE,
            actor=agent,
            metadata={"call": meta},
        )
        return case, case.messages.order_by("id").first()
    message = message_add(
        case=case,
        direction=Message.Direction.OUTBOUND,
        channel=Channel.PHONE,
        text=text,
        actor=agent,
        metadata={"call": meta},
        system=agent is None,
    )
    return case, message
