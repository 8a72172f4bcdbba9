"""Reactions to case hooks. Each runs as an outbox effect in the job worker, at least once,
so each first checks whether its work is already done."""

from __future__ import annotations

from caseloop.cases.hooks import MessageFacts
from caseloop.cases.models import Message

from .models import CaseTriage, MessageMood
from .services import case_triage_run, message_mood_record, triage_feedback_record


def case_created(case_id: int) -> None:
    if not CaseTriage.objects.filter(case_id=case_id).exists():
        case_triage_run(case_id=case_id)


def message_has_mood(facts: MessageFacts) -> bool:
    # A case's opening message is read by the case's own triage.
    return facts.direction == Message.Direction.INBOUND and not facts.opening


def message_added(message_id: int) -> None:
    # Non-inbound messages are skipped by the service; a mood is read once per message.
    if not MessageMood.objects.filter(message_id=message_id).exists():
        message_mood_record(message_id=message_id)


def case_updated(case_id: int, fields: list[str]) -> None:
    if {"category", "priority"} & set(fields):
        triage_feedback_record(case_id=case_id, fields=fields)
