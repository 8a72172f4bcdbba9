"""Who is told of what. Each reaction runs in the worker through the outbox, at least once;
a notification is kept once per person and cause, so a repeat tells nobody twice.

- An escalation: the person it went to, or each member of the team; and the followers.
- A question returned by the solver, or the solver's "solved": the escalation's owner.
- A case given to someone (owner or assignee) by someone else, or by routing: that person.
- An SLA warning or breach: the owner, else the assignee.
- A department's answer: who asked, and the owner.
- A customer's reply (not the opening message): the owner, else the assignee; and the
  followers.
- An internal note: each colleague it @mentions; the owner and the followers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from caseloop.accounts.models import STAFF_ROLES, User
from caseloop.cases.events import event_lines
from caseloop.cases.hooks import MessageFacts
from caseloop.cases.loop.models import Escalation
from caseloop.cases.loop.request_models import DepartmentRequest
from caseloop.cases.models import Case, CaseEvent, Message

from .models import CaseFollower, Notification
from .services import Notice, notifications_create

K = Notification.Kind
EVENT_KINDS = {
    "escalated": K.ESCALATED,
    "escalation_returned": K.RETURNED,
    "escalation_solved": K.SOLVED_BY_SOLVER,
    "owner_assigned": K.ASSIGNED,
    "owner_transferred": K.ASSIGNED,
    "assignee_changed": K.ASSIGNED,
    "sla_warning": K.SLA_WARNING,
    "sla_breached": K.SLA_BREACHED,
    "request_answered": K.REQUEST_ANSWERED,
}
# "@ana", "@ana.lopez" — not an email address's "@".
MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9][A-Za-z0-9_.+-]*[A-Za-z0-9_]|[A-Za-z0-9])")


def _staff(ids: Iterable[int | None]) -> set[int]:
    wanted = {pk for pk in ids if pk is not None}
    if not wanted:
        return set()
    return set(
        User.objects.filter(pk__in=wanted, is_active=True, role__in=list(STAFF_ROLES)).values_list(
            "pk", flat=True
        )
    )


def _team_members(team_id: int | None) -> set[int]:
    if team_id is None:
        return set()
    return set(
        User.objects.filter(teams=team_id, is_active=True, role__in=list(STAFF_ROLES)).values_list(
            "pk", flat=True
        )
    )


def _followers(case_id: int) -> set[int]:
    return set(CaseFollower.objects.filter(case_id=case_id).values_list("user_id", flat=True))


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _event_recipients(event: CaseEvent, case: Case) -> set[int]:
    data = event.data if isinstance(event.data, dict) else {}
    kind = event.kind
    if kind == "escalated":
        to_user = _int(data.get("to_user"))
        direct = {to_user} if to_user else _team_members(_int(data.get("to_team")))
        return _staff([*direct, *_followers(case.pk)])
    if kind in ("escalation_returned", "escalation_solved"):
        escalation = Escalation.objects.filter(pk=_int(data.get("escalation")) or 0).first()
        return _staff({escalation.owner_id if escalation else case.owner_id})
    if kind in ("owner_assigned", "owner_transferred", "assignee_changed"):
        return _staff({_int(data.get("after"))})
    if kind in ("sla_warning", "sla_breached"):
        return _staff({case.owner_id or case.assignee_id})
    if kind == "request_answered":
        request = DepartmentRequest.objects.filter(pk=_int(data.get("request")) or 0).first()
        return _staff({request.asked_by_id if request else None, case.owner_id})
    return set()


def event_notify(event_id: int) -> None:
    """Reaction to an event of one of EVENT_KINDS: notify the people it concerns."""
    event = CaseEvent.objects.select_related("case", "actor").filter(pk=event_id).first()
    if event is None or event.kind not in EVENT_KINDS:
        return
    case = event.case
    recipients = _event_recipients(event, case) - {event.actor_id}
    if not recipients:
        return
    who = event.actor.display_name if event.actor else "Caseloop"
    data = event.data if isinstance(event.data, dict) else {}
    if event.kind == "escalated":
        text = f"{case.reference}: {who} escalated “{case.subject}”: {data.get('reason', '')}"
    elif event.kind == "escalation_returned":
        text = f"{case.reference}: {who} asked you: “{data.get('question', '')}”"
    elif event.kind == "escalation_solved":
        text = f"{case.reference}: {who} solved it: “{_excerpt(str(data.get('solution', '')))}”"
    else:
        line = event_lines(events=[event], known=[case.owner, event.actor])[event.pk]
        text = f"{case.reference}: {line.text}" + (f" ({line.reason})" if line.reason else "")
    notifications_create(
        Notice(
            kind=EVENT_KINDS[event.kind],
            case_id=case.pk,
            actor_id=event.actor_id,
            text=text,
            source=f"event:{event.pk}",
        ),
        users=recipients,
    )


def mentioned_users(text: str) -> set[int]:
    """The active colleagues a note names with @username (case-insensitive)."""
    names = {name.rstrip(".").lower() for name in MENTION.findall(text)}
    if not names:
        return set()
    return {
        pk
        for pk, username in User.objects.filter(
            is_active=True, role__in=list(STAFF_ROLES)
        ).values_list("pk", "username")
        if username.lower() in names
    }


def _excerpt(text: str, size: int = 140) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1].rstrip() + "…"


def message_is_news(facts: MessageFacts) -> bool:
    """A customer's reply (not their opening message, which reaches its queue with the
    case) or an internal note."""
    if facts.direction == Message.Direction.INBOUND:
        return not facts.opening
    return facts.direction == Message.Direction.NOTE


def message_notify(message_id: int) -> None:
    """Reaction to a new message: a customer's reply or an internal note."""
    message = (
        Message.objects.select_related("case", "author_user", "author_customer")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return
    case = message.case
    source = f"message:{message.pk}"
    if message.direction == Message.Direction.INBOUND:
        first = Message.objects.filter(case=case).order_by("id").values_list("pk", flat=True)[:1]
        if list(first) == [message.pk]:
            return  # the opening message: the case itself reaches its queue
        who = message.author_customer.display_name if message.author_customer else "The customer"
        recipients = _staff([case.owner_id or case.assignee_id, *_followers(case.pk)])
        notifications_create(
            Notice(
                kind=K.CUSTOMER_REPLIED,
                case_id=case.pk,
                actor_id=None,
                text=f"{case.reference}: {who} replied: “{_excerpt(message.text)}”",
                source=source,
            ),
            users=recipients,
        )
        return
    if message.direction != Message.Direction.NOTE:
        return
    author = message.author_user_id
    who = message.author_user.display_name if message.author_user else "A colleague"
    mentioned = mentioned_users(message.text) - {author}
    notifications_create(
        Notice(
            kind=K.MENTIONED,
            case_id=case.pk,
            actor_id=author,
            text=f"{case.reference}: {who} mentioned you: “{_excerpt(message.text)}”",
            source=source,
        ),
        users=_staff(mentioned),
    )
    watchers = _staff([case.owner_id, *_followers(case.pk)]) - mentioned - {author}
    notifications_create(
        Notice(
            kind=K.NOTE,
            case_id=case.pk,
            actor_id=author,
            text=f"{case.reference}: {who} added a note: “{_excerpt(message.text)}”",
            source=source,
        ),
        users=watchers,
    )
