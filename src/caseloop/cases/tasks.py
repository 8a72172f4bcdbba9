"""Jobs of the case core: run side effects from the outbox (nudged after each commit, and a
sweep every minute), remind owners of escalated cases, run follow-ups."""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import outbox
from .loop.escalations import escalation_reminders_send
from .loop.followups import followups_process
from .loop.requests import request_reminders_send


@db_periodic_task(crontab(minute="*/15"))  # type: ignore[untyped-decorator]  # huey is untyped
def loop_owner_reminders() -> int:
    """Every 15 minutes: remind owners whose escalation is due a reminder."""
    return escalation_reminders_send()


@db_periodic_task(crontab(minute="*/15"))  # type: ignore[untyped-decorator]  # huey is untyped
def loop_request_reminders() -> int:
    """Every 15 minutes: remind the recipients of overdue requests to other departments."""
    return request_reminders_send()


@db_periodic_task(crontab(minute="*/10"))  # type: ignore[untyped-decorator]  # huey is untyped
def loop_followups() -> dict[str, Any]:
    """Every 10 minutes: schedule, ask and close follow-ups that are due."""
    return followups_process()


@db_task()  # type: ignore[untyped-decorator]  # huey is untyped
def outbox_dispatch(effect_ids: list[int]) -> int:
    """Run the side effects a change just recorded (nudged after its commit)."""
    return outbox.effects_run(effect_ids)


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]  # huey is untyped
def outbox_sweep() -> int:
    """Every minute: run side effects left behind by a process that died, or due a retry."""
    return outbox.effects_sweep()
