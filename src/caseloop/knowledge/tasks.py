"""Jobs of the knowledge base: keeping case messages searchable and the meaning and history
index of articles up to date."""

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


# Seconds between a change and the rebuild it asks for: edits in a burst share one build.
RETRIEVAL_REFRESH_DELAY = 30


@db_task()
def retrieval_refresh() -> bool:
    """Rebuild the meaning and history index when articles or the desk's history changed
    since it was built. Returns whether it rebuilt."""
    model = search.retrieval_rebuild()
    if model is not None:
        logger.info(
            "knowledge index v%s built: %s articles, %s answered questions",
            model.version,
            model.n_articles,
            model.n_examples,
        )
    return model is not None


def retrieval_refresh_soon() -> None:
    retrieval_refresh.schedule(delay=RETRIEVAL_REFRESH_DELAY)


@db_periodic_task(crontab(minute="*/10"))
def retrieval_refresh_periodic() -> bool:
    """Catch what a scheduled rebuild missed: cases solved with an article, edits made
    while no worker ran."""
    return bool(retrieval_refresh.call_local())
