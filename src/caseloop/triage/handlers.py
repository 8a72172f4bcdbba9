"""Reactions to case hooks: each hands the work to a job, by id."""

from __future__ import annotations

from caseloop.cases.models import Message

from .tasks import case_triage_job, feedback_job, message_mood_job


def case_created(case_id: int) -> None:

    case_triage_job(case_id)


def message_added(message_id: int) -> None:

    direction = Message.objects.filter(pk=message_id).values_list("direction", flat=True).first()
    if direction == Message.Direction.INBOUND:
        message_mood_job(message_id)


def case_updated(case_id: int, fields: list[str]) -> None:

    if {"category", "priority"} & set(fields):
        feedback_job(case_id, list(fields))
