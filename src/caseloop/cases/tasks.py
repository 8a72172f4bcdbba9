"""Periodic jobs of the loop: remind owners of escalated cases, and run follow-ups."""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .loop.escalations import escalation_reminders_send
from .loop.followups import followups_process


@db_periodic_task(crontab(minute="*/15"))  # type: ignore[untyped-decorator]  # huey is untyped
def loop_owner_reminders() -> int:
    """Every 15 minutes: remind owners whose escalation is due a reminder."""
    return escalation_reminders_send()


@db_periodic_task(crontab(minute="*/10"))  # type: ignore[untyped-decorator]  # huey is untyped
def loop_followups() -> dict[str, Any]:
    """Every 10 minutes: schedule, ask and close follow-ups that are due."""
    return followups_process()
