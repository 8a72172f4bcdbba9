"""Case-event kinds automation writes.

`sla_warning` and `sla_breached` carry `{"target": "first_response" | "next_reply" |
"resolution", "due": <ISO time>, "policy": <SlaPolicy id or None>}` (plus a `reason` for the
timeline); each is recorded once per target and clock cycle.
"""

from django.utils.translation import gettext as _, gettext_lazy, gettext_noop

from caseloop.cases.events import EventNames, event_kind
from caseloop.cases.models import CaseEvent

TARGET_WORDS = {
    "first_response": gettext_noop("first response"),
    "next_reply": gettext_noop("next reply"),
    "resolution": gettext_noop("resolution"),
}


def _target(event: CaseEvent) -> str:
    target = str(event.data.get("target") or "first_response")
    return _(TARGET_WORDS[target]) if target in TARGET_WORDS else target.replace("_", " ")


def _warning(event: CaseEvent, names: EventNames) -> str:
    return _("SLA: %(target)s due soon") % {"target": _target(event)}


def _breached(event: CaseEvent, names: EventNames) -> str:
    return _("SLA: %(target)s breached") % {"target": _target(event)}


SLA_WARNING = event_kind("sla_warning", gettext_lazy("SLA target close"), describe=_warning)
SLA_BREACHED = event_kind("sla_breached", gettext_lazy("SLA target missed"), describe=_breached)
# Written before SLA policies replaced it with `sla_breached`; kept so older logs still read.
FIRST_RESPONSE_BREACHED = event_kind(
    "first_response_breached", gettext_lazy("First-response target missed"), describe=_breached
)


def _rule_applied(event: CaseEvent, names: EventNames) -> str:
    data = event.data
    summary = str(data.get("summary") or data["action"]).strip()
    return _("Rule “%(name)s”: %(summary)s") % {"name": data["name"], "summary": summary}


# `rule_applied` carries `{"rule": <Rule id>, "name": …, "action": <action type>, "params":
# {…}, "summary": <what it did, in words>, "trigger": <event id>}`; one per action a rule
# takes, in the action's transaction.
RULE_APPLIED = event_kind(
    "rule_applied", gettext_lazy("Automation rule applied"), describe=_rule_applied
)
