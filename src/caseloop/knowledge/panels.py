"""Context for the knowledge panels on the case page."""

from __future__ import annotations

from caseloop.cases.models import Case

from .selectors import case_suggestions, macros_for
from .services import lesson_model, macro_render


def suggestions_panel(*, case: Case, user) -> dict | None:
    if not getattr(user, "is_agent_like", False):
        return None
    suggestions = case_suggestions(case=case, user=user)
    lessons_of = lesson_model()
    lessons = (
        list(lessons_of.objects.filter(case=case).exclude(state="converted").order_by("id"))
        if lessons_of is not None
        else []
    )
    return {
        "case": case,
        "articles": suggestions.articles,
        "similar": suggestions.similar_cases,
        "lessons": lessons,
    }


def macros_panel(*, case: Case, user) -> dict | None:
    if not getattr(user, "is_agent_like", False):
        return None
    macros = list(macros_for(user=user, case=case)[:30])
    if not macros:
        return None
    return {
        "case": case,
        "macros": [
            {"macro": macro, "text": macro_render(macro=macro, case=case, agent=user)}
            for macro in macros
        ],
    }
