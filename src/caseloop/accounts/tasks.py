"""Jobs of the accounts app: forget rate-limit windows that have ended."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .ratecounters import rate_counters_prune


@db_periodic_task(crontab(minute="41"))
def rate_counters_expired_prune() -> int:
    """Hourly: delete the database's rate counters whose window has ended."""
    return rate_counters_prune()
