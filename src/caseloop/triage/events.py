"""Case-event kinds triage writes."""

from caseloop.cases.events import event_kind

TRIAGED = event_kind("triaged", "Triaged")
MOOD_FLAGGED = event_kind("mood_flagged", "Mood flagged")
ROUTED = event_kind("routed", "Routed")
