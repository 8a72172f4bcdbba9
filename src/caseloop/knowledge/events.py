"""Case-event kinds knowledge writes."""

from caseloop.cases.events import event_kind

MACRO_APPLIED = event_kind("macro_applied", "Prepared response applied")
SUGGESTION_FEEDBACK = event_kind("suggestion_feedback", "Suggestion feedback")
ARTICLE_DRAFTED = event_kind("article_drafted", "Article drafted from the case")
