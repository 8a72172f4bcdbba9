"""Case-event kinds knowledge writes, and how each reads in the timeline."""

from django.utils.translation import gettext_lazy

from caseloop.cases.events import EventNames, event_kind
from caseloop.cases.models import CaseEvent

VERDICT_WORDS = {"used": "used", "not_helpful": "not helpful"}


def _macro_applied(event: CaseEvent, names: EventNames) -> str:
    return f"Prepared response “{event.data['name']}” sent"


def _feedback(event: CaseEvent, names: EventNames) -> str:
    verdict = VERDICT_WORDS.get(event.data["verdict"], str(event.data["verdict"]))
    article = names.row(event, "article")
    if article is not None:
        return f"Suggested article “{article}” marked {verdict}"
    similar = names.row(event, "similar_case")
    if similar is not None:
        return f"Similar case {getattr(similar, 'reference', similar)} marked {verdict}"
    return f"Suggestion marked {verdict}"


def _drafted(event: CaseEvent, names: EventNames) -> str:
    article = names.row(event, "article")
    return f"Article drafted from the case: “{article}”" if article else "Article drafted"


ARTICLE = "knowledge.Article"
MACRO_APPLIED = event_kind(
    "macro_applied", gettext_lazy("Prepared response applied"), describe=_macro_applied
)
SUGGESTION_FEEDBACK = event_kind(
    "suggestion_feedback",
    gettext_lazy("Suggestion feedback"),
    describe=_feedback,
    refs={"article": ARTICLE, "similar_case": "cases.Case"},
)
ARTICLE_DRAFTED = event_kind(
    "article_drafted",
    gettext_lazy("Article drafted from the case"),
    describe=_drafted,
    refs={"article": ARTICLE},
)
