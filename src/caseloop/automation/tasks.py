"""Periodic jobs of the automation app."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .services import sla_check
from .webhooks import BATCH, webhooks_fan_out


@db_periodic_task(crontab(minute="*"))
@lock_task("automation-sla-check")
def sla_check_run() -> None:
    """Every minute: record SLA warnings and breaches that came due; escalate breaches."""
    sla_check()


@db_periodic_task(crontab(minute="*"))
@lock_task("automation-webhooks")
def webhooks_send() -> None:
    """Every minute: the new case events, to each webhook subscription that wants them."""
    while webhooks_fan_out() == BATCH:
        pass
