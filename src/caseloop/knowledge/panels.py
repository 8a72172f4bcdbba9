"""Context for the knowledge panels on the case page."""

from __future__ import annotations

from caseloop.cases.models import Case

from .macro_ranking import macros_rank_for_case
from .selectors import case_suggestions
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


MACROS_SHOWN = 30


def macros_panel(*, case: Case, user) -> dict | None:
    """The prepared responses ranked for the case, best first, each with why and its text
    as it would read for this case."""
    if not getattr(user, "is_agent_like", False):
        return None
    ranked = macros_rank_for_case(user=user, case=case)[:MACROS_SHOWN]
    if not ranked:
        return None
    return {
        "case": case,
        "macros": [
            {
                "macro": item.macro,
                "score": item.score,
                "reasons": item.reasons,
                "sent_at_this_stage": item.sent_at_this_stage,
                "text": macro_render(macro=item.macro, case=case, agent=user),
            }
            for item in ranked
        ],
    }
