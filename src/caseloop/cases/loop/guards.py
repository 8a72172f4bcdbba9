"""Small guards shared by the loop's services."""

from __future__ import annotations

from caseloop.cases.models import Case

from .errors import LoopError


def is_staff(actor: object) -> bool:
    return actor is not None and bool(getattr(actor, "is_agent_like", False))


def require_staff(actor: object) -> None:
    if not is_staff(actor):
        raise LoopError("only agents can do this")


def case_locked(case: Case) -> Case:
    """The case, row-locked for this transaction (the joined rows are not locked)."""
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("customer", "category")
        .get(pk=case.pk)
    )
