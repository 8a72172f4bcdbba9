"""The job consumer, as `caseloop serve` (in-process) and `caseloop worker` run it."""

from __future__ import annotations

from django.utils.module_loading import autodiscover_modules
from huey.consumer import Consumer
from huey.contrib.djhuey import HUEY

from caseloop.cases.tasks import outbox_sweep


def consumer_create(*, workers: int = 2) -> Consumer:
    """A Huey consumer that knows every job of every app, with periodic jobs enabled.
    Jobs live in each app's `tasks` module; a consumer that had not imported one would
    refuse its queued jobs as unknown."""
    autodiscover_modules("tasks")
    consumer = HUEY.create_consumer(
        workers=workers, worker_type="thread", periodic=True, check_worker_health=True
    )
    # Whatever a process that died left in the outbox runs now, not at the next minute.
    outbox_sweep()
    return consumer
