"""Follow-up after a case is solved, and repeat complaints.

When a case becomes solved a follow-up is scheduled; when due the customer is asked (signed
yes/no links); "yes" closes the case, "no" reopens it to its owner, and no answer closes it
after a configured time, recorded as such.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from caseloop.accounts.models import User
from caseloop.cases.extensions import cases_complaint_ids
from caseloop.cases.models import (
    FINISHED_STATUSES,
    PRIORITY_RANK,
    Case,
    CaseEvent,
    CaseLink,
    FollowUp,
    LoopSettings,
    Message,
    RepeatComplaint,
    Status,
)
from caseloop.cases.services import case_transition, case_update, event_record, message_add

from .errors import LoopError, LoopStateError
from .escalations import escalations_confirm_by_customer
from .events import LoopEvent
from .letters import letter_compose, letter_language
from .problem import problem_statement_ensure
from .tokens import link_url

logger = logging.getLogger(__name__)

ACTIVE = (FollowUp.State.SCHEDULED, FollowUp.State.ASKED)


@transaction.atomic
def followup_schedule(*, case: Case, now: datetime | None = None) -> FollowUp | None:
    """Schedule the follow-up of a solved case (idempotent: one active follow-up at most).
    Side effects: a `followup_scheduled` event."""
    now = now or timezone.now()
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status != Status.SOLVED:
        return None
    active = FollowUp.objects.filter(case=case, state__in=ACTIVE).first()
    if active:
        return active
    delay = LoopSettings.current().followup_delay_hours
    followup = FollowUp.objects.create(case=case, due_at=now + timedelta(hours=delay))
    event_record(
        case=case,
        kind=LoopEvent.FOLLOWUP_SCHEDULED,
        data={"followup": followup.pk, "due_at": followup.due_at.isoformat(), "delay_hours": delay},
    )
    return followup


@transaction.atomic
def followup_cancel(*, case: Case, reason: str) -> int:
    """Cancel active follow-ups (the case was reopened). Side effects: an event each."""
    cancelled = 0
    for followup in FollowUp.objects.select_for_update().filter(case=case, state__in=ACTIVE):
        followup.state = FollowUp.State.CANCELLED
        followup.reason = reason[:300]
        followup.save(update_fields=["state", "reason"])
        event_record(
            case=case,
            kind=LoopEvent.FOLLOWUP_CANCELLED,
            data={"followup": followup.pk, "reason": reason},
        )
        cancelled += 1
    return cancelled


def followup_question_text(*, followup: FollowUp, answer_days: int) -> str:
    """The "is it solved?" letter from the case's owner, with signed yes/no links."""
    case = followup.case
    yes = link_url(purpose="followup", object_id=followup.pk, answer="yes")
    no = link_url(purpose="followup", object_id=followup.pk, answer="no")
    with letter_language(case=case):
        body = gettext(
            "We believe your case %(ref)s (%(subject)s) is solved.\n"
            "Is it? Yes, it is solved: %(yes)s\n"
            "No, it is not: %(no)s\n"
            "If we do not hear from you within %(days)s days we will close it; you can "
            "reopen it any time by replying."
        ) % {
            "ref": case.reference,
            "subject": case.subject,
            "yes": yes,
            "no": no,
            "days": answer_days,
        }
    return letter_compose(case=case, agent=case.owner, body=body)


@transaction.atomic
def followup_ask(*, followup: FollowUp, now: datetime | None = None) -> Message:
    """Ask the customer whether the case is solved, with signed yes/no links.
    Side effects: a system outbound message; a `followup_asked` event."""
    now = now or timezone.now()
    followup = FollowUp.objects.select_for_update().select_related("case").get(pk=followup.pk)
    if followup.state != FollowUp.State.SCHEDULED:
        raise LoopStateError(f"the follow-up is {followup.get_state_display().lower()}")
    if followup.case.status != Status.SOLVED:
        raise LoopStateError("the case is no longer solved")
    days = LoopSettings.current().followup_answer_days
    text = followup_question_text(followup=followup, answer_days=days)
    message = message_add(
        case=followup.case,
        direction=Message.Direction.OUTBOUND,
        text=text,
        system=True,
        metadata={"loop": "followup", "followup": followup.pk},
    )
    followup.state = FollowUp.State.ASKED
    followup.asked_at = now
    followup.asked_message = message
    followup.answer_by = now + timedelta(days=days)
    followup.save(update_fields=["state", "asked_at", "asked_message", "answer_by"])
    event_record(
        case=followup.case,
        kind=LoopEvent.FOLLOWUP_ASKED,
        data={
            "followup": followup.pk,
            "message": message.pk,
            "answer_by": followup.answer_by.isoformat(),
        },
    )
    return message


