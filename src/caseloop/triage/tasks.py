"""Triage jobs: triage new cases and messages off the request, retrain on a schedule."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .learning import model_train
from .models import ModelVersion
from .services import case_triage_run, message_mood_record, triage_feedback_record

logger = logging.getLogger(__name__)


@db_task(retries=2, retry_delay=10)
def case_triage_job(case_id: int) -> None:

    case_triage_run(case_id=case_id)


@db_task(retries=2, retry_delay=10)
def message_mood_job(message_id: int) -> None:

    message_mood_record(message_id=message_id)


@db_task()
def feedback_job(case_id: int, fields: list[str]) -> None:

    triage_feedback_record(case_id=case_id, fields=fields)


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
