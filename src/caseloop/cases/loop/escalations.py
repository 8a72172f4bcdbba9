"""Escalation: hand a case to someone with the authority or expertise, with everything they
need. The owner stays the owner and is reminded on a schedule until the solver reports it
solved and the customer confirms."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from caseloop.accounts.models import Role, Team, User
from caseloop.cases.models import (
    FINISHED_STATUSES,
    Case,
    Escalation,
    LoopSettings,
    Message,
    RemedyType,
    Reminder,
    Status,
)
from caseloop.cases.services import (
    _ensure_owner,
    case_transition,
    case_update,
    event_record,
    message_add,
)
from caseloop.lib.realtime import DESK_GROUP, case_group, publish

from . import selectors
from .authority import authority_escalation_check
from .errors import HandoffIncomplete, LoopError, LoopStateError
from .events import LoopEvent
from .letters import letter_compose, letter_language

logger = logging.getLogger(__name__)

ACTIVE = (Escalation.State.OPEN, Escalation.State.ACCEPTED)


def _target(escalation: Escalation) -> str:
    if escalation.to_user is not None:
        return escalation.to_user.username
    return escalation.to_team.name if escalation.to_team else "?"


def case_escalate(
    *,
    case: Case,
    actor: User,
    reason: str,
    to_team: Team | None = None,
    to_user: User | None = None,
    remedy: RemedyType | None = None,
    amount: Decimal | None = None,
) -> Escalation:
    """Hand the case to a team or person with the authority or expertise. Refused with
    HandoffIncomplete (listing what is missing) while the hand-off facts are not there;
    the refusal is recorded, since hand-offs refused for missing facts are measured.
    While a remedy awaits approval (the authority check said escalate), it must go to
    someone who may grant it (RemedyNotAuthorised names who), and carries that remedy.
    The owner stays the owner; the hand-off package is assembled and stored.
    Side effects: the case waits on internal work; an `escalated` event."""
    try:
        return _escalate(
            case=case,
            actor=actor,
            reason=reason,
            to_team=to_team,
            to_user=to_user,
            remedy=remedy,
            amount=amount,
        )
    except HandoffIncomplete as refused:
        with transaction.atomic():
            event_record(
                case=case,
                actor=actor,
                kind=LoopEvent.HANDOFF_REFUSED,
                data={"missing": [str(item.get("label", "")) for item in refused.missing]},
            )
        raise


@transaction.atomic
def _escalate(
    *,
    case: Case,
    actor: User,
    reason: str,
    to_team: Team | None,
    to_user: User | None,
    remedy: RemedyType | None,
    amount: Decimal | None,
) -> Escalation:
    if not actor.is_agent_like:
        raise LoopError("only agents can escalate")
    reason = (reason or "").strip()
    if not reason:
        raise LoopError("say why it is escalated")
    if (to_team is None) == (to_user is None):
        raise LoopError("escalate to a team or to a person (one of them)")
    if to_user is not None and not to_user.is_agent_like:
        raise LoopError("escalate to an agent, manager or admin")
    case = Case.objects.select_for_update(of=("self",)).select_related("owner").get(pk=case.pk)
    if case.status == Status.CLOSED:
        raise LoopStateError("the case is closed")
    missing = selectors.handoff_missing(case=case)
    if missing:
        raise HandoffIncomplete(missing)
    active = Escalation.objects.filter(case=case, state__in=ACTIVE).first()
    if active:
        raise LoopStateError(
            f"already escalated to {_target(active)} ({active.get_state_display().lower()})"
        )
    _ensure_owner(case=case, actor=actor)
    if to_user is not None and to_user.pk == case.owner_id:
        raise LoopError("the owner cannot escalate to themselves")
    pending = authority_escalation_check(case=case, to_user=to_user, to_team=to_team)
    if pending is not None and remedy is None:
        remedy, amount = pending.remedy, pending.amount
    if case.status == Status.NEW:
        case_transition(case=case, to=Status.OPEN, actor=actor, reason="escalated")
        case.refresh_from_db()
    if case.status in (Status.OPEN, Status.PENDING_CUSTOMER):
        case_transition(
            case=case, to=Status.PENDING_INTERNAL, actor=actor, reason="escalated; solver working"
        )
        case.refresh_from_db()
    owner = cast(User, case.owner)  # a case being escalated has an owner
    package = selectors.handoff_package(case=case)
    package["escalation"] = {
        "reason": reason,
        "to": to_user.username if to_user else cast(Team, to_team).name,
        "remedy": remedy.name if remedy else None,
        "amount": f"{amount:.2f}" if amount is not None else None,
        "owner": owner.username,
    }
    escalation = Escalation.objects.create(
        case=case,
        to_team=to_team,
        to_user=to_user,
        owner=owner,
        escalated_by=actor,
        reason=reason,
        remedy=remedy,
        amount=amount,
        package=package,
    )
    event_record(
        case=case,
        actor=actor,
        kind=LoopEvent.ESCALATED,
        data={
            "escalation": escalation.pk,
            "to_team": to_team.pk if to_team else None,
            "to_user": to_user.pk if to_user else None,
            "reason": reason,
            "owner": case.owner_id,
        },
    )
    return escalation


def _may_solve(escalation: Escalation, user: User) -> bool:
    if user.role in (Role.MANAGER, Role.ADMIN):
        return True
    if escalation.to_user_id:
        return user.pk == escalation.to_user_id
    return cast(Team, escalation.to_team).members.filter(pk=user.pk).exists()


def _lock(escalation: Escalation) -> Escalation:
    return (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("case", "to_team", "to_user", "owner", "solver")
        .get(pk=escalation.pk)
    )


def _accept(escalation: Escalation, solver: User) -> None:
    escalation.state = Escalation.State.ACCEPTED
    escalation.solver = solver
    escalation.accepted_at = timezone.now()
    escalation.save(update_fields=["state", "solver", "accepted_at"])
    # The solver works it; ownership does not move.
    case_update(case=escalation.case, actor=solver, assignee=solver, reason="escalation accepted")
    event_record(
        case=escalation.case,
        actor=solver,
        kind=LoopEvent.ESCALATION_ACCEPTED,
        data={"escalation": escalation.pk, "solver": solver.pk, "owner": escalation.case.owner_id},
    )


@transaction.atomic
def escalation_accept(*, escalation: Escalation, solver: User) -> Escalation:
    """The solver takes the escalation: they become the assignee; the owner stays.
    Side effects: `assignee_changed` and `escalation_accepted` events."""
    escalation = _lock(escalation)
    if escalation.state != Escalation.State.OPEN:
        raise LoopStateError(f"the escalation is {escalation.get_state_display().lower()}")
    if not _may_solve(escalation, solver):
        raise LoopError(f"this escalation is for {_target(escalation)}")
    _accept(escalation, solver)
    return escalation


@transaction.atomic
def escalation_return(*, escalation: Escalation, actor: User, question: str) -> Escalation:
    """The solver sends it back to the owner with a question.
    Side effects: the owner is the assignee again; an internal note with the question;
    `escalation_returned` event."""
    question = (question or "").strip()
    if not question:
        raise LoopError("say what you need to know")
    escalation = _lock(escalation)
    if escalation.state not in ACTIVE:
        raise LoopStateError(f"the escalation is {escalation.get_state_display().lower()}")
    if not _may_solve(escalation, actor):
        raise LoopError(f"this escalation is for {_target(escalation)}")
    case = escalation.case
    escalation.state = Escalation.State.RETURNED
    escalation.solver = escalation.solver or actor
    escalation.question = question
    escalation.returned_at = timezone.now()
    escalation.save(update_fields=["state", "solver", "question", "returned_at"])
    case_update(case=case, actor=actor, assignee=case.owner, reason="escalation returned")
    case.refresh_from_db()
    if case.status == Status.PENDING_INTERNAL:
        case_transition(case=case, to=Status.OPEN, actor=actor, reason="escalation returned")
    note = message_add(
        case=case,
        direction=Message.Direction.NOTE,
        text=f"Escalation returned by {actor.display_name} with a question: {question}",
        actor=actor,
    )
    event_record(
        case=case,
        actor=actor,
        kind=LoopEvent.ESCALATION_RETURNED,
        data={"escalation": escalation.pk, "question": question, "note": note.pk},
    )
    return escalation


def solution_message_text(*, case: Case, solution: str, solver: User) -> str:
    """The letter from the solver telling the customer how their case was solved."""
    with letter_language(case=case):
        body = (
            gettext("Good news about your case %(ref)s (%(subject)s): it is solved.")
            % {"ref": case.reference, "subject": case.subject}
            + f"\n\n{solution}\n\n"
            + gettext(
                "We will check with you shortly that all is well. If anything is not, simply "
                "reply to this message."
            )
        )
    return letter_compose(case=case, agent=solver, body=body)


@transaction.atomic
def escalation_solved(*, escalation: Escalation, actor: User, solution: str) -> Escalation:
    """The solver reports it solved: the customer is told the solution on the case's
    channel, the case becomes solved (its follow-up will ask the customer to confirm) and
    the owner is told. The owner keeps being reminded until the customer confirms.
    Refused (RemedyNotAuthorised) when the case awaits a remedy the solver may not grant.
    Side effects: an outbound message (delivered after commit); `message_added`,
    `escalation_solved` and `status_changed` events; after commit, an `escalation.solved`
    push for the owner."""
    solution = (solution or "").strip()
    if not solution:
        raise LoopError("say how it was solved")
    escalation = _lock(escalation)
    if escalation.state not in ACTIVE:
        raise LoopStateError(f"the escalation is {escalation.get_state_display().lower()}")
    if not _may_solve(escalation, actor):
        raise LoopError(f"this escalation is for {_target(escalation)}")
    if escalation.state == Escalation.State.OPEN:
        _accept(escalation, actor)
    escalation.state = Escalation.State.SOLVED
    escalation.solution = solution
    escalation.solved_at = timezone.now()
    escalation.save(update_fields=["state", "solution", "solved_at"])
    case = escalation.case
    case.refresh_from_db()
    message = None
    if case.status != Status.CLOSED:
        message = message_add(
            case=case,
            direction=Message.Direction.OUTBOUND,
            text=solution_message_text(case=case, solution=solution, solver=actor),
            actor=actor,
            metadata={"loop": "escalation_solution", "escalation": escalation.pk},
        )
    event_record(
        case=case,
        actor=actor,
        kind=LoopEvent.ESCALATION_SOLVED,
        data={
            "escalation": escalation.pk,
            "solution": solution,
            "solver": actor.pk,
            "owner": escalation.owner_id,
            "message": message.pk if message else None,
        },
    )
    case.refresh_from_db()
    if case.status not in FINISHED_STATUSES:
        case = case_transition(
            case=case, to=Status.SOLVED, actor=actor, reason=f"solved by {actor.username}"
        )
    payload = {
        "kind": "escalation.solved",
        "case_id": case.pk,
        "reference": case.reference,
        "status": case.status,
        "escalation": escalation.pk,
        "owner": escalation.owner_id,
        "solver": actor.pk,
    }
    transaction.on_commit(lambda: publish(DESK_GROUP, payload))
    transaction.on_commit(lambda: publish(case_group(case.pk), payload))
    return escalation


def escalations_confirm_by_customer(*, case: Case, at: datetime) -> int:
    """Mark the case's solved escalations confirmed by the customer (caller holds the
    transaction; the reminder job stops them and records it)."""
    return Escalation.objects.filter(
        case=case, state=Escalation.State.SOLVED, customer_confirmed_at__isnull=True
    ).update(customer_confirmed_at=at)


def _reminder_text(escalation: Escalation, owner: User) -> str:
    target = _target(escalation)
    solver = escalation.solver.username if escalation.solver else target
    state = escalation.state
    if state == Escalation.State.OPEN:
        detail = f"the escalation to {target} has not been accepted yet"
    elif state == Escalation.State.ACCEPTED:
        detail = f"{solver} is working on it"
    elif state == Escalation.State.RETURNED:
        detail = (
            f"{solver} returned it with a question: {escalation.question} — answer it and "
            "escalate again"
        )
    else:
        detail = f"{solver} reported it solved; the customer has not confirmed yet"
    return f"Reminder for {owner.display_name}, owner of {escalation.case.reference}: {detail}."


def _stop_reason(escalation: Escalation) -> str:
    case = escalation.case
    if escalation.state == Escalation.State.SOLVED and escalation.customer_confirmed_at:
        return "solved by the solver and confirmed by the customer"
    if case.status == Status.CLOSED:
        return "case closed"
    if (
        escalation.state == Escalation.State.RETURNED
        and Escalation.objects.filter(case=case, pk__gt=escalation.pk).exists()
    ):
        return "superseded by a newer escalation"
    return ""


def escalation_reminders_send(*, now: datetime | None = None) -> int:
    """Remind the owner of every escalated case that is not finished, once per interval;
    stop (and record it) when the solver has solved it and the customer has confirmed.
    Returns how many reminders were sent. Side effects per reminder: a Reminder, an
    internal note, an `owner_reminded` event; per stop, a `reminders_stopped` event."""
    now = now or timezone.now()
    interval = timedelta(hours=LoopSettings.current().reminder_interval_hours)
    sent = 0
    pending = Escalation.objects.filter(reminders_stopped_at__isnull=True).values_list(
        "pk", flat=True
    )
    for escalation_id in list(pending.order_by("id")):
        try:
            sent += _remind_one(escalation_id=escalation_id, now=now, interval=interval)
        except Exception:  # noqa: BLE001 - one broken escalation must not stop the others
            logger.exception("reminding escalation %s failed", escalation_id)
    return sent


@transaction.atomic
def _remind_one(*, escalation_id: int, now: datetime, interval: timedelta) -> int:
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("case", "case__owner", "to_team", "to_user", "solver")
        .get(pk=escalation_id)
    )
    if escalation.reminders_stopped_at is not None:
        return 0
    stop = _stop_reason(escalation)
    if stop:
        escalation.reminders_stopped_at = now
        escalation.save(update_fields=["reminders_stopped_at"])
        event_record(
            case=escalation.case,
            kind=LoopEvent.REMINDERS_STOPPED,
            data={"escalation": escalation.pk, "reason": stop},
        )
        return 0
    last = escalation.reminders.order_by("-sent_at").values_list("sent_at", flat=True).first()
    if now - (last or escalation.created_at) < interval:
        return 0
    owner = escalation.case.owner or escalation.owner
    text = _reminder_text(escalation, owner)
    note = message_add(
        case=escalation.case, direction=Message.Direction.NOTE, text=text, system=True
    )
    reminder = Reminder.objects.create(
        escalation=escalation,
        case=escalation.case,
        to_user=owner,
        text=text,
        note=note,
        sent_at=now,
    )
    event_record(
        case=escalation.case,
        kind=LoopEvent.REMINDER_SENT,
        data={
            "escalation": escalation.pk,
            "reminder": reminder.pk,
            "owner": owner.pk,
            "state": escalation.state,
        },
    )
    return 1
