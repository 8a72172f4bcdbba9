"""Case-event kinds insights writes, and how each reads in the timeline."""

from caseloop.cases.events import EventNames, event_kind, row_name
from caseloop.cases.models import CaseEvent


def _comment(event: CaseEvent, names: EventNames, key: str) -> str:
    answer = names.row(event, key)
    comment = " ".join(str(getattr(answer, "comment", "") or "").split())
    if len(comment) > 200:
        comment = comment[:199] + "…"
    return f": “{comment}”" if comment else ""


def _rated(event: CaseEvent, names: EventNames) -> str:
    return f"Rated the service {event.data['score']}/5{_comment(event, names, 'rating')}"


def _nps_answered(event: CaseEvent, names: EventNames) -> str:
    return f"Recommendation score {event.data['score']}/10{_comment(event, names, 'response')}"


def minutes_text(seconds: int) -> str:
    """12 min, 1 h 5 min; under a minute counts as 1 min."""
    minutes = max(1, round(seconds / 60)) if seconds else 0
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def _work_time(event: CaseEvent, names: EventNames) -> str:
    text = f"Work time logged: {minutes_text(int(event.data['seconds']))}"
    before = event.data.get("before")
    if isinstance(before, int):
        text += f" (was {minutes_text(before)})"
    if event.data.get("agent") != event.actor_id:
        text += f" for {names.name(event, 'agent')}"
    return text


def _qa_reviewed(event: CaseEvent, names: EventNames) -> str:
    return f"Quality review of {names.name(event, 'agent')}: {float(event.data['score']):.0f}%"


def _survey_sent(event: CaseEvent, names: EventNames) -> str:
    channel = event.data.get("channel") or ""
    return f"Recommendation survey sent by {channel}" if channel else "Recommendation survey sent"


def _recovery_opened(event: CaseEvent, names: EventNames) -> str:
    score = event.data["score"]
    low = f"rating of {score}/5" if event.data.get("source") == "csat" else f"score of {score}/10"
    owner = names.row(event, "owner")
    return f"Recovery opened after a low {low}" + (f", for {row_name(owner)}" if owner else "")


def _recovery_done(event: CaseEvent, names: EventNames) -> str:
    note = " ".join(str(event.data.get("note") or "").split())
    return f"Recovery done: {note[:200]}" if note else "Recovery done"


USER = "accounts.User"
SATISFACTION_RATED = event_kind(
    "satisfaction_rated",
    "Satisfaction rated",
    describe=_rated,
    refs={"rating": "insights.SatisfactionRating"},
)
NPS_ANSWERED = event_kind(
    "nps_answered",
    "Recommendation score given",
    describe=_nps_answered,
    refs={"response": "insights.NpsResponse"},
)
WORK_TIME_LOGGED = event_kind(
    "work_time_logged", "Work time logged", describe=_work_time, refs={"agent": USER}
)
QA_REVIEWED = event_kind(
    "qa_reviewed", "Quality review recorded", describe=_qa_reviewed, refs={"agent": USER}
)
NPS_SURVEY_SENT = event_kind("nps_survey_sent", "Recommendation survey sent", describe=_survey_sent)
RECOVERY_OPENED = event_kind(
    "recovery_opened",
    "Recovery opened after a low score",
    describe=_recovery_opened,
    refs={"owner": USER},
)
RECOVERY_DONE = event_kind("recovery_done", "Recovery done", describe=_recovery_done)
