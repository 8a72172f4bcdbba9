"""Case-event kinds insights writes."""

from caseloop.cases.events import event_kind

SATISFACTION_RATED = event_kind("satisfaction_rated", "Satisfaction rated")
