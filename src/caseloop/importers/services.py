"""Writes of an import: another desk's history into this one, fast and only once.

Imported cases are history, not new inquiries: they are written in bulk, straight into the
tables, without the case services' hooks — no acknowledgement, no reply delivery, no SLA
clock, no triage job, no webhook. Each case gets one `imported` event, dated when it was
opened on the other desk, naming that desk and its id there; cases, messages and ratings
keep their original times. What was made of each record is remembered in
`ImportedRecord`, and tickets are written in batches, one transaction each: a second run
skips what the first made, and a run stopped half-way loses at most the batch it was
writing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

from caseloop.knowledge import search
from caseloop.knowledge.selectors import knowledge_gaps
from caseloop.triage.learning import model_train
from caseloop.triage.models import ModelVersion

from .people import DEFAULT_BATCH, Progress
from .report import ImportReport
from .sources.base import Source
from .tickets import HistoryWriter, original_times

__all__ = ["DEFAULT_BATCH", "ImportReport", "history_import", "history_learn", "original_times"]


class _DryRun(Exception):
    """Raised at the end of a dry run to roll everything back."""


def history_import(
    *,
    source: Source,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH,
    stop_after_batches: int | None = None,
    attachments: bool = True,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the source's organizations, teams, agents, customers and tickets (cases with
    their messages, attachments, tags, category and rating), skipping whatever an earlier
    run of the same source made. With `dry_run` everything is counted and checked, then
    rolled back; nothing is downloaded or stored.
    Side effects: the rows; attachment files under the data directory; one `imported`
    event per case. No hook runs: no acknowledgement, delivery, SLA clock or webhook."""
    report = ImportReport(source=source.key, dry_run=dry_run)
    importer = HistoryWriter(
        source=source,
        report=report,
        batch_size=batch_size,
        attachments=attachments,
        progress=progress,
    )
    try:
        with original_times(), transaction.atomic(durable=False) if dry_run else _nothing():
            importer.organizations(source.organizations())
            importer.teams(source.teams())
            importer.people(source.people())
            importer.tickets(source.tickets(), stop_after_batches)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def history_learn() -> dict[str, Any]:
    """After an import: train triage's category model on the history, index the imported
    messages for search and similar cases, and say where the knowledge base falls short.
    Side effects: a new category ModelVersion (when there is enough history); search index
    rows for every message not indexed yet."""
    began = time.perf_counter()
    version = model_train(kind=ModelVersion.Kind.CATEGORY)
    trained = time.perf_counter()
    indexed = search.messages_backfill()
    done = time.perf_counter()
    gaps = knowledge_gaps()
    return {
        "category_model": version.version if version is not None else None,
        "trained_on": version.n_samples if version is not None else 0,
        "train_seconds": round(trained - began, 2),
        "messages_indexed": indexed,
        "index_seconds": round(done - trained, 2),
        "knowledge_gaps": [c["name"] for c in gaps["categories"]],
    }
