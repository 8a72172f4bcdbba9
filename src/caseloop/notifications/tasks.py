"""Periodic job of the notifications app."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .services import digests_record


@db_periodic_task(crontab(minute="*/5"))
@lock_task("notifications-digest")
def notification_digests() -> int:
    """Every five minutes: an email digest for each person with notifications left unread
    (at most one an hour each)."""
    return digests_record()
