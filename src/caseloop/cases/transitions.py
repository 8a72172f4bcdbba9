"""The case status machine. Services enforce it; nothing else changes a case's status."""

from __future__ import annotations

from .models import FINISHED_STATUSES, Status

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.OPEN}),
    Status.OPEN: frozenset({Status.PENDING_CUSTOMER, Status.PENDING_INTERNAL, Status.SOLVED}),
    Status.PENDING_CUSTOMER: frozenset({Status.OPEN, Status.PENDING_INTERNAL, Status.SOLVED}),
    Status.PENDING_INTERNAL: frozenset({Status.OPEN, Status.PENDING_CUSTOMER, Status.SOLVED}),
    Status.SOLVED: frozenset({Status.CLOSED, Status.OPEN}),
    Status.CLOSED: frozenset({Status.OPEN}),
}


def allowed_transitions(current: str) -> list[str]:
    """Statuses reachable from `current`, in the machine's natural order."""
    order = list(Status.values)
    return sorted(TRANSITIONS.get(current, frozenset()), key=order.index)


def is_reopen(current: str, target: str) -> bool:
    return current in FINISHED_STATUSES and target == Status.OPEN
