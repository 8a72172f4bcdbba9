"""Helpers for the SLA tests: frozen time, and running automation's outbox effects only (the
SLA refreshes the case hooks record, and breach emails) so triage and the acknowledgement
stay out of the way."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from caseloop.cases.models import OutboxEffect
from caseloop.cases.outbox import effects_run


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def step(moment: datetime) -> time_machine.travel:
    return time_machine.travel(moment, tick=False)


def sla_effects_run() -> int:
    """Run automation's pending effects, oldest first. Returns how many ran."""
    pending = OutboxEffect.objects.filter(state=OutboxEffect.State.PENDING)
    ids = [
        effect.pk
        for effect in pending.only("id", "kind")
        if "caseloop.automation." in effect.kind or effect.kind.startswith("automation.")
    ]
    return effects_run(ids)
