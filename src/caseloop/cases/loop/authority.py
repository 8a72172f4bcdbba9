"""The authority matrix: may this agent grant this remedy on this case, here and now?

A rule of the matrix (AuthorityRule) allows a remedy to a role (blank: any staff) from a
minimum tier, up to a limit (inclusive) in one currency, optionally only to agents skilled
in the case's category. The agent may solve now when any rule allows it; otherwise the
answer is "escalate", with the reason and what would be needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.db import transaction

from caseloop.accounts.models import STAFF_ROLES, User
from caseloop.cases.models import AuthorityCheck, AuthorityRule, Case, Category, RemedyType
from caseloop.cases.services import event_record

from .errors import LoopError
from .events import LoopEvent
from .guards import case_locked as _locked

DEFAULT_CURRENCY = "USD"
# Less demanding roles first when naming who could grant a remedy.
ROLE_RANK = {"agent": 0, "": 0, "manager": 1, "admin": 2}


@dataclass(frozen=True)
class Decision:
    solve_now: bool
    reason: str
    needed: dict[str, Any] | None = None
    rule_id: int | None = None
    eligible: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "solve_now": self.solve_now,
            "reason": self.reason,
            "needed": self.needed,
            "rule_id": self.rule_id,
            "eligible": self.eligible,
        }


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _who(rule: AuthorityRule) -> str:
    role = rule.role or "staff"
    return f"{role}s of tier {rule.min_tier} or above"


def _failures(
    *, rule: AuthorityRule, agent: User, case: Case, amount: Decimal | None, currency: str
) -> tuple[list[str], list[str]]:
    """Why `rule` does not let `agent` grant the remedy: reasons about the agent (role,
    tier, skill) and about the amount (currency, limit). Both empty: it does."""
    reasons = []
    money = []
    if rule.role and agent.role != rule.role:
        reasons.append(f"it needs the {rule.role} role (you are {agent.role})")
    if agent.tier < rule.min_tier:
        reasons.append(f"it needs tier {rule.min_tier} (you are tier {agent.tier})")
    if (
        rule.requires_category_skill
        and case.category_id
        and not agent.skills.filter(pk=case.category_id).exists()
    ):
        reasons.append(f"it needs the skill '{cast(Category, case.category).name}'")
    if rule.remedy.is_monetary and amount is not None:
        if rule.currency != currency:
            money.append(f"the limit is in {rule.currency}, not {currency}")
        elif rule.limit_amount is not None and amount > rule.limit_amount:
            money.append(
                f"{_money(amount)} {currency} is over the limit of "
                f"{_money(rule.limit_amount)} {currency}"
            )
    return reasons, money


def _eligible(*, rule: AuthorityRule, case: Case, exclude: User) -> list[str]:
    users = User.objects.filter(
        is_active=True, role__in=[rule.role] if rule.role else list(STAFF_ROLES)
    ).filter(tier__gte=rule.min_tier)
    if rule.requires_category_skill and case.category_id:
        users = users.filter(skills=case.category_id)
    return list(
        users.exclude(pk=exclude.pk)
        .order_by("tier", "username")
        .values_list("username", flat=True)[:10]
    )


def authority_decide(
    *,
    agent: User,
    case: Case,
    remedy: RemedyType,
    amount: Decimal | None = None,
    currency: str | None = None,
) -> Decision:
    """Solve now or escalate, with the reason. Monetary remedies need an amount; limits are
    inclusive (a 50.00 limit allows 50.00, not 50.01). Reads only."""
    currency = (currency or DEFAULT_CURRENCY).upper()
    if amount is not None:
        amount = Decimal(amount)
        if amount < 0:
            raise LoopError("the amount cannot be negative")
    if remedy.is_monetary and amount is None:
        raise LoopError(f"'{remedy.name}' is monetary: give the amount")
    if not agent.is_agent_like:
        raise LoopError("only agents can grant remedies")
    what = remedy.name.lower() + (f" of {_money(amount)} {currency}" if amount is not None else "")
    if not remedy.is_active:
        return Decision(False, f"{remedy.name} is not offered at this desk; escalate", None)
    rules = list(
        AuthorityRule.objects.filter(remedy=remedy)
        .select_related("remedy")
        .order_by("min_tier", "limit_amount", "id")
    )
    if not rules:
        return Decision(
            False,
            f"no one holds authority for {remedy.name.lower()} in the matrix; escalate to a "
            "manager for an exception",
            None,
        )
    failures: dict[int, tuple[list[str], list[str]]] = {}
    for rule in rules:
        who, how_much = _failures(
            rule=rule, agent=agent, case=case, amount=amount, currency=currency
        )
        if not who and not how_much:
            limit = (
                f" up to {_money(rule.limit_amount)} {rule.currency}"
                if remedy.is_monetary and rule.limit_amount is not None
                else ""
            )
            return Decision(
                True,
                f"solve now: {_who(rule)} may grant {remedy.name.lower()}{limit}; "
                f"{what} is within it",
                None,
                rule.pk,
            )
        failures[rule.pk] = (who, how_much)
    # Explain with the rule closest to this agent: one that fits them but not the amount
    # (their own limit), else the one with the fewest reasons.
    closest = min(
        rules,
        key=lambda r: (
            bool(failures[r.pk][0]),
            len(failures[r.pk][0]) + len(failures[r.pk][1]),
            -(r.limit_amount or 0),
        ),
    )
    reason = f"escalate: you cannot grant {what} — " + "; ".join(
        failures[closest.pk][0] + failures[closest.pk][1]
    )
    # Who could: the least demanding rule that allows this amount in this currency.
    sufficient = sorted(
        (
            r
            for r in rules
            if not remedy.is_monetary
            or amount is None
            or (r.currency == currency and (r.limit_amount is None or amount <= r.limit_amount))
        ),
        key=lambda r: (
            ROLE_RANK.get(r.role, 0),
            r.min_tier,
            r.limit_amount is None,
            r.limit_amount or 0,
        ),
    )
    if not sufficient:
        return Decision(
            False,
            reason + f"; no rule of the matrix covers {what}: it needs an exception",
            None,
        )
    target = sufficient[0]
    needed = {
        "role": target.role or "any staff",
        "min_tier": target.min_tier,
        "limit_amount": _money(target.limit_amount) if target.limit_amount is not None else None,
        "currency": target.currency if remedy.is_monetary else None,
        "skill": case.category.name if target.requires_category_skill and case.category else None,
    }
    return Decision(False, reason, needed, None, _eligible(rule=target, case=case, exclude=agent))


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
