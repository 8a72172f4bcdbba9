"""Case-event kinds triage writes, and how each reads in the timeline."""

from django.utils.translation import gettext as _, gettext_lazy

from caseloop.cases.events import EventLine, EventNames, choice_label, event_kind
from caseloop.cases.models import CaseEvent, Priority


def _triaged(event: CaseEvent, names: EventNames) -> str:
    data = event.data
    category = names.name(event, "category")
    parts = [
        _("%(category)s (%(confidence)s sure)")
        % {"category": category, "confidence": f"{float(data.get('confidence') or 0):.0%}"}
        if category
        else _("no category found")
    ]
    priority = (data.get("priority") or {}).get("priority")
    if priority:
        parts.append(
            _("%(priority)s priority") % {"priority": choice_label(Priority, priority).lower()}
        )
    if data.get("needs_review"):
        parts.append(_("needs review"))
    return _("Triaged: %(what)s") % {"what": ", ".join(parts)}


def _mood(event: CaseEvent, names: EventNames) -> str:
    flags = [str(flag).replace("_", " ") for flag in event.data.get("flags") or []]
    if flags:
        return _("Mood flagged: %(flags)s") % {"flags": ", ".join(flags)}
    return _("Mood flagged")


def _routed(event: CaseEvent, names: EventNames) -> EventLine:
    team = event.data.get("team_name")
    reason = str(event.data.get("reason") or "")
    if not team:
        return EventLine(_("Not routed"), reason)
    agent = names.name(event, "agent")
    if not agent:
        return EventLine(_("Routed to %(team)s, nobody assigned") % {"team": team}, reason)
    # The reason names the team and the agent's username ("to Billing, alex: next in the
    # round-robin"); the sentence names them already, so only how the agent was chosen stays.
    how = reason.rsplit(": ", 1)[-1] if ": " in reason else reason
    return EventLine(
        _("Routed to %(team)s, assigned to %(agent)s") % {"team": team, "agent": agent}, how
    )


TRIAGED = event_kind(
    "triaged", gettext_lazy("Triaged"), describe=_triaged, refs={"category": "cases.Category"}
)
MOOD_FLAGGED = event_kind("mood_flagged", gettext_lazy("Mood flagged"), describe=_mood)
ROUTED = event_kind(
    "routed", gettext_lazy("Routed"), describe=_routed, refs={"agent": "accounts.User"}
)
