"""Stage 1, the problem: the customer's own words, the agent's paraphrase, and the
customer's confirmation or correction."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from caseloop.accounts.models import User
from caseloop.cases.models import (
    Case,
    Message,
    ProblemStatement,
)
from caseloop.cases.services import _ensure_owner, event_record, message_add

from .errors import LoopError, LoopStateError
from .events import LoopEvent
from .guards import case_locked as _locked, is_staff as _staff, require_staff as _require_staff
from .letters import letter_compose, letter_language
from .tokens import link_url

# --- 1. Problem statement ----------------------------------------------------------------


@transaction.atomic
def problem_statement_ensure(*, case: Case) -> ProblemStatement:
    """The case's problem statement, created from its first inbound message if absent.
    Side effects: a `problem_recorded` event when created."""
    case = _locked(case)
    existing = ProblemStatement.objects.filter(case=case).first()
    if existing:
        return existing
    first = (
        Message.objects.filter(case=case, direction=Message.Direction.INBOUND)
        .order_by("id")
        .first()
    )
    statement = ProblemStatement.objects.create(
        case=case, customer_words=first.text if first else "", source_message=first
    )
    event_record(
        case=case,
        kind=LoopEvent.PROBLEM_RECORDED,
        data={"message": first.pk if first else None},
    )
    return statement


@transaction.atomic
def problem_paraphrase_set(*, case: Case, paraphrase: str, actor: User) -> ProblemStatement:
    """Record the agent's paraphrase. A changed paraphrase needs confirming again.
    Side effects: a `paraphrase_set` event."""
    _require_staff(actor)
    paraphrase = (paraphrase or "").strip()
    if not paraphrase:
        raise LoopError("the paraphrase is empty")
    statement = problem_statement_ensure(case=case)
    statement = ProblemStatement.objects.select_for_update().get(pk=statement.pk)
    before = statement.paraphrase
    if before == paraphrase:
        return statement
    statement.paraphrase = paraphrase
    statement.paraphrased_by = actor
    statement.paraphrased_at = timezone.now()
    statement.confirmation = ProblemStatement.Confirmation.NOT_SENT
    statement.correction = ""
    statement.save()
    _ensure_owner(case=statement.case, actor=actor)
    event_record(
        case=statement.case,
        actor=actor,
        kind=LoopEvent.PARAPHRASE_SET,
        data={"before": before, "after": paraphrase},
    )
    return statement


def problem_confirmation_text(*, statement: ProblemStatement, agent: User | None) -> str:
    """The "Here is what I understood…" letter from `agent`, with the signed confirm and
    correct links."""
    confirm = link_url(purpose="problem", object_id=statement.pk, answer="confirmed")
    correct = link_url(purpose="problem", object_id=statement.pk, answer="corrected")
    with letter_language(case=statement.case):
        body = (
            gettext("Here is what I understood:")
            + f"\n\n{statement.paraphrase}\n\n"
            + gettext(
                "If that is right, please confirm: %(confirm)s\n"
                "If not, tell us what to correct: %(correct)s"
            )
            % {"confirm": confirm, "correct": correct}
        )
    return letter_compose(case=statement.case, agent=agent, body=body)


@transaction.atomic
def problem_send_for_confirmation(*, case: Case, actor: User | None) -> Message:
    """Send "Here is what I understood…" with signed confirm/correct links on the case's
    channel. Side effects: an outbound message (delivered after commit); a
    `problem_sent_for_confirmation` event."""
    statement = problem_statement_ensure(case=case)
    statement = ProblemStatement.objects.select_for_update().get(pk=statement.pk)
    if not statement.paraphrase:
        raise LoopStateError("write the paraphrase before sending it")
    text = problem_confirmation_text(
        statement=statement, agent=actor if _staff(actor) else statement.case.owner
    )
    message = message_add(
        case=statement.case,
        direction=Message.Direction.OUTBOUND,
        text=text,
        actor=actor if _staff(actor) else None,
        system=not _staff(actor),
        metadata={"loop": "problem_confirmation", "problem_statement": statement.pk},
    )
    statement.confirmation = ProblemStatement.Confirmation.SENT
    statement.sent_at = timezone.now()
    statement.sent_message = message
    statement.save(update_fields=["confirmation", "sent_at", "sent_message", "updated_at"])
    event_record(
        case=statement.case,
        actor=actor,
        kind=LoopEvent.PROBLEM_SENT,
        data={"message": message.pk},
    )
    return message


@transaction.atomic
def problem_answer_record(
    *,
    statement: ProblemStatement,
    confirmed: bool,
    channel: str,
    correction: str = "",
    actor: User | None = None,
) -> ProblemStatement:
    """The customer's answer to the paraphrase: confirmed, or corrected with their text.
    Side effects: a `problem_answered` event."""
    statement = (
        ProblemStatement.objects.select_for_update().select_related("case").get(pk=statement.pk)
    )
    correction = (correction or "").strip()
    if not confirmed and not correction:
        raise LoopError("tell us what to correct")
    statement.confirmation = (
        ProblemStatement.Confirmation.CONFIRMED
        if confirmed
        else ProblemStatement.Confirmation.CORRECTED
    )
    statement.correction = "" if confirmed else correction[:5000]
    statement.answer_channel = channel
    statement.answered_at = timezone.now()
    statement.save()
    event_record(
        case=statement.case,
        actor=actor,
        kind=LoopEvent.PROBLEM_ANSWERED,
        data={
            "answer": statement.confirmation,
            "correction": statement.correction,
            "channel": channel,
        },
    )
    return statement
