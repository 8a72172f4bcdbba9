"""`{% case_sla case as sla %}`: a case's SLA state for the templates that show it."""

from __future__ import annotations

from django import template

from caseloop.automation.selectors import CaseSlaState, case_sla_states

register = template.Library()


@register.simple_tag
def case_sla(case: object) -> CaseSlaState | None:
    """The SLA state of `case`, or None when it has none yet. No query when the case was
    fetched with `select_related("sla", "sla__policy")` (the inbox does); one otherwise."""
    pk = getattr(case, "pk", None)
    if pk is None:
        return None
    return case_sla_states(cases=[case]).get(pk)  # type: ignore[list-item]
