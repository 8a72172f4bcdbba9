from decimal import Decimal

import pytest

from caseloop.cases.loop import authority as loop_authority
from caseloop.cases.loop.authority import authority_decide
from caseloop.cases.loop.errors import LoopError
from caseloop.cases.models import AuthorityCheck, AuthorityRule, RemedyType
from tests.builders import bearer, make_agent, make_case, make_category, make_user

from .helpers import refund_matrix, remedy_without_rules

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "amount, solve_now",
    [("0.00", True), ("49.99", True), ("50.00", True), ("50.01", False), ("51.00", False)],
)
def test_tier_one_refund_limit_is_inclusive_at_fifty(amount, solve_now):
    refund = refund_matrix()
    decision = authority_decide(
        agent=make_agent(tier=1), case=make_case(), remedy=refund, amount=Decimal(amount)
    )
    assert decision.solve_now is solve_now


def test_just_over_the_limit_says_why_and_what_is_needed():
    refund = refund_matrix()
    tier2 = make_agent(tier=2, username="tess")
    decision = authority_decide(
        agent=make_agent(tier=1), case=make_case(), remedy=refund, amount=Decimal("50.01")
    )
    assert not decision.solve_now
    assert "50.01 USD is over the limit of 50.00 USD" in decision.reason
    assert decision.needed == {
        "role": "agent",
        "min_tier": 2,
        "limit_amount": "500.00",
        "currency": "USD",
        "skill": None,
    }
    assert tier2.username in decision.eligible


def test_within_limit_names_the_rule_that_allows_it():
    refund = refund_matrix()
    decision = authority_decide(
        agent=make_agent(tier=1), case=make_case(), remedy=refund, amount=Decimal("50.00")
    )
    assert decision.reason.startswith("solve now: agents of tier 1 or above may grant refund")
    assert "up to 50.00 USD" in decision.reason and decision.rule_id is not None


@pytest.mark.parametrize(
    "tier, amount, solve_now", [(2, "500.00", True), (2, "500.01", False), (3, "499.00", True)]
)
def test_higher_tiers_have_higher_limits(tier, amount, solve_now):
    refund = refund_matrix()
    decision = authority_decide(
        agent=make_agent(tier=tier), case=make_case(), remedy=refund, amount=Decimal(amount)
    )
    assert decision.solve_now is solve_now


def test_a_manager_has_no_limit_and_above_every_agent_limit_the_manager_is_needed():
    refund = refund_matrix()
    manager = make_user(role="manager")
    case = make_case()
    assert authority_decide(
        agent=manager, case=case, remedy=refund, amount=Decimal("9999")
    ).solve_now
    decision = authority_decide(
        agent=make_agent(tier=2), case=case, remedy=refund, amount=Decimal("500.01")
    )
    assert decision.needed["role"] == "manager" and manager.username in decision.eligible


def test_non_monetary_remedy_limited_by_role():
    exception = remedy_without_rules(slug="exception", name="Exception to policy")
    AuthorityRule.objects.create(remedy=exception, role="manager", min_tier=1)
    case = make_case()
    decision = authority_decide(agent=make_agent(tier=3), case=case, remedy=exception)
    assert not decision.solve_now and "needs the manager role" in decision.reason
    assert authority_decide(agent=make_user(role="manager"), case=case, remedy=exception).solve_now


def test_skill_in_the_case_category_can_be_required():
    billing = make_category(name="Billing")
    credit = remedy_without_rules(slug="credit", name="Store credit", monetary=True)
    AuthorityRule.objects.create(
        remedy=credit, role="", min_tier=1, limit_amount=Decimal("20"), requires_category_skill=True
    )
    case = make_case(category=billing)
    unskilled = make_agent()
    skilled = make_agent()
    skilled.skills.add(billing)
    no = authority_decide(agent=unskilled, case=case, remedy=credit, amount=Decimal("10"))
    assert not no.solve_now and "needs the skill 'Billing'" in no.reason
    assert no.needed["skill"] == "Billing" and no.eligible == [skilled.username]
    assert authority_decide(agent=skilled, case=case, remedy=credit, amount=Decimal("10")).solve_now


def test_a_limit_in_another_currency_does_not_apply():
    refund = refund_matrix()
    decision = authority_decide(
        agent=make_agent(), case=make_case(), remedy=refund, amount=Decimal("10"), currency="EUR"
    )
    assert not decision.solve_now and "the limit is in USD, not EUR" in decision.reason


def test_no_rule_for_a_remedy_means_escalate_for_an_exception():
    repair = remedy_without_rules(slug="repair", name="Repair")
    decision = authority_decide(agent=make_agent(), case=make_case(), remedy=repair)
    assert not decision.solve_now and "no one holds authority" in decision.reason


def test_monetary_remedy_needs_an_amount():
    with pytest.raises(LoopError, match="give the amount"):
        authority_decide(agent=make_agent(), case=make_case(), remedy=refund_matrix())


def test_authority_endpoint_records_the_check_and_an_event(api):
    refund_matrix()
    case = make_case()
    agent = make_agent(tier=1)
    ok = api.post(
        f"/api/v1/cases/{case.pk}/authority",
        {"remedy": "refund", "amount": "50.00"},
        headers=bearer(agent),
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["solve_now"] is True
    over = api.post(
        f"/api/v1/cases/{case.pk}/authority",
        {"remedy": "refund", "amount": "50.01"},
        headers=bearer(agent),
    ).json()
    assert over["solve_now"] is False and over["needed"]["min_tier"] == 2
    assert AuthorityCheck.objects.filter(case=case).count() == 2
    events = case.events.filter(kind="authority_checked").order_by("id")
    assert [e.data["solve_now"] for e in events] == [True, False]
    missing = api.post(
        f"/api/v1/cases/{case.pk}/authority", {"remedy": "refund"}, headers=bearer(agent)
    )
    assert missing.status_code == 422 and "give the amount" in missing.json()["detail"]
    unknown = api.post(
        f"/api/v1/cases/{case.pk}/authority", {"remedy": "gold"}, headers=bearer(agent)
    )
    assert unknown.status_code == 422


def test_authority_check_through_the_service_keeps_the_answer():
    refund = refund_matrix()
    case = make_case()
    check, decision = loop_authority.authority_check_record(
        case=case, agent=make_agent(), remedy=refund, amount=Decimal("75")
    )
    assert check.solve_now is False and check.reason == decision.reason
    assert check.needed["limit_amount"] == "500.00"


def test_a_fresh_desk_has_a_working_default_matrix():
    case = make_case()
    refund = RemedyType.objects.get(slug="refund")
    assert {r.slug for r in RemedyType.objects.all()} >= {
        "refund",
        "replacement",
        "credit",
        "repair",
        "exception",
    }
    agent = make_agent(tier=1)
    assert authority_decide(
        agent=agent, case=case, remedy=refund, amount=Decimal("50.00")
    ).solve_now
    assert not authority_decide(
        agent=agent, case=case, remedy=refund, amount=Decimal("50.01")
    ).solve_now
    exception = RemedyType.objects.get(slug="exception")
    assert not authority_decide(agent=agent, case=case, remedy=exception).solve_now
