"""Periodic jobs of the automation app."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .services import first_response_breaches_record


@db_periodic_task(crontab(minute="*/5"))
@lock_task("automation-first-response-breaches")
def first_response_breaches_check() -> None:
    """Every five minutes: mark cases whose first response is overdue."""
    first_response_breaches_record()
