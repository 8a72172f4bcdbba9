from decimal import Decimal

import pytest

from caseloop.cases.loop import (
    authority as loop_authority,
    escalations as loop_escalations,
    facts as loop_facts,
)
from caseloop.cases.loop.authority import authority_decide
from caseloop.cases.loop.errors import LoopError, RemedyNotAuthorised
from caseloop.cases.models import AuthorityCheck, AuthorityRule, RemedyType
from caseloop.cases.services import case_transition
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
    assert "£50.01 is over the limit of £50.00" in decision.reason
    assert decision.needed == {
        "role": "agent",
        "min_tier": 2,
        "limit_amount": "500.00",
        "currency": "GBP",
        "skill": None,
    }
    assert tier2.username in decision.eligible
    assert "Escalate to someone who may grant it: tess" in decision.reason


def test_within_limit_names_the_rule_that_allows_it():
    refund = refund_matrix()
    decision = authority_decide(
        agent=make_agent(tier=1), case=make_case(), remedy=refund, amount=Decimal("50.00")
    )
    assert decision.reason.startswith("solve now: agents of tier 1 or above may grant refund")
    assert "up to £50.00" in decision.reason and decision.rule_id is not None


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
    assert not decision.solve_now and "the limit is in GBP, not EUR" in decision.reason
    assert decision.nobody and "No one on this desk may grant a refund in EUR" in decision.reason


def test_no_rule_for_a_remedy_means_escalate_for_an_exception():
    repair = remedy_without_rules(slug="repair", name="Repair")
    decision = authority_decide(agent=make_agent(), case=make_case(), remedy=repair)
    assert not decision.solve_now and decision.nobody
    assert "No one on this desk holds authority for repair" in decision.reason
    assert "ask an admin" in decision.reason


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


def test_a_fresh_desk_has_its_limits_in_the_desk_currency():
    """The starting matrix is in pounds (CASELOOP_CURRENCY's default), like the demo's shop."""
    refund = RemedyType.objects.get(slug="refund")
    assert set(AuthorityRule.objects.filter(remedy=refund).values_list("currency", flat=True)) == {
        "GBP"
    }
    decision = authority_decide(
        agent=make_agent(tier=1), case=make_case(), remedy=refund, amount=Decimal("50.00")
    )
    assert decision.solve_now and "a refund of £50.00 is within it" in decision.reason


def test_a_case_cannot_be_solved_with_a_remedy_beyond_its_agents_authority(api):
    refund = refund_matrix()
    owner = make_agent(tier=1)
    tess = make_agent(tier=2, username="tess")
    case = make_case(actor=owner)
    case_transition(case=case, to="open", actor=owner)
    check, _ = loop_authority.authority_check_record(
        case=case, agent=owner, remedy=refund, amount=Decimal("80.00")
    )
    assert not check.solve_now and check.amount_text == "£80.00"
    with pytest.raises(RemedyNotAuthorised) as refused:
        case_transition(case=case, to="solved", actor=owner)
    assert "a refund of £80.00 is beyond" in str(refused.value)
    assert "Escalate to someone who may grant it: tess" in str(refused.value)
    assert refused.value.approvers == ["tess"]
    response = api.post(
        f"/api/v1/cases/{case.pk}/transitions", {"to": "solved"}, headers=bearer(owner)
    )
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "remedy_not_authorised" and body["approvers"] == ["tess"]
    assert (body["remedy"], body["amount"], body["currency"]) == ("refund", "80.00", "GBP")
    case.refresh_from_db()
    assert case.status == "open"
    # Someone whose authority covers it may solve it.
    case_transition(case=case, to="solved", actor=tess)
    case.refresh_from_db()
    assert case.status == "solved"


def test_a_remedy_within_the_agents_authority_checked_later_lets_them_solve():
    refund = refund_matrix()
    owner = make_agent(tier=1)
    case = make_case(actor=owner)
    case_transition(case=case, to="open", actor=owner)
    for amount in ("80.00", "40.00"):
        loop_authority.authority_check_record(
            case=case, agent=owner, remedy=refund, amount=Decimal(amount)
        )
    case_transition(case=case, to="solved", actor=owner)
    case.refresh_from_db()
    assert case.status == "solved"


def test_granting_beyond_ones_authority_goes_through_someone_whose_tier_covers_it():
    refund = refund_matrix()
    owner = make_agent(tier=1)
    colleague = make_agent(tier=1)
    tess = make_agent(tier=2, username="tess")
    case = make_case(actor=owner)
    for key, value in [("problem_at", "2026-11-20 14:30"), ("nature", "Kettle leaks")]:
        loop_facts.fact_record(case=case, key=key, value=value, actor=owner)
    loop_authority.authority_check_record(
        case=case, agent=owner, remedy=refund, amount=Decimal("80.00")
    )
    with pytest.raises(RemedyNotAuthorised, match="cannot approve it either.*tess"):
        loop_escalations.case_escalate(
            case=case, actor=owner, reason="over my limit", to_user=colleague
        )
    escalation = loop_escalations.case_escalate(
        case=case, actor=owner, reason="over my limit", to_user=tess
    )
    assert (escalation.remedy, escalation.amount) == (refund, Decimal("80.00"))
    loop_escalations.escalation_solved(escalation=escalation, actor=tess, solution="Refunded")
    case.refresh_from_db()
    assert case.status == "solved"
    # Approved once by tess: reopened, the owner may solve it again.
    case_transition(case=case, to="open", actor=owner)
    case_transition(case=case, to="solved", actor=owner)


def test_when_no_one_may_grant_it_the_check_says_to_ask_an_admin():
    refund = remedy_without_rules(slug="refund", name="Refund", monetary=True)
    AuthorityRule.objects.create(remedy=refund, role="agent", min_tier=1, limit_amount=50)
    AuthorityRule.objects.create(remedy=refund, role="agent", min_tier=2, limit_amount=500)
    make_agent(tier=2)
    owner = make_agent(tier=1)
    case = make_case(actor=owner)
    case_transition(case=case, to="open", actor=owner)
    check, decision = loop_authority.authority_check_record(
        case=case, agent=owner, remedy=refund, amount=Decimal("900.00")
    )
    assert not decision.solve_now and decision.nobody and decision.eligible == []
    assert (
        "No one on this desk may grant a refund of more than £500.00; ask an admin to raise the "
        "limit" in decision.reason
    )
    assert check.reason == decision.reason
    with pytest.raises(RemedyNotAuthorised, match="ask an admin to raise the limit") as refused:
        case_transition(case=case, to="solved", actor=make_user(role="manager"))
    assert refused.value.payload["nobody"] is True
    # A role nobody on the desk holds: said as plainly.
    exception = remedy_without_rules(slug="exception", name="Exception to policy")
    AuthorityRule.objects.create(remedy=exception, role="admin", min_tier=1)
    nobody = authority_decide(agent=owner, case=case, remedy=exception)
    assert nobody.nobody and "No one else on this desk holds that authority" in nobody.reason


def test_the_panel_shows_amounts_in_the_desk_currency(client):
    refund = refund_matrix()
    owner = make_agent(tier=1)
    case = make_case(actor=owner)
    client.force_login(owner)
    client.post(f"/loop/cases/{case.pk}/authority/", {"remedy": refund.pk, "amount": "80"})
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Amount (GBP)" in page
    assert "Refund £80.00: escalate: you cannot grant a refund of £80.00" in page
    assert "USD" not in page