@transaction.atomic
def followup_answer(
    *,
    case: Case,
    solved: bool,
    channel: str,
    actor: User | None = None,
    followup: FollowUp | None = None,
) -> FollowUp:
    """The customer's answer: solved closes the case; not solved reopens it to its owner.
    Side effects: `followup_answered` and `status_changed` events (and `assignee_changed`
    when the owner takes it back); escalations are marked confirmed by the customer."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if followup is None:
        followup = FollowUp.objects.filter(case=case, state__in=ACTIVE).order_by("-id").first()
    else:
        followup = FollowUp.objects.select_for_update().get(pk=followup.pk)
        if followup.case_id != case.pk:
            raise LoopError("that follow-up belongs to another case")
        if followup.state not in ACTIVE:
            raise LoopStateError("this question has already been answered")
    if case.status != Status.SOLVED:
        raise LoopStateError("the case is not waiting for your confirmation")
    now = timezone.now()
    if followup is None:
        followup = FollowUp.objects.create(case=case, due_at=now)
    followup.answered_at = now
    followup.channel = (channel or "")[:16]
    actor_or_none = actor if actor is not None and actor.is_authenticated else None
    if solved:
        followup.state = FollowUp.State.CONFIRMED
        followup.reason = "customer confirmed it is solved"
        followup.save(update_fields=["state", "answered_at", "channel", "reason"])
        event_record(
            case=case,
            actor=actor_or_none,
            kind=LoopEvent.FOLLOWUP_ANSWERED,
            data={"followup": followup.pk, "solved": True, "channel": followup.channel},
        )
        escalations_confirm_by_customer(case=case, at=now)
        case_transition(case=case, to=Status.CLOSED, actor=actor_or_none, reason=followup.reason)
    else:
        followup.state = FollowUp.State.REOPENED
        followup.reason = "customer says it is not solved"
        followup.save(update_fields=["state", "answered_at", "channel", "reason"])
        event_record(
            case=case,
            actor=actor_or_none,
            kind=LoopEvent.FOLLOWUP_ANSWERED,
            data={"followup": followup.pk, "solved": False, "channel": followup.channel},
        )
        case_transition(case=case, to=Status.OPEN, actor=actor_or_none, reason=followup.reason)
        if case.owner_id:
            case_update(
                case=case,
                actor=actor_or_none,
                assignee=case.owner,
                reason="reopened to its owner",
            )
    return followup


@transaction.atomic
def _close_unanswered(*, followup_id: int, now: datetime) -> bool:
    followup = FollowUp.objects.select_for_update().select_related("case").get(pk=followup_id)
    # An asked follow-up has both its asked_at and its answer_by.
    answer_by = cast(datetime, followup.answer_by)
    if followup.state != FollowUp.State.ASKED or answer_by > now:
        return False
    case = Case.objects.select_for_update().get(pk=followup.case_id)
    days = max(round((answer_by - cast(datetime, followup.asked_at)).total_seconds() / 86400), 0)
    reason = f"no answer after {days} days"
    followup.state = FollowUp.State.CLOSED_NO_ANSWER
    followup.reason = reason
    followup.save(update_fields=["state", "reason"])
    event_record(
        case=case,
        kind=LoopEvent.FOLLOWUP_NO_ANSWER,
        data={"followup": followup.pk, "reason": reason},
    )
    if case.status == Status.SOLVED:
        case_transition(case=case, to=Status.CLOSED, reason=reason)
    return True


def followups_process(*, now: datetime | None = None) -> dict[str, Any]:
    """The periodic pass: schedule follow-ups of solved cases that lack one, ask the
    customers whose follow-up is due, close cases whose question went unanswered.
    Returns counts. Side effects: those of followup_schedule / followup_ask / closing."""
    now = now or timezone.now()
    counts = {"scheduled": 0, "asked": 0, "closed_no_answer": 0}
    unscheduled = (
        Case.objects.filter(status=Status.SOLVED, solved_at__isnull=False)
        .exclude(followups__created_at__gte=F("solved_at"))
        .values_list("pk", flat=True)
    )
    for case_id in list(unscheduled[:500]):
        if followup_schedule(case=Case(pk=case_id), now=now):
            counts["scheduled"] += 1
    due = FollowUp.objects.filter(state=FollowUp.State.SCHEDULED, due_at__lte=now)
    for followup_id, case_id, status in list(
        due.values_list("pk", "case_id", "case__status")[:500]
    ):
        try:
            if status != Status.SOLVED:
                followup_cancel(case=Case(pk=case_id), reason=f"case is {status}, not solved")
                continue
            followup_ask(followup=FollowUp(pk=followup_id), now=now)
            counts["asked"] += 1
        except Exception:  # noqa: BLE001 - one failure must not stop the pass
            logger.exception("asking follow-up %s failed", followup_id)
    overdue = FollowUp.objects.filter(state=FollowUp.State.ASKED, answer_by__lte=now)
    for followup_id in list(overdue.values_list("pk", flat=True)[:500]):
        try:
            counts["closed_no_answer"] += _close_unanswered(followup_id=followup_id, now=now)
        except Exception:  # noqa: BLE001
            logger.exception("closing follow-up %s failed", followup_id)
    return counts


def on_status_changed(case_id: int, before: str, after: str) -> None:
    """Hook: solved → schedule the follow-up; reopened or closed meanwhile → cancel it."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        return
    if after == Status.SOLVED:
        followup_schedule(case=case)
    elif after == Status.OPEN and before in FINISHED_STATUSES:
        followup_cancel(case=case, reason="case reopened")
    elif after == Status.CLOSED:
        # Closed by an agent before the customer answered: nothing left to ask.
        followup_cancel(case=case, reason="case closed before the customer answered")


