"""Case-event kinds automation writes.

`sla_warning` and `sla_breached` carry `{"target": "first_response" | "next_reply" |
"resolution", "due": <ISO time>, "policy": <SlaPolicy id or None>}` (plus a `reason` for the
timeline); each is recorded once per target and clock cycle.
"""

from caseloop.cases.events import EventNames, event_kind
from caseloop.cases.models import CaseEvent

TARGET_WORDS = {
    "first_response": "first response",
    "next_reply": "next reply",
    "resolution": "resolution",
}


def _target(event: CaseEvent) -> str:
    target = str(event.data.get("target") or "first_response")
    return TARGET_WORDS.get(target, target.replace("_", " "))


def _warning(event: CaseEvent, names: EventNames) -> str:
    return f"SLA: {_target(event)} due soon"


def _breached(event: CaseEvent, names: EventNames) -> str:
    return f"SLA: {_target(event)} breached"


SLA_WARNING = event_kind("sla_warning", "SLA target close", describe=_warning)
SLA_BREACHED = event_kind("sla_breached", "SLA target missed", describe=_breached)
# Written before SLA policies replaced it with `sla_breached`; kept so older logs still read.
FIRST_RESPONSE_BREACHED = event_kind(
    "first_response_breached", "First-response target missed", describe=_breached
)


def _rule_applied(event: CaseEvent, names: EventNames) -> str:
    data = event.data
    summary = str(data.get("summary") or data["action"]).strip()
    return f"Rule “{data['name']}”: {summary}"


# `rule_applied` carries `{"rule": <Rule id>, "name": …, "action": <action type>, "params":
# {…}, "summary": <what it did, in words>, "trigger": <event id>}`; one per action a rule
# takes, in the action's transaction.
RULE_APPLIED = event_kind("rule_applied", "Automation rule applied", describe=_rule_applied)
