"""Case-event kinds insights writes, and how each reads in the timeline."""

from django.utils.translation import gettext_lazy

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
    gettext_lazy("Satisfaction rated"),
    describe=_rated,
    refs={"rating": "insights.SatisfactionRating"},
)
NPS_ANSWERED = event_kind(
    "nps_answered",
    gettext_lazy("Recommendation score given"),
    describe=_nps_answered,
    refs={"response": "insights.NpsResponse"},
)
WORK_TIME_LOGGED = event_kind(
    "work_time_logged", gettext_lazy("Work time logged"), describe=_work_time, refs={"agent": USER}
)
QA_REVIEWED = event_kind(
    "qa_reviewed",
    gettext_lazy("Quality review recorded"),
    describe=_qa_reviewed,
    refs={"agent": USER},
)
NPS_SURVEY_SENT = event_kind(
    "nps_survey_sent", gettext_lazy("Recommendation survey sent"), describe=_survey_sent
)
RECOVERY_OPENED = event_kind(
    "recovery_opened",
    gettext_lazy("Recovery opened after a low score"),
    describe=_recovery_opened,
    refs={"owner": USER},
)
RECOVERY_DONE = event_kind("recovery_done", gettext_lazy("Recovery done"), describe=_recovery_done)


def _problem(event: CaseEvent, names: EventNames) -> str:
    problem = names.row(event, "problem")
    title = str(event.data.get("title") or getattr(problem, "title", "") or "")
    number = f"PRB-{event.data['problem']}"
    return f"{number} ({title})" if title else number


def _problem_linked(event: CaseEvent, names: EventNames) -> str:
    via = {
        "intake": " at intake",
        "detection": " by detection",
        "flag": " from a flag",
    }.get(str(event.data.get("via") or ""), "")
    return f"Linked to the recurring problem {_problem(event, names)}{via}"


def _problem_unlinked(event: CaseEvent, names: EventNames) -> str:
    return f"Unlinked from the recurring problem {_problem(event, names)}"


PROBLEM_CHANGE_WORDS = {
    "status": "status changed",
    "updated": "record updated",
    "contributor": "contributor credited",
    "fix_published": "permanent fix published",
    "recurred": "recurred",
    "merged": "another problem merged into it",
}


def _problem_changed(event: CaseEvent, names: EventNames) -> str:
    change = str(event.data.get("change") or "updated")
    words = PROBLEM_CHANGE_WORDS.get(change, change.replace("_", " "))
    text = f"Recurring problem {_problem(event, names)}: {words}"
    before, after = event.data.get("before"), event.data.get("after")
    if change == "status" and before and after:
        text += f" ({str(before).replace('_', ' ')} → {str(after).replace('_', ' ')})"
    fields = event.data.get("fields")
    if change == "updated" and isinstance(fields, list) and fields:
        text += f" ({', '.join(str(f).replace('_', ' ') for f in fields)})"
    return text


def _problem_fix_sent(event: CaseEvent, names: EventNames) -> str:
    text = f"Fix of {_problem(event, names)} sent to the customer"
    if event.data.get("solved") is False:
        reason = " ".join(str(event.data.get("reason") or "").split())[:200]
        text += "; the case stays open" + (f": {reason}" if reason else "")
    return text


def _problem_flagged(event: CaseEvent, names: EventNames) -> str:
    what = " ".join(str(event.data.get("text") or "").split())
    if len(what) > 200:
        what = what[:199] + "…"
    return f"Flagged “this keeps happening”: {what}" if what else "Flagged “this keeps happening”"


PROBLEM = "insights.Problem"
PROBLEM_LINKED = event_kind(
    "problem_linked",
    gettext_lazy("Linked to a recurring problem"),
    describe=_problem_linked,
    refs={"problem": PROBLEM},
)
PROBLEM_UNLINKED = event_kind(
    "problem_unlinked",
    gettext_lazy("Unlinked from a recurring problem"),
    describe=_problem_unlinked,
    refs={"problem": PROBLEM},
)
PROBLEM_CHANGED = event_kind(
    "problem_changed",
    gettext_lazy("Recurring problem changed"),
    describe=_problem_changed,
    refs={"problem": PROBLEM},
)
PROBLEM_FIX_SENT = event_kind(
    "problem_fix_sent",
    gettext_lazy("Fix of a recurring problem sent"),
    describe=_problem_fix_sent,
    refs={"problem": PROBLEM},
)
PROBLEM_FLAGGED = event_kind(
    "problem_flagged", gettext_lazy("Flagged as recurring"), describe=_problem_flagged
)
