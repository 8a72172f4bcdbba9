"""Stage 2, does it need solving: policy checks against the case's facts and purchases,
and the agent's "no action needed" (some customers only want to be heard)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from caseloop.accounts.models import User
from caseloop.cases.models import (
    Alternative,
    Case,
    NeedsDecision,
    Outcome,
    Policy,
    PolicyCheck,
)
from caseloop.cases.services import _ensure_owner, event_record

from . import selectors
from .events import LoopEvent
from .guards import case_locked as _locked, is_staff as _staff, require_staff as _require_staff
from .policies import (
    PurchaseView,
    RuleContext,
    alternatives_normalize,
    explanation_default,
    explanation_fill,
    rule_evaluate,
    verdict_of,
)

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
        category=case.category.slug if case.category else None,
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
    rows: list[tuple[Policy, str, str, dict[str, Any]]] = []
    outcome: str
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
