"""Writes of the automation app: the record of first-response targets missed."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from django.db import transaction
from django.utils import timezone

from caseloop.cases.models import Case, Status
from caseloop.cases.services import event_record
from caseloop.lib.realtime import DESK_GROUP, publish

from .events import FIRST_RESPONSE_BREACHED
from .selectors import case_first_response_due, case_response_state, response_policy_load

logger = logging.getLogger(__name__)



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
            transaction.on_commit(partial(publish, DESK_GROUP, payload))
        breached.append(case.pk)
    return breached
