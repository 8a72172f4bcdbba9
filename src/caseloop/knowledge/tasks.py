"""Jobs of the knowledge base: keeping case messages searchable."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import search

logger = logging.getLogger(__name__)


def message_index_hook(message_id: int) -> None:
    """After a message commits, index it (inline: one small insert)."""
    search.message_index(message_id=message_id)


@db_task()
def messages_backfill_job(batch: int = 20000) -> int:
    return search.messages_backfill(batch=batch)


@db_periodic_task(crontab(minute="17", hour="3"))
def messages_backfill_nightly() -> int:
    """Catch any message whose hook did not run (e.g. a crash between commit and hook)."""
    indexed = search.messages_backfill()
    if indexed:
        logger.info("indexed %s case messages the hook missed", indexed)
    return indexed