# --- 10. Repeat complaints ---------------------------------------------------------------


REPEAT_TAG = "repeat-complaint"


def _raised(priority: str) -> str:
    order = sorted(PRIORITY_RANK, key=PRIORITY_RANK.__getitem__)
    index = PRIORITY_RANK.get(priority, 1)
    return order[min(index + 1, len(order) - 1)]


@transaction.atomic
def repeat_complaint_check(*, case: Case) -> RepeatComplaint | None:
    """When a customer with an unresolved (not closed) complaint opens a new case, flag it
    "repeat-complaint", link it to the earlier one and raise its priority one step.
    Side effects: `tags_changed`, `priority_changed`, `link_added`-like and
    `repeat_complaint` events."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("customer", "category")
        .get(pk=case.pk)
    )
    if RepeatComplaint.objects.filter(case=case).exists():
        return None
    earlier_cases = list(
        Case.objects.filter(customer_id=case.customer_id, pk__lt=case.pk)
        .exclude(status=Status.CLOSED)
        .select_related("category")
        .order_by("-id")[:20]
    )
    complaints = cases_complaint_ids(cases=earlier_cases)
    earlier = next((c for c in earlier_cases if c.pk in complaints), None)
    if earlier is None:
        return None
    before = case.priority
    after = _raised(before)
    reason = f"repeat complaint: {earlier.reference} is still unresolved"
    tags = sorted({*case.tags.values_list("name", flat=True), REPEAT_TAG})
    case_update(case=case, actor=None, tags=tags, priority=after, reason=reason)
    repeat = RepeatComplaint.objects.create(
        case=case, earlier_case=earlier, priority_before=before, priority_after=after
    )
    link = CaseLink.objects.create(
        case=case, kind=CaseLink.Kind.CASE, linked_case=earlier, note="earlier unresolved complaint"
    )
    event_record(
        case=case,
        kind=LoopEvent.REPEAT_COMPLAINT,
        data={
            "earlier_case": earlier.pk,
            "earlier_reference": earlier.reference,
            "link": link.pk,
            "priority_before": before,
            "priority_after": after,
        },
    )
    return repeat


def repeat_priority_keep(case_id: int, fields: list[str]) -> None:
    """Hook: automation (no person) may not lower a repeat complaint's raised priority;
    a person may. Side effects: a `priority_changed` event when it is raised back."""
    if "priority" not in fields:
        return
    repeat = (
        RepeatComplaint.objects.filter(case_id=case_id)
        .select_related("case", "earlier_case")
        .order_by("-id")
        .first()
    )
    if repeat is None:
        return
    case = repeat.case
    if PRIORITY_RANK.get(case.priority, 1) >= PRIORITY_RANK.get(repeat.priority_after, 1):
        return
    last = (
        CaseEvent.objects.filter(case_id=case_id, kind=CaseEvent.Kind.PRIORITY_CHANGED)
        .order_by("-id")
        .first()
    )
    if last is not None and last.actor_id is not None:
        return
    case_update(
        case=case,
        actor=None,
        priority=repeat.priority_after,
        reason=f"repeat complaint: {repeat.earlier_case.reference} is still unresolved",
    )


def on_case_created(case_id: int) -> None:
    """Hook: keep the customer's own words; flag a repeat complaint."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        return
    problem_statement_ensure(case=case)
    repeat_complaint_check(case=case)


__all__ = [
    "followup_answer",
    "followup_ask",
    "followup_cancel",
    "followup_schedule",
    "followups_process",
    "on_case_created",
    "on_status_changed",
    "repeat_complaint_check",
    "repeat_priority_keep",
]
