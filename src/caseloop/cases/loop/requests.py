"""Asking another department: a request for information or action to a team of the desk or
to someone without a desk login (by email, answered through a signed link). The request
carries the hand-off facts the asker chose and a due time; the recipient is reminded once
per interval after it and the owner told it is overdue. The answer lands on the case as an
internal note and can become a fact. The case's owner never changes."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy

from caseloop.accounts.models import STAFF_ROLES, DeskIdentity, Role, Team, User
from caseloop.cases import outbox
from caseloop.cases.events import EventNames, event_kind
from caseloop.cases.models import Case, CaseEvent, DepartmentRequest, LoopSettings, Message, Status
from caseloop.cases.services import _ensure_owner, event_record, message_add
from caseloop.lib.errors import ErrorKind
from caseloop.lib.language import language_override
from caseloop.lib.realtime import publish, user_group

from . import selectors
from .errors import LinkInvalid, LoopError, LoopStateError
from .facts import fact_record
from .tokens import token_make, token_read

logger = logging.getLogger(__name__)

REQUEST_MAIL_EFFECT = "cases.department_request_mail"
TOKEN_PURPOSE = "request"
ANSWER_MAX = 10_000


def _to(event: CaseEvent, names: EventNames) -> str:
    data = event.data if isinstance(event.data, dict) else {}
    return str(data.get("to_email") or names.name(event, "to_team") or _("another department"))


def _sent(event: CaseEvent, names: EventNames) -> str:
    data = event.data if isinstance(event.data, dict) else {}
    values = {"to": _to(event, names), "question": data.get("question", "")}
    if data.get("kind") == DepartmentRequest.Kind.ACTION:
        return _("Asked %(to)s to act: “%(question)s”") % values
    return _("Asked %(to)s: “%(question)s”") % values


def _answered(event: CaseEvent, names: EventNames) -> str:
    data = event.data if isinstance(event.data, dict) else {}
    return _("%(by)s answered: “%(answer)s”") % {
        "by": data.get("by") or _("Another department"),
        "answer": data.get("answer", ""),
    }


def _as_fact(event: CaseEvent, names: EventNames) -> str:
    data = event.data if isinstance(event.data, dict) else {}
    return _("An answer from another department recorded as the fact “%(key)s”") % {
        "key": data.get("key", "")
    }


def _reminded(event: CaseEvent, names: EventNames) -> str:
    data = event.data if isinstance(event.data, dict) else {}
    return _("Overdue request: %(to)s reminded (reminder %(count)s)") % {
        "to": _to(event, names),
        "count": data.get("count", 1),
    }


_TEAM = {"to_team": "accounts.Team"}
REQUEST_SENT = event_kind(
    "request_sent", gettext_lazy("Asked another department"), describe=_sent, refs=_TEAM
)
REQUEST_ANSWERED = event_kind(
    "request_answered", gettext_lazy("Another department answered"), describe=_answered
)
REQUEST_ANSWER_AS_FACT = event_kind(
    "request_answer_fact", gettext_lazy("An answer became a fact"), describe=_as_fact
)
REQUEST_CANCELLED = event_kind(
    "request_cancelled", gettext_lazy("A request to another department cancelled")
)
REQUEST_REMINDED = event_kind(
    "request_reminded",
    gettext_lazy("A request to another department is overdue"),
    describe=_reminded,
    refs=_TEAM,
)


class RequestForbidden(LoopError):
    """The person may not act on this request (not of the team it went to, say)."""

    code = "request_forbidden"
    kind = ErrorKind.FORBIDDEN


# --- Reads -------------------------------------------------------------------------------


def requests_of(*, case: Case) -> QuerySet[DepartmentRequest]:
    return (
        DepartmentRequest.objects.filter(case=case)
        .select_related("to_team", "asked_by", "answered_by")
        .order_by("-id")
    )


def requests_for_teams_of(
    *, user: User, state: str = DepartmentRequest.State.OPEN
) -> QuerySet[DepartmentRequest]:
    """Requests to the teams `user` belongs to (every team's, for managers and admins)."""
    wanted = DepartmentRequest.objects.filter(to_team__isnull=False)
    if user.role not in (Role.MANAGER, Role.ADMIN):
        wanted = wanted.filter(to_team__members=user)
    if state:
        wanted = wanted.filter(state=state)
    return wanted.select_related("case", "to_team", "asked_by", "case__owner").order_by(
        "due_at", "id"
    )


def request_facts_available(*, case: Case) -> list[dict[str, str]]:
    """The facts the case holds that a request can carry: {"key", "label", "value"}, the
    checklist's first, then the others recorded."""
    facts = selectors.facts_current(case=case)
    items = [
        {"key": item.key, "label": item.label, "value": item.value}
        for item in selectors.fact_checklist(case=case, facts=facts)
        if item.value.strip()
    ]
    listed = {item["key"] for item in items}
    items += [
        {"key": key, "label": key.replace("_", " ").capitalize(), "value": fact.value}
        for key, fact in facts.items()
        if key not in listed
    ]
    return items


def request_may_answer(*, request: DepartmentRequest, user: User) -> bool:
    """Members of the team it went to, and managers and admins. A request to an outside
    address is answered through its link."""
    if not user.is_agent_like or request.to_team_id is None:
        return False
    if user.role in (Role.MANAGER, Role.ADMIN):
        return True
    return request.to_team is not None and request.to_team.members.filter(pk=user.pk).exists()


def request_link(*, request: DepartmentRequest) -> str:
    token = token_make(purpose=TOKEN_PURPOSE, object_id=request.pk, answer="answer")
    return settings.SITE_URL + reverse("web:request_reply", kwargs={"token": token})


def request_from_token(*, token: str, max_age_seconds: int | None = None) -> DepartmentRequest:
    """The request a signed reply link names; LinkInvalid when altered, LinkExpired when
    older than the desk's link lifetime."""
    object_id, _answer = token_read(
        purpose=TOKEN_PURPOSE, token=token, max_age_seconds=max_age_seconds
    )
    request = (
        DepartmentRequest.objects.select_related("case").filter(pk=object_id, to_team=None).first()
    )
    if request is None or not request.to_email:
        raise LinkInvalid("this link is not valid")
    return request


# --- Writes ------------------------------------------------------------------------------


def _team_members(team_id: int | None) -> list[int]:
    if team_id is None:
        return []
    return list(
        User.objects.filter(teams=team_id, is_active=True, role__in=list(STAFF_ROLES)).values_list(
            "pk", flat=True
        )
    )


def _push(user_ids: Iterable[int], payload: dict[str, Any]) -> None:
    ids = sorted(set(user_ids))

    def send() -> None:
        for pk in ids:
            publish(user_group(pk), payload)

    transaction.on_commit(send)


def _payload(kind: str, request: DepartmentRequest) -> dict[str, Any]:
    return {
        "kind": kind,
        "case_id": request.case_id,
        "reference": request.case.reference,
        "request": request.pk,
        "to_team": request.to_team_id,
    }


@transaction.atomic
def request_create(
    *,
    case: Case,
    actor: User,
    question: str,
    due_at: datetime,
    kind: str = DepartmentRequest.Kind.INFORMATION,
    to_team: Team | None = None,
    to_email: str = "",
    fact_keys: Iterable[str] = (),
) -> DepartmentRequest:
    """Ask a team, or a person outside the desk by email, for information or action, with
    the chosen facts. The asker becomes the owner of an unowned case; an owned case keeps
    its owner. Side effects: a `request_sent` event; for an address, the email with the
    question, the facts and a signed reply link (outbox); for a team, after commit, a push
    to each member."""
    if not actor.is_agent_like:
        raise LoopError("only agents can ask another department")
    question = (question or "").strip()
    if not question:
        raise LoopError("say what you are asking")
    if kind not in DepartmentRequest.Kind.values:
        raise LoopError(f"unknown kind of request '{kind}'")
    to_email = (to_email or "").strip()
    if (to_team is None) == (not to_email):
        raise LoopError("ask a team or an email address (one of them)")
    if to_email:
        try:
            validate_email(to_email)
        except ValidationError as exc:
            raise LoopError(f"'{to_email}' is not an email address") from exc
    if timezone.is_naive(due_at):
        raise LoopError("give the due time with its time zone")
    if due_at <= timezone.now():
        raise LoopError("the due time must be in the future")
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if case.status == Status.CLOSED:
        raise LoopStateError("the case is closed")
    available = {item["key"]: item for item in request_facts_available(case=case)}
    wanted = list(dict.fromkeys(key for key in fact_keys if key))
    unknown = [key for key in wanted if key not in available]
    if unknown:
        raise LoopError(f"the case has no fact '{unknown[0]}'")
    _ensure_owner(case=case, actor=actor)
    request = DepartmentRequest.objects.create(
        case=case,
        asked_by=actor,
        kind=kind,
        to_team=to_team,
        to_email=to_email,
        question=question[:ANSWER_MAX],
        facts=[available[key] for key in wanted],
        due_at=due_at,
    )
    event_record(
        case=case,
        actor=actor,
        kind=REQUEST_SENT,
        data={
            "request": request.pk,
            "kind": kind,
            "to_team": to_team.pk if to_team else None,
            "to_email": to_email,
            "question": request.question,
            "facts": wanted,
            "due_at": due_at.isoformat(),
        },
    )
    if to_email:
        outbox.effect_record(
            kind=REQUEST_MAIL_EFFECT,
            payload={"request": request.pk, "reminder": 0},
            key=f"{REQUEST_MAIL_EFFECT}:{request.pk}:0",
            case_id=case.pk,
        )
    else:
        _push(_team_members(request.to_team_id), _payload("request.sent", request))
    return request


def _lock(request: DepartmentRequest) -> DepartmentRequest:
    return (
        DepartmentRequest.objects.select_for_update(of=("self",))
        .select_related("case", "to_team", "asked_by")
        .get(pk=request.pk)
    )


@transaction.atomic
def request_answer(
    *, request: DepartmentRequest, answer: str, actor: User | None = None
) -> DepartmentRequest:
    """Record the answer: from a member of the team it went to (`actor`), or from the
    outside person through the signed link (no actor). Answered or cancelled requests
    refuse another answer. Side effects: an internal note on the case with the answer; a
    `request_answered` event; after commit, a push to the case's owner."""
    answer = (answer or "").strip()
    if not answer:
        raise LoopError("write the answer")
    request = _lock(request)
    if actor is None:
        if not request.to_email:
            raise RequestForbidden("a team's request is answered in the desk")
    elif not request_may_answer(request=request, user=actor):
        raise RequestForbidden(f"this request is for {request.recipient}")
    if request.state != DepartmentRequest.State.OPEN:
        raise LoopStateError(f"this request is already {request.get_state_display().lower()}")
    request.state = DepartmentRequest.State.ANSWERED
    request.answer = answer[:ANSWER_MAX]
    request.answered_by = actor
    request.answered_at = timezone.now()
    request.save(update_fields=["state", "answer", "answered_by", "answered_at"])
    who = actor.display_name if actor is not None else request.to_email
    if request.to_team is not None:
        who = f"{who} ({request.to_team.name})"
    note = message_add(
        case=request.case,
        direction=Message.Direction.NOTE,
        text=f"Answer from {who} to “{request.question}”:\n\n{request.answer}",
        actor=actor,
        system=True,
        metadata={"loop": "department_request", "request": request.pk},
    )
    event_record(
        case=request.case,
        actor=actor,
        kind=REQUEST_ANSWERED,
        data={"request": request.pk, "by": who, "answer": request.answer, "note": note.pk},
    )
    owner_id = request.case.owner_id or request.asked_by_id
    if owner_id:
        _push([owner_id], _payload("request.answered", request))
    return request


@transaction.atomic
def request_answer_to_fact(
    *, request: DepartmentRequest, key: str, actor: User
) -> DepartmentRequest:
    """Record the answer as a fact of the case under `key` (a key or label, as
    `fact_record` takes it). Side effects: `fact_recorded` and `request_answer_fact`
    events."""
    if not actor.is_agent_like:
        raise LoopError("only agents record facts")
    request = _lock(request)
    if request.state != DepartmentRequest.State.ANSWERED:
        raise LoopStateError("only an answer can become a fact")
    fact = fact_record(case=request.case, key=key, value=request.answer, actor=actor)
    request.answer_fact_key = fact.key
    request.save(update_fields=["answer_fact_key"])
    event_record(
        case=request.case,
        actor=actor,
        kind=REQUEST_ANSWER_AS_FACT,
        data={"request": request.pk, "key": fact.key},
    )
    return request


@transaction.atomic
def request_cancel(*, request: DepartmentRequest, actor: User) -> DepartmentRequest:
    """Withdraw an open request (the asker, the case's owner, a manager or an admin).
    Side effects: a `request_cancelled` event."""
    request = _lock(request)
    allowed = actor.role in (Role.MANAGER, Role.ADMIN) or actor.pk in (
        request.asked_by_id,
        request.case.owner_id,
    )
    if not actor.is_agent_like or not allowed:
        raise RequestForbidden("only the asker or the case's owner can cancel it")
    if request.state != DepartmentRequest.State.OPEN:
        raise LoopStateError(f"this request is already {request.get_state_display().lower()}")
    request.state = DepartmentRequest.State.CANCELLED
    request.cancelled_at = timezone.now()
    request.save(update_fields=["state", "cancelled_at"])
    event_record(
        case=request.case, actor=actor, kind=REQUEST_CANCELLED, data={"request": request.pk}
    )
    return request


# --- Reminders ---------------------------------------------------------------------------


def request_reminders_send(*, now: datetime | None = None) -> int:
    """Remind the recipient of every open request past its due time, once per interval
    (the loop's reminder interval), and tell the owner it is overdue. Returns how many
    reminders went out. Side effects per reminder: an internal note, a `request_reminded`
    event; an email (outbox) to an outside address or a push to the team's members; a
    push to the owner."""
    now = now or timezone.now()
    interval = timedelta(hours=LoopSettings.current().reminder_interval_hours)
    due = DepartmentRequest.objects.filter(
        Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lte=now - interval),
        state=DepartmentRequest.State.OPEN,
        due_at__lte=now,
    ).values_list("pk", flat=True)
    sent = 0
    for request_id in list(due.order_by("id")):
        try:
            sent += _remind_one(request_id=request_id, now=now, interval=interval)
        except Exception:  # noqa: BLE001 - one broken request must not stop the others
            logger.exception("reminding department request %s failed", request_id)
    return sent


