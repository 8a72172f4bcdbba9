"""Reactions to case hooks: each change that can move an SLA clock refreshes the case's SLA
state. Each runs as an outbox effect after the change commits, at least once; the refresh
reads the whole history, so running it twice, late or out of order changes nothing."""

from __future__ import annotations

from caseloop.cases.hooks import MessageFacts
from caseloop.cases.models import Message

from .services import case_sla_refresh


def case_created(case_id: int) -> None:
    case_sla_refresh(case_id=case_id)


def message_moves_clock(facts: MessageFacts) -> bool:
    # The opening message's clock starts with the case's own reaction.
    return facts.direction != Message.Direction.NOTE and not (facts.automatic or facts.opening)


def message_added(message_id: int) -> None:
    row = (
        Message.objects.filter(pk=message_id)
        .values_list("case_id", "direction", "metadata")
        .first()
    )
    if row is None:
        return
    case_id, direction, metadata = row
    metadata = metadata or {}
    # Notes, automatic messages and auto-replies move no clock.
    if direction == Message.Direction.NOTE or metadata.get("system") or metadata.get("auto_reply"):
        return
    case_sla_refresh(case_id=case_id)


def case_status_changed(case_id: int, before: str, after: str) -> None:
    case_sla_refresh(case_id=case_id)


def case_updated(case_id: int, fields: list[str]) -> None:
    # A new priority can mean another policy; nothing else a case update changes does.
    if "priority" in fields:
        case_sla_refresh(case_id=case_id)
