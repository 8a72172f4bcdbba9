"""Routing: category → team by rule, then an available agent with the skill inside the team
(round robin or least loaded, per team), overflowing to another team when nobody is free.
Routing to an agent makes them the owner of a case nobody owns yet (and its assignee), so it
lands in their "Mine"; routing to a team alone leaves the case unowned in the team's queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from django.db import transaction
from django.db.models import Count, Q

from caseloop.accounts.models import STAFF_ROLES, Team, User
from caseloop.cases.models import FINISHED_STATUSES, Case, Category
from caseloop.cases.services import case_transfer_ownership, case_update, event_record
from caseloop.lib.settings_cache import cached_setting

from .events import ROUTED
from .models import RoutingRule, TeamRouting


@dataclass
class RouteDecision:
    team: Team | None
    agent: User | None
    reason: str
    steps: list[str] = field(default_factory=list)
    strategy: str = ""

    def as_dict(self) -> dict:
        return {
            "team": self.team.pk if self.team else None,
            "team_name": self.team.name if self.team else None,
            "agent": self.agent.pk if self.agent else None,
            "agent_name": self.agent.username if self.agent else None,
            "strategy": self.strategy,
            "reason": self.reason,
            "steps": self.steps,
        }


def _rule_for(case: Case) -> RoutingRule | None:
    """The first active rule for the case's category, else the first for any category."""
    rules = _active_rules()
    if case.category_id:
        rule = next((r for r in rules if r.category_id == case.category_id), None)
        if rule:
            return rule
    return next((r for r in rules if r.category_id is None), None)


def _active_rules() -> tuple[RoutingRule, ...]:
    # Read once per process until a rule, team or category changes (lib.settings_cache);
    # callers only read them.
    return cached_setting(
        "triage.routing_rules",
        lambda: tuple(
            RoutingRule.objects.filter(is_active=True).select_related("team", "category")
        ),
        models=(RoutingRule, Team, Category),
    )


def _eligible(*, team: Team, case: Case, config: TeamRouting, steps: list[str]):
    agents = team.members.filter(is_active=True, role__in=list(STAFF_ROLES))
    total = agents.count()
    available = agents.filter(is_available=True)
    if config.require_skill and case.category_id:
        skilled = available.filter(skills=case.category_id)
        steps.append(
            f"{team.name}: {total} member(s), {available.count()} available, "
            f"{skilled.count()} with the skill '{cast(Category, case.category).name}'"
        )
        return skilled
    steps.append(f"{team.name}: {total} member(s), {available.count()} available")
    return available


def _after_pointer(agents: list[User], pointer: int | None) -> list[User]:
    """Agents in id order, starting after the last one assigned: the round-robin cycle."""
    ordered = sorted(agents, key=lambda a: a.pk)
    if pointer is None:
        return ordered
    later = [a for a in ordered if a.pk > pointer]
    earlier = [a for a in ordered if a.pk <= pointer]
    return later + earlier


def _pick(*, config: TeamRouting, eligible, steps: list[str]) -> tuple[User, str]:
    agents = list(eligible.distinct())
    cycle = _after_pointer(agents, config.last_assigned_id)
    if config.strategy == TeamRouting.Strategy.LEAST_LOADED:
        loads = dict(
            User.objects.filter(pk__in=[a.pk for a in agents])
            .annotate(
                load=Count(
                    "assigned_cases",
                    filter=~Q(assigned_cases__status__in=FINISHED_STATUSES),
                )
            )
            .values_list("pk", "load")
        )
        lowest = min(loads.values())
        # Ties go round the cycle, so equally loaded agents take turns.
        chosen = next(a for a in cycle if loads[a.pk] == lowest)
        listing = ", ".join(
            f"{a.username}={loads[a.pk]}" for a in sorted(agents, key=lambda a: a.pk)
        )
        steps.append(f"open cases per agent: {listing}")
        return chosen, f"least loaded ({lowest} open case(s))"
    chosen = cycle[0]
    return chosen, "next in the round-robin"


@transaction.atomic
def case_route(*, case: Case) -> RouteDecision:
    """Route the case to a team and, when someone is free, an agent in it, who becomes its
    owner unless someone already owns it. Side effects: team/assignee field events through
    case_update with the reason; an `owner_transferred` event naming the rule; a `routed`
    event with the whole reasoning; the team's round-robin pointer."""
    case = Case.objects.select_related("category", "team").get(pk=case.pk)
    steps: list[str] = []
    rule = _rule_for(case)
    rule_name = ""
    if rule is not None:
        team = rule.team
        rule_name = f"{rule.category.name if rule.category else 'any category'} → {team.name}"
        steps.append(f"rule: {rule_name}")
    elif case.team_id:
        team = cast(Team, case.team)
        steps.append(f"no routing rule matches; keeping the team {team.name}")
    else:
        decision = RouteDecision(None, None, "no routing rule matches the case", steps)
        steps.append(decision.reason)
        event_record(case=case, kind=ROUTED, data=decision.as_dict())
        return decision
    if case.category_id is None:
        steps.append("no category yet: skills cannot be checked")

    first_team = team
    final_team = first_team
    seen: set[int] = set()
    agent = None
    why = ""
    strategy = ""
    current: Team | None = team
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        config, _ = TeamRouting.objects.select_for_update().get_or_create(team=current)
        strategy = config.strategy
        if not config.auto_assign:
            final_team = current
            why = f"to {current.name}, which assigns by hand"
            steps.append(why)
            break
        eligible = _eligible(team=current, case=case, config=config, steps=steps)
        if eligible.exists():
            agent, how = _pick(config=config, eligible=eligible, steps=steps)
            config.last_assigned = agent
            config.save(update_fields=["last_assigned"])
            final_team = current
            why = f"to {current.name}, {agent.username}: {how}"
            if current.pk != first_team.pk:
                why = f"overflow from {first_team.name}: {why}"
            steps.append(why)
            break
        if config.overflow_team_id and config.overflow_team_id not in seen:
            overflow = cast(Team, config.overflow_team)
            steps.append(f"nobody available in {current.name}; overflow to {overflow.name}")
            current = overflow
            continue
        break
    if not why:
        why = f"to {first_team.name}, unassigned: nobody available"
        steps.append(why)
    team = final_team
    decision = RouteDecision(team, agent, why, steps, strategy)
    changes: dict = {"team": team}
    if agent is not None:
        changes["assignee"] = agent
    # case_update locks the row until the routing commits: the owner read here stays true.
    case = case_update(case=case, actor=None, reason=f"routed {why}", **changes)
    if agent is not None and case.owner_id is None:
        by = f"by the rule {rule_name}" if rule_name else f"within the team {team.name}"
        case_transfer_ownership(case=case, to_user=agent, actor=None, reason=f"routed {by}: {why}")
    event_record(case=case, kind=ROUTED, data=decision.as_dict())
    return decision
