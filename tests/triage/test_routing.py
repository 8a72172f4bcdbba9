"""Routing: category → team, then an available, skilled agent; round robin or least loaded;
overflow when nobody is free; reasons in the event log; the agent owns an unowned case."""

import pytest

from caseloop.accounts.models import Role
from caseloop.cases.models import CaseEvent
from caseloop.cases.services import case_transfer_ownership, case_update
from caseloop.triage.models import RoutingRule, TeamRouting
from caseloop.triage.routing import case_route
from tests.builders import make_agent, make_case, make_category, make_team, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing():
    return make_category(name="Billing")


def _team(*, category, agents, strategy="round_robin", **extra):
    team = make_team(members=agents)
    RoutingRule.objects.create(category=category, team=team)
    TeamRouting.objects.create(team=team, strategy=strategy, **extra)
    return team


def _skilled(category, n=1, *, is_available=True):
    agents = []
    for _ in range(n):
        agent = make_agent()
        if not is_available:
            agent.is_available = False
            agent.save(update_fields=["is_available"])
        agent.skills.add(category)
        agents.append(agent)
    return agents


def _case(category):
    return make_case(category=category)


def test_round_robin_cycles_through_the_team(billing):
    agents = _skilled(billing, 3)
    _team(category=billing, agents=agents)
    assigned = [case_route(case=_case(billing)).agent for _ in range(6)]
    ordered = sorted(agents, key=lambda a: a.pk)
    assert assigned == ordered + ordered


def test_least_loaded_picks_the_agent_with_fewest_open_cases(billing):
    busy, idle = _skilled(billing, 2)
    _team(category=billing, agents=[busy, idle], strategy="least_loaded")
    for _ in range(2):
        case_update(case=_case(billing), actor=None, assignee=busy)
    solved = _case(billing)
    case_update(case=solved, actor=None, assignee=idle)
    solved.status = "solved"
    solved.save(update_fields=["status"])  # solved work does not count as load
    decision = case_route(case=_case(billing))
    assert decision.agent == idle
    assert "least loaded (0 open case(s))" in decision.reason
    # busy has 2 open, idle 1: idle again
    assert case_route(case=_case(billing)).agent == idle
    # 2 and 2: the tie goes round the cycle, not always to the same person
    third = case_route(case=_case(billing)).agent
    assert third in (busy, idle)
    assert case_route(case=_case(billing)).agent != third


def test_only_agents_with_the_skill_receive_the_case(billing):
    unskilled = make_agent()
    (skilled,) = _skilled(billing)
    _team(category=billing, agents=[unskilled, skilled])
    for _ in range(3):
        assert case_route(case=_case(billing)).agent == skilled


def test_skills_are_ignored_when_the_team_does_not_require_them(billing):
    unskilled = make_agent()
    _team(category=billing, agents=[unskilled], require_skill=False)
    assert case_route(case=_case(billing)).agent == unskilled


def test_unavailable_and_customer_members_are_skipped(billing):
    away, present = _skilled(billing, 2)
    away.is_available = False
    away.save(update_fields=["is_available"])
    customer_login = make_user(role=Role.CUSTOMER)
    _team(category=billing, agents=[away, present, customer_login])
    for _ in range(3):
        assert case_route(case=_case(billing)).agent == present


def test_overflow_to_another_team_when_nobody_is_available(billing):
    (away,) = _skilled(billing, is_available=False)
    (helper,) = _skilled(billing)
    overflow = make_team(name="Overflow desk", members=[helper])
    TeamRouting.objects.create(team=overflow)
    first = _team(category=billing, agents=[away], overflow_team=overflow)
    case = _case(billing)
    decision = case_route(case=case)
    assert decision.team == overflow and decision.agent == helper
    assert decision.reason.startswith(f"overflow from {first.name}")
    case.refresh_from_db()
    assert case.team == overflow and case.assignee == helper


def test_nobody_available_anywhere_leaves_the_case_with_the_team_unassigned(billing):
    (away,) = _skilled(billing, is_available=False)
    overflow = make_team(name="Empty", members=[])
    TeamRouting.objects.create(team=overflow, overflow_team=None)
    first = _team(category=billing, agents=[away], overflow_team=overflow)
    # a cycle back to the first team must not loop
    TeamRouting.objects.filter(team=overflow).update(overflow_team=first)
    case = _case(billing)
    decision = case_route(case=case)
    assert decision.agent is None and decision.team == first
    assert "nobody available" in decision.reason
    case.refresh_from_db()
    assert case.team == first and case.assignee is None


def test_a_rule_without_category_catches_the_rest(billing):
    general = make_team(name="General", members=[make_agent()])
    RoutingRule.objects.create(category=None, team=general, order=999)
    TeamRouting.objects.create(team=general)
    decision = case_route(case=make_case())
    assert decision.team == general and decision.agent is not None
    assert "no category yet" in " ".join(decision.steps)


def test_routing_writes_field_events_and_a_routed_event_with_the_reasoning(billing):
    (agent,) = _skilled(billing)
    team = _team(category=billing, agents=[agent])
    case = _case(billing)
    case_route(case=case)
    events = {e.kind: e for e in CaseEvent.objects.filter(case=case)}
    assert events["team_changed"].data["after"] == team.pk
    assert events["team_changed"].data["reason"].startswith("routed to")
    assert events["assignee_changed"].data["after"] == agent.pk
    routed = events["routed"]
    assert routed.actor is None
    assert routed.data["agent"] == agent.pk and routed.data["team"] == team.pk
    assert any("with the skill 'Billing'" in step for step in routed.data["steps"])


def test_routing_to_an_agent_makes_them_the_owner_with_an_event_naming_the_rule(billing):
    (agent,) = _skilled(billing)
    team = _team(category=billing, agents=[agent])
    case = _case(billing)
    case_route(case=case)
    case.refresh_from_db()
    assert case.owner == agent and case.assignee == agent
    event = CaseEvent.objects.get(case=case, kind="owner_transferred")
    assert event.actor is None and event.data["before"] is None and event.data["after"] == agent.pk
    assert event.data["reason"].startswith(f"routed by the rule Billing → {team.name}: to ")


def test_routing_never_takes_a_case_from_its_owner(billing):
    (agent,) = _skilled(billing)
    _team(category=billing, agents=[agent])
    owner = make_agent()
    case = _case(billing)
    case_transfer_ownership(case=case, to_user=owner, actor=owner)
    case_route(case=case)
    case.refresh_from_db()
    assert case.owner == owner and case.assignee == agent


def test_routing_to_a_team_alone_leaves_the_case_unowned(billing):
    (agent,) = _skilled(billing)
    _team(category=billing, agents=[agent], auto_assign=False)
    case = _case(billing)
    case_route(case=case)
    case.refresh_from_db()
    assert case.owner is None and case.assignee is None
    assert not CaseEvent.objects.filter(case=case, kind="owner_transferred").exists()


def test_no_rule_records_why_nothing_was_routed():
    case = make_case()
    decision = case_route(case=case)
    assert decision.team is None
    event = CaseEvent.objects.get(case=case, kind="routed")
    assert event.data["reason"] == "no routing rule matches the case"
