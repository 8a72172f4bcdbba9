"""Writes for the loop. Each service is keyword-only, atomic, and writes a case event in
the same transaction; messages to the customer go through `message_add`, whose delivery
runs after commit.

Alternatives live in `.alternatives`, plans in `.plans`, escalations in `.escalations`,
follow-ups and repeat complaints in `.followups`; their public services are re-exported
here so callers import from one place.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from caseloop.accounts.models import User
from caseloop.cases.models import (
    Alternative,
    Attachment,
    AuthorityCheck,
    Case,
    CaseLink,
    Fact,
    Lesson,
    Message,
    NeedsDecision,
    Outcome,
    Policy,
    PolicyCheck,
    ProblemStatement,
    RemedyType,
    Status,
)
from caseloop.cases.services import _ensure_owner, event_record, message_add
from caseloop.customers.models import PurchaseRecord

from . import selectors
from .authority import Decision, authority_decide
from .errors import LoopError, LoopStateError
from .events import LoopEvent
from .guards import case_locked as _locked
from .guards import is_staff as _staff
from .guards import require_staff as _require_staff
from .policies import (
    PurchaseView,
    RuleContext,
    alternatives_normalize,
    explanation_default,
    explanation_fill,
    rule_evaluate,
    verdict_of,
)
from .tokens import link_url

FACT_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


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


@transaction.atomic
def problem_send_for_confirmation(*, case: Case, actor: User | None) -> Message:
    """Send "Here is what I understood…" with signed confirm/correct links on the case's
    channel. Side effects: an outbound message (delivered after commit); a
    `problem_sent_for_confirmation` event."""
    statement = problem_statement_ensure(case=case)
    statement = ProblemStatement.objects.select_for_update().get(pk=statement.pk)
    if not statement.paraphrase:
        raise LoopStateError("write the paraphrase before sending it")
    confirm = link_url(purpose="problem", object_id=statement.pk, answer="confirmed")
    correct = link_url(purpose="problem", object_id=statement.pk, answer="corrected")
    text = (
        f"Here is what I understood:\n\n{statement.paraphrase}\n\n"
        f"If that is right, please confirm: {confirm}\n"
        f"If not, tell us what to correct: {correct}\n"
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


# --- 2. Does it need solving? ------------------------------------------------------------


def _policies_for(case: Case) -> list[Policy]:
    policies = Policy.objects.filter(is_active=True).prefetch_related("applies_to")
    chosen = []
    for policy in policies.order_by("order", "name"):
        categories = {c.pk for c in policy.applies_to.all()}
        if not categories or case.category_id in categories:
            chosen.append(policy)
    return chosen


def _alternative_titles(case: Case) -> set[str]:
    return {
        t.lower() for t in Alternative.objects.filter(case=case).values_list("title", flat=True)
    }


@transaction.atomic
def policy_check_run(*, case: Case, actor: User | None) -> NeedsDecision:
    """Evaluate every active policy that applies to the case against its facts and the
    customer's purchase. The most restrictive outcome decides; out of policy is never a
    bare refusal: the policy's alternatives are proposed on the case.
    Side effects: a NeedsDecision with a PolicyCheck per policy; Alternative rows
    (source=policy); a `policy_checked` event."""
    case = _locked(case)
    facts = selectors.facts_current(case=case)
    purchase, basis = selectors.purchase_for_case(case=case, facts=facts)
    created_local = timezone.localtime(case.created_at)
    context = RuleContext(
        facts={key: fact.value for key, fact in facts.items()},
        category=case.category.slug if case.category_id else None,
        as_of=created_local.date(),
        purchase=(
            PurchaseView(
                order_id=purchase.order_id,
                product=purchase.product,
                purchased_on=timezone.localtime(purchase.purchased_at).date(),
                amount=f"{purchase.amount:.2f}",
                currency=purchase.currency,
                basis=basis,
            )
            if purchase
            else None
        ),
    )
    rows: list[tuple[Policy, str, str, dict]] = []
    for policy in _policies_for(case):
        result = rule_evaluate(policy.rule, context)
        if result.holds is None:
            outcome, template = Outcome.UNDETERMINED, ""
        elif result.holds:
            outcome, template = policy.outcome_if_met, policy.explanation_if_met
        else:
            outcome, template = policy.outcome_if_not_met, policy.explanation_if_not_met
        values = {**result.values, "policy": policy.name, "missing": ", ".join(result.missing)}
        explanation = (
            explanation_fill(template, values)
            if template.strip()
            else explanation_default(policy_name=policy.name, outcome=outcome, result=result)
        )
        rows.append((policy, outcome, explanation, {**values, "holds": result.holds}))
    verdict = verdict_of([outcome for _, outcome, _, _ in rows])
    decisive = next((r for r in rows if r[1] == verdict), None)
    summary = decisive[2] if decisive else "No policy applies to this case: it needs solving."
    decision = NeedsDecision.objects.create(
        case=case,
        source=NeedsDecision.Source.POLICY_CHECK,
        outcome=verdict,
        summary=summary,
        decided_by=actor if _staff(actor) else None,
    )
    PolicyCheck.objects.bulk_create(
        [
            PolicyCheck(
                decision=decision,
                case=case,
                policy=policy,
                policy_name=policy.name,
                outcome=outcome,
                explanation=explanation,
                details=details,
            )
            for policy, outcome, explanation, details in rows
        ]
    )
    proposed: list[int] = []
    existing = _alternative_titles(case)
    for policy, outcome, _, _ in rows:
        if outcome not in (Outcome.OUT_OF_POLICY, Outcome.NOT_OUR_RESPONSIBILITY):
            continue
        for item in alternatives_normalize(policy.alternatives):
            if item["title"].lower() in existing:
                continue
            existing.add(item["title"].lower())
            alternative = Alternative.objects.create(
                case=case,
                title=item["title"],
                description=item["description"],
                source=Alternative.Source.POLICY,
                source_ref=str(policy.pk),
            )
            proposed.append(alternative.pk)
    event_record(
        case=case,
        actor=actor,
        kind=LoopEvent.POLICY_CHECKED,
        data={
            "decision": decision.pk,
            "outcome": verdict,
            "summary": summary,
            "checks": [{"policy": p.name, "outcome": o} for p, o, _, _ in rows],
            "alternatives_proposed": proposed,
        },
    )
    return decision


@transaction.atomic
def needs_no_action_record(*, case: Case, actor: User, note: str = "") -> NeedsDecision:
    """Record that the customer only wanted to be heard: listened, no action wanted.
    Side effects: a `needs_decided` event."""
    _require_staff(actor)
    case = _locked(case)
    _ensure_owner(case=case, actor=actor)
    summary = "Listened — no action wanted." + (f" {note.strip()}" if note.strip() else "")
    decision = NeedsDecision.objects.create(
        case=case,
        source=NeedsDecision.Source.AGENT,
        outcome=Outcome.NO_ACTION_WANTED,
        summary=summary,
        decided_by=actor,
    )
    event_record(
        case=case,
        actor=actor,
        kind=LoopEvent.NEEDS_DECIDED,
        data={"decision": decision.pk, "outcome": decision.outcome, "note": note.strip()},
    )
    return decision


# --- 3. Authority ------------------------------------------------------------------------


@transaction.atomic
def authority_check_record(
    *,
    case: Case,
    agent: User,
    remedy: RemedyType,
    amount: Decimal | None = None,
    currency: str | None = None,
) -> tuple[AuthorityCheck, Decision]:
    """Ask the authority matrix and keep the answer on the case.
    Side effects: an AuthorityCheck; an `authority_checked` event."""
    case = _locked(case)
    decision = authority_decide(
        agent=agent, case=case, remedy=remedy, amount=amount, currency=currency
    )
    check = AuthorityCheck.objects.create(
        case=case,
        agent=agent,
        remedy=remedy,
        amount=amount,
        currency=(currency or "USD").upper() if amount is not None else "",
        solve_now=decision.solve_now,
        reason=decision.reason,
        needed=decision.needed or {},
    )
    event_record(
        case=case,
        actor=agent,
        kind=LoopEvent.AUTHORITY_CHECKED,
        data={
            "remedy": remedy.slug,
            "amount": f"{amount:.2f}" if amount is not None else None,
            "solve_now": decision.solve_now,
            "reason": decision.reason,
        },
    )
    return check, decision


# --- 4. Facts and links ------------------------------------------------------------------


@transaction.atomic
def fact_record(
    *, case: Case, key: str, value: str, actor: User | None, source: str = Fact.Source.AGENT
) -> Fact:
    """Record a fact (a newer value for a key supersedes the older one, which is kept).
    Side effects: a `fact_recorded` event with the value before and after."""
    key = (key or "").strip().lower()
    if not FACT_KEY.match(key):
        raise LoopError("a fact key is lower-case letters, digits, '-' or '_' (max 64)")
    value = (value or "").strip()
    if not value:
        raise LoopError(f"the value of '{key}' is empty")
    if source not in Fact.Source.values:
        raise LoopError(f"unknown fact source '{source}'")
    case = _locked(case)
    before = Fact.objects.filter(case=case, key=key).order_by("-id").first()
    fact = Fact.objects.create(
        case=case,
        key=key,
        value=value[:5000],
        source=source,
        recorded_by=actor if _staff(actor) else None,
    )
    _ensure_owner(case=case, actor=actor)
    event_record(
        case=case,
        actor=actor,
        kind=LoopEvent.FACT_RECORDED,
        data={"key": key, "before": before.value if before else None, "after": fact.value},
    )
    return fact


@transaction.atomic
def case_link_add(
    *,
    case: Case,
    kind: str,
    actor: User,
    purchase: PurchaseRecord | None = None,
    linked_case: Case | None = None,
    attachment: Attachment | None = None,
    article_ref: str = "",
    url: str = "",
    note: str = "",
) -> CaseLink:
    """Link the case to a record. Purchases must be the customer's; attachments the case's.
    Side effects: a `link_added` event."""
    case = _locked(case)
    if kind not in CaseLink.Kind.values:
        raise LoopError(f"unknown link kind '{kind}'")
    link = CaseLink(case=case, kind=kind, note=(note or "")[:500], created_by=actor)
    if kind == CaseLink.Kind.PURCHASE:
        if purchase is None or purchase.customer_id != case.customer_id:
            raise LoopError("link one of this customer's purchases")
        link.purchase = purchase
    elif kind == CaseLink.Kind.CASE:
        if linked_case is None or linked_case.pk == case.pk:
            raise LoopError("link another case")
        link.linked_case = linked_case
    elif kind == CaseLink.Kind.ATTACHMENT:
        if attachment is None or attachment.case_id != case.pk:
            raise LoopError("link one of this case's attachments")
        link.attachment = attachment
    elif kind == CaseLink.Kind.ARTICLE:
        if not (article_ref or url):
            raise LoopError("give the article's id or URL")
        link.article_ref, link.url = article_ref[:100], url[:1000]
    else:
        if not url.startswith(("http://", "https://")):
            raise LoopError("give an http(s) URL")
        link.url = url[:1000]
    link.save()
    event_record(
        case=case,
        actor=actor,
        kind=LoopEvent.LINK_ADDED,
        data={"link": link.pk, "kind": kind, "ref": selectors.link_ref(link)},
    )
    return link


# --- 11. Lessons -------------------------------------------------------------------------


@transaction.atomic
def lesson_record(
    *,
    case: Case,
    author: User,
    summary: str,
    needs_prepared_answer: bool = False,
    needs_article: bool = False,
) -> Lesson:
    """Record what the case taught, once it is solved or closed.
    Side effects: a `lesson_recorded` event."""
    _require_staff(author)
    summary = (summary or "").strip()
    if not summary:
        raise LoopError("a lesson needs a summary")
    case = _locked(case)
    if case.status not in (Status.SOLVED, Status.CLOSED):
        raise LoopStateError("lessons are recorded when the case is solved or closed")
    lesson = Lesson.objects.create(
        case=case,
        author=author,
        summary=summary,
        needs_prepared_answer=needs_prepared_answer,
        needs_article=needs_article,
    )
    event_record(
        case=case,
        actor=author,
        kind=LoopEvent.LESSON_RECORDED,
        data={
            "lesson": lesson.pk,
            "needs_prepared_answer": needs_prepared_answer,
            "needs_article": needs_article,
        },
    )
    return lesson


@transaction.atomic
def lesson_review(*, lesson: Lesson, state: str, actor: User) -> Lesson:
    """Mark a lesson reviewed (or converted). Side effects: a `lesson_reviewed` event."""
    _require_staff(actor)
    if state not in Lesson.State.values:
        raise LoopError(f"unknown lesson state '{state}'")
    lesson = Lesson.objects.select_for_update().select_related("case").get(pk=lesson.pk)
    before = lesson.state
    lesson.state = state
    lesson.save(update_fields=["state"])
    event_record(
        case=lesson.case,
        actor=actor,
        kind=LoopEvent.LESSON_REVIEWED,
        data={"lesson": lesson.pk, "before": before, "after": state},
    )
    return lesson


from .alternatives import (  # noqa: E402
    SCORES,
    alternative_add,
    alternative_choose,
    alternative_prefer,
    alternative_weigh,
    alternatives_propose_similar,
)
from .escalations import (  # noqa: E402
    case_escalate,
    escalation_accept,
    escalation_reminders_send,
    escalation_return,
    escalation_solved,
)
from .followups import (  # noqa: E402
    followup_answer,
    followup_schedule,
    followups_process,
    repeat_complaint_check,
)
from .plans import (  # noqa: E402
    plan_consent_record,
    plan_create,
    plan_share,
    plan_step_add,
    plan_step_update,
    plan_update_send,
    plan_update_text,
)

__all__ = [
    "SCORES",
    "LoopError",
    "LoopStateError",
    "plan_update_text",
    "alternative_add",
    "alternative_choose",
    "alternative_prefer",
    "alternative_weigh",
    "alternatives_propose_similar",
    "authority_check_record",
    "case_escalate",
    "case_link_add",
    "escalation_accept",
    "escalation_reminders_send",
    "escalation_return",
    "escalation_solved",
    "fact_record",
    "followup_answer",
    "followup_schedule",
    "followups_process",
    "lesson_record",
    "lesson_review",
    "needs_no_action_record",
    "plan_consent_record",
    "plan_create",
    "plan_share",
    "plan_step_add",
    "plan_step_update",
    "plan_update_send",
    "policy_check_run",
    "problem_answer_record",
    "problem_paraphrase_set",
    "problem_send_for_confirmation",
    "problem_statement_ensure",
    "repeat_complaint_check",
]
