"""Triage jobs: retrain on a schedule or on request. (New cases and messages are triaged by
outbox effects: see `handlers`.)"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .learning import model_train
from .models import ModelVersion

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="17", hour="3"))
def models_retrain() -> None:
    """Nightly: learn from the day's decisions. Without enough history nothing is trained
    and keyword rules keep guessing."""
    models_train()


@db_task()
def models_retrain_now() -> None:
    """On a manager's request, off the request: training can take minutes."""
    models_train()


def models_train() -> None:

    for kind in (ModelVersion.Kind.CATEGORY, ModelVersion.Kind.PRIORITY):
        version = model_train(kind=kind)
        if version is not None:
            logger.info(
                "trained %s model v%s on %s cases", kind, version.version, version.n_samples
            )
