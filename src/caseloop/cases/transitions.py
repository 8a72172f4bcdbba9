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


# A merge closes the source case from wherever it stands: its conversation lives on in the
# case it was merged into.
MERGE_TRANSITIONS: dict[str, frozenset[str]] = {
    status: frozenset({Status.CLOSED}) for status in Status.values if status != Status.CLOSED
}


def transition_allowed(current: str, target: str, *, merge: bool = False) -> bool:
    if target in TRANSITIONS.get(current, frozenset()):
        return True
    return merge and target in MERGE_TRANSITIONS.get(current, frozenset())


# Each status's moves in the machine's natural order, sorted once: every case an answer
# shows asks for them.
_ALLOWED_IN_ORDER: dict[str, tuple[str, ...]] = {
    status: tuple(sorted(targets, key=list(Status.values).index))
    for status, targets in TRANSITIONS.items()
}


def allowed_transitions(current: str) -> list[str]:
    """Statuses reachable from `current`, in the machine's natural order."""
    return list(_ALLOWED_IN_ORDER.get(current, ()))


def is_reopen(current: str, target: str) -> bool:
    return current in FINISHED_STATUSES and target == Status.OPEN
