"""The authority matrix: may this agent grant this remedy on this case, here and now?

A rule of the matrix (AuthorityRule) allows a remedy to a role (blank: any staff) from a
minimum tier, up to a limit (inclusive) in one currency — the desk's, `CASELOOP_CURRENCY`,
unless the rule says otherwise — optionally only to agents skilled in the case's category.
The agent may solve now when any rule allows it; otherwise the answer is "escalate", with
the reason and who could grant it — or, when no one on the desk could, that an admin must
change the matrix.

The answer is binding: while a case's latest check says its agent may not grant the remedy,
the case becomes solved only by someone who may (the solver of an escalation, or a person
with that authority solving it themselves). `remedy_approval_require` is that check; the
case core runs it before a case is solved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.db import transaction

from caseloop.accounts.models import STAFF_ROLES, Team, User
from caseloop.cases.models import (
    AuthorityCheck,
    AuthorityRule,
    Case,
    Category,
    Escalation,
    RemedyType,
)
from caseloop.cases.services import event_record
from caseloop.lib.money import desk_currency, money_format

from .errors import LoopError, RemedyNotAuthorised
from .events import LoopEvent
from .guards import case_locked as _locked

# Less demanding roles first when naming who could grant a remedy.
ROLE_RANK = {"agent": 0, "": 0, "manager": 1, "admin": 2}
ELIGIBLE_MAX = 10


@dataclass(frozen=True)
class Decision:
    solve_now: bool
    reason: str
    needed: dict[str, Any] | None = None
    rule_id: int | None = None
    eligible: list[str] = field(default_factory=list)
    # No one on the desk may grant it: an admin has to change the matrix (or who holds it).
    nobody: bool = False
    # What to do about an "escalate": whom to ask, or what an admin must change.
    advice: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "solve_now": self.solve_now,
            "reason": self.reason,
            "needed": self.needed,
            "rule_id": self.rule_id,
            "eligible": self.eligible,
            "nobody": self.nobody,
        }


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _granting(remedy: RemedyType, amount: Decimal | None, currency: str) -> str:
    """'a refund of £80.00', 'an exception to policy'."""
    name = remedy.name.lower()
    article = "an" if name[:1] in "aeiou" else "a"
    return f"{article} {name}" + (
        f" of {money_format(amount, currency)}" if amount is not None else ""
    )


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
                f"{money_format(amount, currency)} is over the limit of "
                f"{money_format(rule.limit_amount, currency)}"
            )
    return reasons, money


def _eligible(*, rules: list[AuthorityRule], case: Case, exclude: User) -> list[str]:
    """Usernames of active staff any of `rules` lets grant the remedy, the least senior
    first, `exclude` left out."""
    names: list[str] = []
    for rule in rules:
        users = User.objects.filter(
            is_active=True, role__in=[rule.role] if rule.role else list(STAFF_ROLES)
        ).filter(tier__gte=rule.min_tier)
        if rule.requires_category_skill and case.category_id:
            users = users.filter(skills=case.category_id)
        for username in (
            users.exclude(pk=exclude.pk)
            .order_by("tier", "username")
            .values_list("username", flat=True)[:ELIGIBLE_MAX]
        ):
            if username not in names:
                names.append(username)
    return names[:ELIGIBLE_MAX]


def authority_decide(
    *,
    agent: User,
    case: Case,
    remedy: RemedyType,
    amount: Decimal | None = None,
    currency: str | None = None,
) -> Decision:
    """Solve now or escalate, with the reason. Monetary remedies need an amount; limits are
    inclusive (a 50.00 limit allows 50.00, not 50.01); amounts are in the desk's currency
    unless `currency` says otherwise. When no one on the desk may grant it the answer says
    so (`nobody`) and what an admin would have to change. Reads only."""
    currency = (currency or desk_currency()).upper()
    if amount is not None:
        amount = Decimal(amount)
        if amount < 0:
            raise LoopError("the amount cannot be negative")
    if remedy.is_monetary and amount is None:
        raise LoopError(f"'{remedy.name}' is monetary: give the amount")
    if not agent.is_agent_like:
        raise LoopError("only agents can grant remedies")
    what = _granting(remedy, amount, currency)
    if not remedy.is_active:
        advice = f"{remedy.name} is not offered at this desk; ask an admin to offer it"
        return Decision(False, advice, nobody=True, advice=advice)
    rules = list(
        AuthorityRule.objects.filter(remedy=remedy)
        .select_related("remedy")
        .order_by("min_tier", "limit_amount", "id")
    )
    if not rules:
        advice = (
            f"No one on this desk holds authority for {remedy.name.lower()}: it is not in the "
            "authority matrix; ask an admin to add it"
        )
        return Decision(False, advice, nobody=True, advice=advice)
    failures: dict[int, tuple[list[str], list[str]]] = {}
    for rule in rules:
        who, how_much = _failures(
            rule=rule, agent=agent, case=case, amount=amount, currency=currency
        )
        if not who and not how_much:
            limit = (
                f" up to {money_format(rule.limit_amount, rule.currency)}"
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
    # Who could: the rules that allow this amount in this currency, least demanding first.
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
        limits = [r.limit_amount for r in rules if r.currency == currency and r.limit_amount]
        if limits:
            advice = (
                f"No one on this desk may grant {_granting(remedy, None, currency)} of more "
                f"than {money_format(max(limits), currency)}; ask an admin to raise the limit"
            )
        else:
            advice = (
                f"No one on this desk may grant {_granting(remedy, None, currency)} in "
                f"{currency}; ask an admin to add a limit in it"
            )
        return Decision(False, f"{reason}. {advice}", None, nobody=True, advice=advice)
    target = sufficient[0]
    needed = {
        "role": target.role or "any staff",
        "min_tier": target.min_tier,
        "limit_amount": _money(target.limit_amount) if target.limit_amount is not None else None,
        "currency": target.currency if remedy.is_monetary else None,
        "skill": case.category.name if target.requires_category_skill and case.category else None,
    }
    eligible = _eligible(rules=sufficient, case=case, exclude=agent)
    if not eligible:
        advice = (
            f"No one else on this desk holds that authority ({_who(target)}); ask an admin "
            "to give someone that role or tier, or to raise a limit"
        )
        return Decision(False, f"{reason}. {advice}", needed, nobody=True, advice=advice)
    advice = f"Escalate to someone who may grant it: {', '.join(eligible)} ({_who(target)})"
    return Decision(False, f"{reason}. {advice}", needed, None, eligible, advice=advice)


@transaction.atomic
def authority_check_record(
    *,
    case: Case,
    agent: User,
    remedy: RemedyType,
    amount: Decimal | None = None,
    currency: str | None = None,
) -> tuple[AuthorityCheck, Decision]:
    """Ask the authority matrix and keep the answer on the case: until someone who may
    grant the remedy approves it, the case cannot be solved (see `remedy_approval_require`).
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
        currency=(currency or desk_currency()).upper() if amount is not None else "",
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
            "currency": check.currency or None,
            "solve_now": decision.solve_now,
            "reason": decision.reason,
        },
    )
    return check, decision


