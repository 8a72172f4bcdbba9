"""Surveys after a solved case, and what the desk does with the answers.

- The recommendation (NPS) survey: when a case is solved, its customer is asked "how likely
  are you to recommend us?" (0–10, with a comment) by email, through a signed link that
  needs no sign-in, and in the portal; at most once per customer per period
  (`SurveySettings`). The email is a system message on the case, delivered by the outbox.
- Recoveries: a CSAT of 2 or less, or an NPS of 6 or less, leaves the case's owner a
  recovery to do, shown on the case page and in the owner's "Waiting on me" queue.
- Comment themes: every survey comment is classified by triage's category model in the
  worker, so the comments feed the recurring-problems work.

The answers themselves are recorded by `services.rating_record` and `services.nps_record`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from caseloop.accounts.models import Role, User
from caseloop.cases import outbox
from caseloop.cases.errors import CaseError, CaseValidationError, OwnershipError
from caseloop.cases.loop.errors import LinkExpired, LinkInvalid
from caseloop.cases.models import (
    FINISHED_STATUSES,
    Case,
    Category,
    Channel,
    Message,
    OutboxEffect,
    Status,
)
from caseloop.cases.outbox import Payload
from caseloop.cases.services import event_record, message_add
from caseloop.customers.models import ContactPoint, Customer
from caseloop.lib.errors import ErrorKind
from caseloop.lib.language import customer_language
from caseloop.triage.learning import category_guess

from .events import NPS_SURVEY_SENT, RECOVERY_DONE, RECOVERY_OPENED
from .models import (
    CommentTheme,
    NpsResponse,
    Recovery,
    SatisfactionRating,
    SurveyInvitation,
    SurveySettings,
)
from .models.surveys import survey_nonce

logger = logging.getLogger(__name__)

NPS_SEND_EFFECT = "insights.nps_survey_send"
THEME_EFFECT = "insights.comment_theme"
TOKEN_SALT = "caseloop.insights.nps-survey"
# Scores that leave the owner a recovery: an unhappy rating, an NPS detractor.
CSAT_RECOVERY_MAX = 2
NPS_RECOVERY_MAX = 6

Answer = SatisfactionRating | NpsResponse


class AlreadyAnswered(CaseError):
    code = "already_answered"
    kind = ErrorKind.CONFLICT


class RecoveryClosed(CaseError):
    code = "recovery_closed"
    kind = ErrorKind.CONFLICT


# --- The recommendation survey -----------------------------------------------------------


def _customer_email(customer_id: int) -> str:
    return (
        ContactPoint.objects.filter(customer_id=customer_id, kind=ContactPoint.Kind.EMAIL)
        .order_by("-is_primary", "id")
        .values_list("value", flat=True)
        .first()
        or ""
    )


def _asked_within_period(
    *, customer: Customer, now: datetime, period_days: int, other_than: int | None
) -> bool:
    asked = SurveyInvitation.objects.filter(
        customer=customer, send_at__gt=now - timedelta(days=period_days)
    ).exclude(state=SurveyInvitation.State.CANCELLED)
    if other_than is not None:
        asked = asked.exclude(pk=other_than)
    return asked.exists()


@transaction.atomic
def nps_survey_schedule(*, case_id: int, now: datetime | None = None) -> SurveyInvitation | None:
    """Offer the recommendation survey after this solved case, unless surveys are off or
    its customer was asked within the period (`SurveySettings.nps_period_days`, counted
    from when each survey was due, cancelled ones aside). Once per case: a case solved
    again keeps its invitation. Returns the invitation, or None when none is due.
    Side effects: a SurveyInvitation; the sending, an outbox effect available after the
    configured delay."""
    now = now or timezone.now()
    rules = SurveySettings.current()
    if not rules.nps_enabled:
        return None
    case = Case.objects.filter(pk=case_id).only("id", "customer_id", "status").first()
    if case is None or case.status != Status.SOLVED:
        return None
    # Locking the customer serialises the period check of two of their cases solved at once.
    customer = Customer.objects.select_for_update().get(pk=case.customer_id)
    invitation = SurveyInvitation.objects.select_for_update().filter(case=case).first()
    if invitation is not None and invitation.state != SurveyInvitation.State.CANCELLED:
        return invitation
    if _asked_within_period(
        customer=customer,
        now=now,
        period_days=rules.nps_period_days,
        other_than=invitation.pk if invitation else None,
    ):
        return None
    send_at = now + timedelta(hours=rules.nps_delay_hours)
    if invitation is None:
        invitation = SurveyInvitation.objects.create(customer=customer, case=case, send_at=send_at)
    else:
        # Cancelled earlier (the case was reopened before it went out): offered again.
        invitation.state = SurveyInvitation.State.SCHEDULED
        invitation.send_at = send_at
        invitation.reason = ""
        invitation.nonce = survey_nonce()
        invitation.save(update_fields=["state", "send_at", "reason", "nonce"])
    effect = outbox.effect_record(
        kind=NPS_SEND_EFFECT,
        payload={"invitation": invitation.pk},
        key=f"{NPS_SEND_EFFECT}:{invitation.pk}:{invitation.nonce}",
        case_id=case.pk,
    )
    if effect is not None and send_at > now:
        # An effect runs once it is available: the sweep sends the survey after its delay.
        OutboxEffect.objects.filter(pk=effect.pk).update(available_at=send_at)
    return invitation


def nps_link_url(*, invitation: SurveyInvitation) -> str:
    """The survey's signed link: it names the invitation and its nonce, and is dated."""
    token = signing.dumps(
        {"i": invitation.pk, "n": invitation.nonce}, salt=TOKEN_SALT, compress=True
    )
    return settings.SITE_URL + reverse("web:survey_nps", kwargs={"token": token})


