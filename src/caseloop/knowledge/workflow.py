"""The article workflow: draft → review → published, and archived. Services enforce it."""

from __future__ import annotations

from .models import State

WORKFLOW: dict[str, frozenset[str]] = {
    State.DRAFT: frozenset({State.REVIEW, State.ARCHIVED}),
    State.REVIEW: frozenset({State.DRAFT, State.PUBLISHED, State.ARCHIVED}),
    State.PUBLISHED: frozenset({State.DRAFT, State.ARCHIVED}),
    State.ARCHIVED: frozenset({State.DRAFT}),
}


def workflow_allowed(current: str) -> list[str]:
    order = list(State.values)
    return sorted(WORKFLOW.get(current, frozenset()), key=order.index)