# --- Approval before a case is solved ------------------------------------------------


def _decide_for(check: AuthorityCheck, user: User) -> Decision:
    return authority_decide(
        agent=user,
        case=check.case,
        remedy=check.remedy,
        amount=check.amount,
        currency=check.currency or None,
    )


def _checker_decision(check: AuthorityCheck) -> Decision:
    """The matrix's answer today for the agent who made `check`."""
    if not check.agent.is_agent_like:
        # No longer staff: whoever may grant it now is anyone the matrix allows.
        return Decision(False, "", advice="Escalate to someone whose authority covers it")
    return _decide_for(check, check.agent)


def _may_grant(check: AuthorityCheck, user: User | None) -> bool:
    return (
        user is not None
        and user.is_active
        and user.is_agent_like
        and _decide_for(check, user).solve_now
    )


def authority_pending(*, case: Case) -> AuthorityCheck | None:
    """The remedy the case's latest authority check said its agent may not grant, while no
    one who may has approved it (by solving an escalation since); None when there is none."""
    check = (
        AuthorityCheck.objects.filter(case=case)
        .select_related("case__category", "agent", "remedy")
        .order_by("-id")
        .first()
    )
    if check is None or check.solve_now:
        return None
    solvers = (
        Escalation.objects.filter(
            case=case, state=Escalation.State.SOLVED, solved_at__gte=check.created_at
        )
        .exclude(solver=None)
        .select_related("solver")
    )
    if any(_may_grant(check, escalation.solver) for escalation in solvers):
        return None
    return check


def _refusal(check: AuthorityCheck, doing: str) -> RemedyNotAuthorised:
    """Why the remedy of `check` stops `doing`, with whom to ask."""
    decision = _checker_decision(check)
    what = _granting(check.remedy, check.amount, check.currency)
    if decision.solve_now:
        # The matrix has changed since: the agent who checked may grant it now.
        advice = f"{check.agent.display_name} may grant it now: check the authority again"
        approvers = [check.agent.username]
    else:
        advice, approvers = decision.advice, decision.eligible
    return RemedyNotAuthorised(
        f"{doing}: {what} is beyond {check.agent.display_name}'s authority and no one who may "
        f"grant it has approved it. {advice}",
        remedy=check.remedy.slug,
        amount=_money(check.amount) if check.amount is not None else None,
        currency=check.currency or None,
        approvers=approvers,
        nobody=decision.nobody,
    )


def remedy_approval_require(case: Case, actor: User | None) -> None:
    """Refuse (RemedyNotAuthorised, naming who could approve) to solve `case` while the
    remedy of its latest authority check is beyond its agent's authority and no one who
    may grant it has approved it — unless `actor` is such a person. Reads only."""
    check = authority_pending(case=case)
    if check is None or _may_grant(check, actor):
        return
    raise _refusal(check, "the case cannot be solved yet")


def authority_escalation_check(
    *, case: Case, to_user: User | None, to_team: Team | None
) -> AuthorityCheck | None:
    """Before an escalation: when the case awaits approval of a remedy, the person (or
    someone in the team) it goes to must be able to grant it. Returns the pending check.
    Raises RemedyNotAuthorised naming who could. Reads only."""
    check = authority_pending(case=case)
    if check is None:
        return None
    decision = _checker_decision(check)
    if decision.nobody:
        # No one may grant it as the matrix stands: the solver will have to find another
        # remedy (or an admin change the matrix); the escalation is not what is wrong.
        return check
    if to_user is not None and _may_grant(check, to_user):
        return check
    if to_team is not None and any(
        _may_grant(check, member) for member in to_team.members.filter(is_active=True)[:50]
    ):
        return check
    target = to_user.username if to_user is not None else cast(Team, to_team).name
    raise _refusal(check, f"{target} cannot approve it either")
