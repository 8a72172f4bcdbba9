"""Writes of the automation app: the automatic acknowledgement of new cases and the record
of first-response targets missed."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from caseloop.cases.models import Case, CaseEvent, Message, Status
from caseloop.cases.services import event_record, message_add
from caseloop.lib.realtime import DESK_GROUP, publish

from .selectors import (
    ack_render,
    ack_template_for,
    case_first_response_due,
    case_response_state,
    expected_response_text,
    response_policy_load,
)

logger = logging.getLogger(__name__)

ACKNOWLEDGED = "acknowledged"
ACK_SKIPPED = "acknowledgement_skipped"


@transaction.atomic
def case_acknowledge(*, case_id: int) -> Message | None:
    """Send the automatic acknowledgement of a new case on its channel, naming the reference
    and the expected first-response time. Once per case; never to an auto-reply or bounce
    (so no mail loops) and never when the admin switched it off.
    Side effects: an `acknowledged` (or `acknowledgement_skipped`) event; the acknowledgement
    is a system outbound message, delivered after commit by the channel's sender."""
    case = Case.objects.select_for_update().select_related("customer").filter(pk=case_id).first()
    if case is None:
        return None
    if CaseEvent.objects.filter(case=case, kind__in=[ACKNOWLEDGED, ACK_SKIPPED]).exists():
        return None
    first = case.messages.filter(direction=Message.Direction.INBOUND).order_by("id").first()
    if first is not None and first.metadata.get("auto_reply"):
        event_record(case=case, kind=ACK_SKIPPED, data={"reason": "auto-reply or bounce"})
        return None
    template = ack_template_for(channel=case.channel)
    if template is None:
        event_record(case=case, kind=ACK_SKIPPED, data={"reason": "switched off for channel"})
        return None
    policy = response_policy_load()
    due = case_first_response_due(case=case, policy=policy)
    expected = expected_response_text(due=due, policy=policy, priority=case.priority)
    values = {
        "reference": case.reference or "",
        "expected_response": expected,
        "customer_name": case.customer.name or "there",
        "subject": case.subject,
    }
    subject, text = (ack_render(part, values) for part in template)
    message = message_add(
        case=case,
        direction=Message.Direction.OUTBOUND,
        text=text,
        metadata={
            "acknowledgement": True,
            "subject": subject,
            "first_response_due": due.isoformat(),
        },
        system=True,
    )
    event_record(
        case=case,
        kind=ACKNOWLEDGED,
        data={"message": message.pk, "first_response_due": due.isoformat()},
    )
    return message


def case_acknowledge_on_create(case_id: int) -> None:
    """Case-created hook: acknowledge at once, in the request that created the case, so
    the customer hears back within seconds even when no job worker runs."""
    case_acknowledge(case_id=case_id)


FIRST_RESPONSE_BREACHED = "first_response_breached"


def first_response_breaches_record(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Write a `first_response_breached` event, once, on every open case whose first
    response is overdue, and tell the desk. Returns the ids of the cases newly breached.
    Side effects: those events; after commit, a realtime push per case."""
    now = now or timezone.now()
    policy = response_policy_load()
    candidates = (
        Case.objects.filter(
            first_response_at__isnull=True,
            status__in=[Status.NEW, Status.OPEN, Status.PENDING_INTERNAL],
        )
        .exclude(events__kind=FIRST_RESPONSE_BREACHED)
        .only("id", "reference", "priority", "created_at", "first_response_at", "status")
        .order_by("id")[:limit]
    )
    breached = []
    for case in candidates:
        if case_response_state(case=case, policy=policy, now=now) != "breached":
            continue
        with transaction.atomic():
            due = case_first_response_due(case=case, policy=policy)
            event_record(case=case, kind=FIRST_RESPONSE_BREACHED, data={"due": due.isoformat()})
            payload = {
                "kind": "case.first_response_breached",
                "case_id": case.pk,
                "reference": case.reference,
                "due": due.isoformat(),
            }
            transaction.on_commit(lambda payload=payload: publish(DESK_GROUP, payload))
        breached.append(case.pk)
    return breached
