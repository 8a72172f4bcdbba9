"""Case-event kinds automation writes.

`sla_warning` and `sla_breached` carry `{"target": "first_response" | "next_reply" |
"resolution", "due": <ISO time>, "policy": <SlaPolicy id or None>}` (plus a `reason` for the
timeline); each is recorded once per target and clock cycle.
"""

from caseloop.cases.events import event_kind

SLA_WARNING = event_kind("sla_warning", "SLA target close")
SLA_BREACHED = event_kind("sla_breached", "SLA target missed")
# Written before SLA policies replaced it with `sla_breached`; kept so older logs still read.
FIRST_RESPONSE_BREACHED = event_kind("first_response_breached", "First-response target missed")