def _cancel(invitation: SurveyInvitation, reason: str) -> None:
    invitation.state = SurveyInvitation.State.CANCELLED
    invitation.reason = reason[:300]
    invitation.save(update_fields=["state", "reason"])


@transaction.atomic
def nps_invitation_send(
    *, invitation_id: int, now: datetime | None = None
) -> SurveyInvitation | None:
    """Send a scheduled survey: by email when the customer has an address (a system
    message on the case, with the signed link), else in the portal alone when they have a
    login. Cancelled instead when the case was reopened meanwhile, surveys were switched
    off, or the customer cannot be reached. Idempotent: a sent survey is not sent again.
    Side effects: an `nps_survey_sent` event; the email, delivered by the outbox."""
    now = now or timezone.now()
    invitation = (
        SurveyInvitation.objects.select_for_update(of=("self",))
        .select_related("case", "customer")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation.state != SurveyInvitation.State.SCHEDULED:
        return None
    case = invitation.case
    if case is None or case.status not in FINISHED_STATUSES:
        _cancel(invitation, "the case was reopened before the survey went out")
        return None
    rules = SurveySettings.current()
    if not rules.nps_enabled:
        _cancel(invitation, "surveys were switched off before it went out")
        return None
    email = _customer_email(invitation.customer_id)
    has_login = User.objects.filter(
        customer_id=invitation.customer_id, role=Role.CUSTOMER, is_active=True
    ).exists()
    if not email and not has_login:
        _cancel(invitation, "the customer has no email address and no portal login")
        return None
    invitation.state = SurveyInvitation.State.SENT
    invitation.sent_at = now
    invitation.expires_at = now + timedelta(days=rules.nps_link_days)
    invitation.channel = (
        SurveyInvitation.Channel.EMAIL if email else SurveyInvitation.Channel.PORTAL
    )
    message = None
    if email:
        language = customer_language(invitation.customer)
        context = {
            "name": invitation.customer.name,
            "reference": case.reference,
            "subject": case.subject,
            "url": nps_link_url(invitation=invitation),
            "expires_at": invitation.expires_at,
        }
        message = message_add(
            case=case,
            direction=Message.Direction.OUTBOUND,
            channel=Channel.EMAIL,
            text=_render_in(language, "insights/email/nps_survey.txt", context),
            system=True,
            metadata={
                "subject": _subject_in(language),
                "survey": "nps",
                "invitation": invitation.pk,
            },
        )
        invitation.message = message
    invitation.save(update_fields=["state", "sent_at", "expires_at", "channel", "message"])
    event_record(
        case=case,
        kind=NPS_SURVEY_SENT,
        data={
            "invitation": invitation.pk,
            "channel": invitation.channel,
            "message": message.pk if message else None,
            "expires_at": invitation.expires_at.isoformat(),
        },
    )
    return invitation


def _render_in(language: str, template: str, context: dict[str, Any]) -> str:
    with translation.override(language):
        return render_to_string(template, context).strip()


def _subject_in(language: str) -> str:
    with translation.override(language):
        return gettext("How likely are you to recommend us?")


def nps_survey_send_effect(payload: Payload) -> None:
    """Outbox effect: send one scheduled survey."""
    nps_invitation_send(invitation_id=payload["invitation"])


def survey_on_status_changed(case_id: int, before: str, after: str) -> None:
    """Hook: a solved case is followed by the recommendation survey (when one is due)."""
    if after == Status.SOLVED:
        nps_survey_schedule(case_id=case_id)


def nps_invitation_from_token(*, token: str, now: datetime | None = None) -> SurveyInvitation:
    """The invitation a survey link stands for. Raises LinkInvalid (400) for an altered or
    retired link, LinkExpired (410) once the survey has closed; an answered invitation is
    returned, so the page can thank the customer rather than refuse."""
    now = now or timezone.now()
    max_age = SurveySettings.current().nps_link_days * 86400
    try:
        data = signing.loads(token or "", salt=TOKEN_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkExpired("this survey has closed; thank you all the same") from exc
    except signing.BadSignature as exc:
        raise LinkInvalid("this survey link is not valid; it may have been altered") from exc
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        raise LinkInvalid("this survey link is not valid")
    invitation = (
        SurveyInvitation.objects.select_related("case", "customer", "response")
        .filter(pk=data["i"], nonce=str(data.get("n", "")))
        .first()
    )
    open_or_answered = (SurveyInvitation.State.SENT, SurveyInvitation.State.ANSWERED)
    if invitation is None or invitation.case is None or invitation.state not in open_or_answered:
        raise LinkInvalid("this survey link is no longer valid")
    if invitation.state == SurveyInvitation.State.SENT and (
        invitation.expires_at is None or invitation.expires_at <= now
    ):
        raise LinkExpired("this survey has closed; thank you all the same")
    return invitation


def nps_survey_open(*, case: Case, now: datetime | None = None) -> SurveyInvitation | None:
    """The survey sent after this case, while it waits for an answer (for the portal)."""
    return (
        SurveyInvitation.objects.filter(
            case=case,
            state=SurveyInvitation.State.SENT,
            expires_at__gt=now or timezone.now(),
        )
        .order_by("-id")
        .first()
    )


def nps_invitation_answered(*, case: Case, response: NpsResponse) -> SurveyInvitation | None:
    """Mark the survey sent after `case` answered by `response` (inside the answer's
    transaction). The update only takes an unanswered invitation, so of two answers sent at
    once the second finds nothing and raises AlreadyAnswered, rolling its answer back."""
    invitation = (
        SurveyInvitation.objects.filter(case=case)
        .exclude(state=SurveyInvitation.State.CANCELLED)
        .only("id", "state")
        .first()
    )
    if invitation is None:
        return None
    taken = SurveyInvitation.objects.filter(pk=invitation.pk, response__isnull=True).update(
        response=response, state=SurveyInvitation.State.ANSWERED, answered_at=timezone.now()
    )
    if not taken:
        raise AlreadyAnswered("this survey has already been answered; thank you")
    return invitation


# --- Recoveries after a low score --------------------------------------------------------


def score_is_low(answer: Answer) -> bool:
    if isinstance(answer, SatisfactionRating):
        return answer.score <= CSAT_RECOVERY_MAX
    return answer.score <= NPS_RECOVERY_MAX


def recovery_open_if_low(*, case: Case, answer: Answer) -> Recovery | None:
    """Inside the answer's transaction: a low score opens a recovery for the case's owner.
    Nothing is reopened; the owner decides how to make it right. Side effects: a
    `recovery_opened` event naming the score."""
    if not score_is_low(answer):
        return None
    rating = answer if isinstance(answer, SatisfactionRating) else None
    nps_response = answer if isinstance(answer, NpsResponse) else None
    recovery = Recovery.objects.create(
        case=case,
        owner_id=case.owner_id,
        source=Recovery.Source.CSAT if rating else Recovery.Source.NPS,
        score=answer.score,
        rating=rating,
        nps_response=nps_response,
    )
    event_record(
        case=case,
        kind=RECOVERY_OPENED,
        data={
            "recovery": recovery.pk,
            "source": recovery.source,
            "score": recovery.score,
            "owner": case.owner_id,
        },
    )
    return recovery


@transaction.atomic
def recovery_done(*, recovery: Recovery, actor: User, note: str) -> Recovery:
    """An agent marks the recovery done, saying what was done for the customer.
    Side effects: a `recovery_done` event."""
    if actor is None or not actor.is_agent_like:
        raise OwnershipError("only agents can close a recovery")
    note = (note or "").strip()[:5000]
    if not note:
        raise CaseValidationError("say what was done for the customer", field="note")
    recovery = Recovery.objects.select_for_update().select_related("case").get(pk=recovery.pk)
    if recovery.state == Recovery.State.DONE:
        raise RecoveryClosed("this recovery is already done")
    recovery.state = Recovery.State.DONE
    recovery.note = note
    recovery.done_by = actor
    recovery.done_at = timezone.now()
    recovery.save(update_fields=["state", "note", "done_by", "done_at"])
    event_record(
        case=recovery.case,
        actor=actor,
        kind=RECOVERY_DONE,
        data={"recovery": recovery.pk, "source": recovery.source, "note": note},
    )
    return recovery


def recoveries_of_case(*, case: Case) -> list[Recovery]:
    return list(
        Recovery.objects.filter(case=case)
        .select_related("owner", "done_by", "rating", "nps_response")
        # "open" sorts after "done": the ones still to do first.
        .order_by("-state", "-created_at")
    )


def recovery_get_for_case(*, case: Case, recovery_id: int) -> Recovery:
    """The recovery of this case (the caller checked the user may see the case); 404
    otherwise."""
    recovery = Recovery.objects.filter(case=case, pk=recovery_id).first()
    if recovery is None:
        raise Http404("No such recovery.")
    return recovery


def recovery_open_case_ids() -> QuerySet[Recovery, Any]:
    """The cases with a recovery still to do (a subquery for the inbox queues)."""
    return Recovery.objects.filter(state=Recovery.State.OPEN).values("case_id")


def recovery_panel_context(*, case: Case, user: Any) -> dict[str, Any] | None:
    """The case page's recovery panel, for agents, when the case has one."""
    if user is None or not getattr(user, "is_agent_like", False):
        return None
    recoveries = recoveries_of_case(case=case)
    if not recoveries:
        return None
    return {"case": case, "recoveries": recoveries}


# --- Comment themes ----------------------------------------------------------------------


def comment_theme_later(*, answer: Answer) -> None:
    """Inside the answer's transaction: have the worker theme its comment (the category
    model is too slow for the request)."""
    if not answer.comment.strip():
        return
    key = "rating" if isinstance(answer, SatisfactionRating) else "nps"
    outbox.effect_record(
        kind=THEME_EFFECT,
        payload={key: answer.pk},
        key=f"{THEME_EFFECT}:{key}:{answer.pk}",
        case_id=answer.case_id,
    )


def comment_theme(
    *, rating_id: int | None = None, nps_id: int | None = None
) -> CommentTheme | None:
    """Classify a survey comment with triage's category model (keyword rules before there
    is a model) and keep the category and confidence on the answer. Idempotent: run again,
    it replaces the theme. Side effects: a CommentTheme row."""
    answer: Answer | None
    target: dict[str, Any]
    if rating_id is not None:
        answer = SatisfactionRating.objects.filter(pk=rating_id).first()
        target = {"rating_id": rating_id}
    elif nps_id is not None:
        answer = NpsResponse.objects.filter(pk=nps_id).first()
        target = {"nps_response_id": nps_id}
    else:
        return None
    if answer is None or not answer.comment.strip():
        return None
    guess = category_guess(answer.comment)
    category_id = guess.category_id
    if category_id is not None and not Category.objects.filter(pk=category_id).exists():
        category_id = None
    theme, _ = CommentTheme.objects.update_or_create(
        **target,
        defaults={
            "category_id": category_id,
            "confidence": round(float(guess.confidence), 4) if category_id else 0.0,
            "source": guess.source if category_id else "none",
            "answered_at": answer.created_at,
        },
    )
    return theme


def comment_theme_effect(payload: Payload) -> None:
    """Outbox effect: theme one survey comment."""
    comment_theme(rating_id=payload.get("rating"), nps_id=payload.get("nps"))


@dataclass(frozen=True)
class ThemeExample:
    text: str
    source: str  # "csat" or "nps"
    score: int
    case_id: int | None


@dataclass(frozen=True)
class ThemeCount:
    category_id: int | None
    name: str
    count: int
    csat: int
    nps: int
    examples: list[ThemeExample] = field(default_factory=list)


def survey_comment_themes(*, start: datetime, end: datetime, examples: int = 3) -> list[ThemeCount]:
    """Survey comments answered in [start, end) per theme (category), most frequent first,
    each with its latest `examples` comments; comments no category fits are "Unthemed".
    Two queries, whatever the number of themes."""
    in_range = CommentTheme.objects.filter(answered_at__gte=start, answered_at__lt=end)
    counts = list(
        in_range.values("category_id", "category__name")
        .annotate(
            n=Count("id"),
            csat=Count("id", filter=Q(rating__isnull=False)),
            nps=Count("id", filter=Q(nps_response__isnull=False)),
        )
        .order_by()
    )
    latest = (
        in_range.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("category_id")],
                order_by=[F("answered_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=examples)
        .select_related("rating", "nps_response")
        .order_by("category_id", "rank")
    )
    shown: dict[int | None, list[ThemeExample]] = {}
    for theme in latest:
        answer: Answer = theme.rating or theme.nps_response  # type: ignore[assignment]
        shown.setdefault(theme.category_id, []).append(
            ThemeExample(
                text=answer.comment,
                source="csat" if theme.rating_id else "nps",
                score=answer.score,
                case_id=answer.case_id,
            )
        )
    themes = [
        ThemeCount(
            category_id=row["category_id"],
            name=row["category__name"] or "Unthemed",
            count=row["n"],
            csat=row["csat"],
            nps=row["nps"],
            examples=shown.get(row["category_id"], []),
        )
        for row in counts
    ]
    # Most frequent first; comments no category fits come last among equals.
    return sorted(themes, key=lambda t: (-t.count, t.category_id is None, t.name))
