"""Periodic jobs of the automation app."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .services import sla_check


@db_periodic_task(crontab(minute="*"))
@lock_task("automation-sla-check")
def sla_check_run() -> None:
    """Every minute: record SLA warnings and breaches that came due; escalate breaches."""
    sla_check()
