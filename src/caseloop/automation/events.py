"""Case-event kinds automation writes."""

from caseloop.cases.events import event_kind

FIRST_RESPONSE_BREACHED = event_kind("first_response_breached", "First-response target missed")
