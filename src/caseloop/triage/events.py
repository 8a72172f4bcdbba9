"""Case-event kinds triage writes, and how each reads in the timeline."""

from caseloop.cases.events import EventLine, EventNames, choice_label, event_kind
from caseloop.cases.models import CaseEvent, Priority


def _triaged(event: CaseEvent, names: EventNames) -> str:
    data = event.data
    category = names.name(event, "category")
    parts = [
        f"{category} ({float(data.get('confidence') or 0):.0%} sure)"
        if category
        else "no category found"
    ]
    priority = (data.get("priority") or {}).get("priority")
    if priority:
        parts.append(f"{choice_label(Priority, priority).lower()} priority")
    if data.get("needs_review"):
        parts.append("needs review")
    return "Triaged: " + ", ".join(parts)


def _mood(event: CaseEvent, names: EventNames) -> str:
    flags = [str(flag).replace("_", " ") for flag in event.data.get("flags") or []]
    return "Mood flagged: " + ", ".join(flags) if flags else "Mood flagged"


def _routed(event: CaseEvent, names: EventNames) -> EventLine:
    team = event.data.get("team_name")
    reason = str(event.data.get("reason") or "")
    if not team:
        return EventLine("Not routed", reason)
    agent = names.name(event, "agent")
    if not agent:
        return EventLine(f"Routed to {team}, nobody assigned", reason)
    # The reason names the team and the agent's username ("to Billing, alex: next in the
    # round-robin"); the sentence names them already, so only how the agent was chosen stays.
    how = reason.rsplit(": ", 1)[-1] if ": " in reason else reason
    return EventLine(f"Routed to {team}, assigned to {agent}", how)


TRIAGED = event_kind("triaged", "Triaged", describe=_triaged, refs={"category": "cases.Category"})
MOOD_FLAGGED = event_kind("mood_flagged", "Mood flagged", describe=_mood)
ROUTED = event_kind("routed", "Routed", describe=_routed, refs={"agent": "accounts.User"})