@transaction.atomic
def _remind_one(*, request_id: int, now: datetime, interval: timedelta) -> int:
    request = (
        DepartmentRequest.objects.select_for_update(of=("self",))
        .select_related("case", "to_team")
        .get(pk=request_id)
    )
    if request.state != DepartmentRequest.State.OPEN or request.due_at > now:
        return 0
    if request.last_reminded_at is not None and now - request.last_reminded_at < interval:
        return 0
    request.reminder_count += 1
    request.last_reminded_at = now
    request.save(update_fields=["reminder_count", "last_reminded_at"])
    late = now - request.due_at
    hours = int(late.total_seconds() // 3600)
    text = (
        f"The request to {request.recipient} (“{request.question}”) was due "
        f"{request.due_at:%Y-%m-%d %H:%M} UTC and is still unanswered"
        + (f" ({hours} h late)" if hours else "")
        + f"; reminder {request.reminder_count} sent."
    )
    note = message_add(
        case=request.case,
        direction=Message.Direction.NOTE,
        text=text,
        system=True,
        metadata={"loop": "department_request", "request": request.pk},
    )
    event_record(
        case=request.case,
        kind=REQUEST_REMINDED,
        data={
            "request": request.pk,
            "count": request.reminder_count,
            "to_team": request.to_team_id,
            "to_email": request.to_email,
            "note": note.pk,
        },
    )
    if request.to_email:
        outbox.effect_record(
            kind=REQUEST_MAIL_EFFECT,
            payload={"request": request.pk, "reminder": request.reminder_count},
            key=f"{REQUEST_MAIL_EFFECT}:{request.pk}:{request.reminder_count}",
            case_id=request.case_id,
        )
    else:
        _push(_team_members(request.to_team_id), _payload("request.reminder", request))
    owner_id = request.case.owner_id or request.asked_by_id
    if owner_id:
        _push([owner_id], _payload("request.overdue", request))
    return 1


# --- The email to an outside address -------------------------------------------------------


def request_mail_text(*, request: DepartmentRequest, reminder: int = 0) -> str:
    """The request's email, in the active language."""
    desk = DeskIdentity.current().name
    asker = (
        request.asked_by.display_name
        if request.asked_by
        else _("The %(desk)s team") % {"desk": desk}
    )
    lines = [_("Hello,"), ""]
    if reminder:
        lines += [
            _("A reminder: we asked you this on %(asked)s and it was due %(due)s UTC.")
            % {
                "asked": f"{request.created_at:%Y-%m-%d}",
                "due": f"{request.due_at:%Y-%m-%d %H:%M}",
            },
            "",
        ]
    if request.kind == DepartmentRequest.Kind.INFORMATION:
        what = _(
            "We are working on case %(reference)s for one of our customers and need some "
            "information:"
        )
    else:
        what = _(
            "We are working on case %(reference)s for one of our customers and need your help:"
        )
    lines += [what % {"reference": request.case.reference}, "", request.question, ""]
    if request.facts:
        lines.append(_("What we know so far:"))
        lines += [f"- {fact['label']}: {fact['value']}" for fact in request.facts]
        lines.append("")
    lines += [
        _("Please answer by %(due)s UTC on this page (no login needed):")
        % {"due": f"{request.due_at:%Y-%m-%d %H:%M}"},
        request_link(request=request),
        "",
        _("Best regards,"),
        asker,
        desk,
    ]
    return "\n".join(lines) + "\n"


def request_mail_send(payload: dict[str, Any]) -> None:
    """Outbox handler: email the outside person the request (or a reminder of it), in the
    desk's default language. Sent at least once; a request answered or cancelled meanwhile
    is not mailed. Side effects: the email."""
    request = (
        DepartmentRequest.objects.select_related("case", "asked_by")
        .filter(pk=payload["request"])
        .first()
    )
    if request is None or not request.to_email:
        return
    if request.state != DepartmentRequest.State.OPEN:
        return
    reminder = int(payload.get("reminder") or 0)
    with language_override(None):
        values = {"reference": request.case.reference, "desk": DeskIdentity.current().name}
        subject = (
            _("[%(reference)s] Reminder: a request from %(desk)s")
            if reminder
            else _("[%(reference)s] a request from %(desk)s")
        ) % values
        body = request_mail_text(request=request, reminder=reminder)
    EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[request.to_email],
    ).send(fail_silently=False)
