import pytest
from django.core.exceptions import ValidationError

from caseloop.cases.loop import (
    facts as loop_facts,
    needs as loop_needs,
    selectors as loop_selectors,
)
from caseloop.cases.loop.policies import RuleError, rule_validate
from caseloop.cases.models import Alternative, NeedsDecision, Policy, PolicyCheck
from tests.builders import bearer, make_agent, make_case, make_category

from .helpers import (
    carrier_policy,
    days,
    kinds,
    make_purchase,
    return_window_policy,
    water_damage_policy,
)

pytestmark = pytest.mark.django_db


def _case_bought_days_ago(n: int):
    case = make_case(subject="I want to return my kettle")
    make_purchase(customer=case.customer, bought_at=case.created_at - days(n))
    return case


def test_return_on_the_last_day_of_the_window_is_in_policy_with_its_explanation():
    return_window_policy(days=30)
    case = _case_bought_days_ago(30)
    agent = make_agent()
    decision = loop_needs.policy_check_run(case=case, actor=agent)
    assert decision.outcome == "in_policy"
    check = decision.checks.get()
    bought = (case.created_at - days(30)).date().isoformat()
    assert check.explanation == (
        f"Order A-1001 bought {bought}, 30 days ago; returns are accepted within 30 days."
    )
    assert check.details["age_days"] == 30 and check.details["holds"] is True
    assert not Alternative.objects.filter(case=case).exists()


def test_return_one_day_after_the_window_is_out_of_policy_and_proposes_alternatives():
    return_window_policy(days=30)
    case = _case_bought_days_ago(31)
    decision = loop_needs.policy_check_run(case=case, actor=make_agent())
    assert decision.outcome == "out_of_policy"
    assert "31 days ago; returns are accepted within 30 days" in decision.summary
    proposed = Alternative.objects.filter(case=case).order_by("id")
    assert [(a.title, a.source) for a in proposed] == [
        ("Repair under warranty", "policy"),
        ("Store credit", "policy"),
    ]
    assert proposed[1].description == "Credit for a future order"
    # Running the check again does not propose the same alternatives twice.
    loop_needs.policy_check_run(case=case, actor=make_agent())
    assert Alternative.objects.filter(case=case).count() == 2


def test_the_order_named_in_the_facts_is_the_one_measured():
    return_window_policy(days=30)
    case = _case_bought_days_ago(5)
    make_purchase(
        customer=case.customer,
        order_id="B-7",
        product="Toaster",
        bought_at=case.created_at - days(53),
    )
    agent = make_agent()
    loop_facts.fact_record(case=case, key="order_id", value="B-7", actor=agent)
    check = loop_needs.policy_check_run(case=case, actor=agent).checks.get()
    assert check.outcome == "out_of_policy"
    assert check.explanation.startswith("Order B-7 bought ") and "53 days ago" in check.explanation


def test_without_a_purchase_the_window_cannot_be_decided_and_says_what_is_missing():
    return_window_policy(days=30)
    case = make_case()
    decision = loop_needs.policy_check_run(case=case, actor=make_agent())
    assert decision.outcome == "undetermined"
    assert "missing a purchase record" in decision.checks.get().explanation


def test_water_damage_is_excluded_from_the_warranty():
    water_damage_policy()
    case = make_case(subject="My phone stopped working")
    agent = make_agent()
    first = loop_needs.policy_check_run(case=case, actor=agent)
    assert first.outcome == "undetermined"
    assert "fact 'cause'" in first.summary
    loop_facts.fact_record(case=case, key="cause", value="Water damage", actor=agent)
    decision = loop_needs.policy_check_run(case=case, actor=agent)
    assert decision.outcome == "out_of_policy"
    assert decision.summary == (
        "The damage was caused by Water damage; the warranty excludes water damage."
    )
    assert Alternative.objects.filter(case=case, title="Paid repair at a discount").exists()
    loop_facts.fact_record(case=case, key="cause", value="battery fault", actor=agent)
    assert loop_needs.policy_check_run(case=case, actor=agent).outcome == "in_policy"


def test_a_carrier_delay_is_not_our_responsibility_and_outranks_in_policy():
    carrier = make_category(name="Carrier delay")
    carrier_policy(category=carrier)
    return_window_policy(days=30)
    case = make_case(category=carrier)
    make_purchase(customer=case.customer, bought_at=case.created_at - days(2))
    decision = loop_needs.policy_check_run(case=case, actor=make_agent())
    outcomes = {c.policy_name: c.outcome for c in decision.checks.all()}
    assert outcomes == {
        "Returns within 30 days": "in_policy",
        "Carrier delays are the carrier's responsibility": "not_our_responsibility",
    }
    assert decision.outcome == "not_our_responsibility"
    assert "category is carrier-delay" in decision.summary
    assert Alternative.objects.filter(
        case=case, title="Open a claim with the carrier for the customer"
    ).exists()


def test_policies_limited_to_other_categories_are_not_applied():
    billing = make_category(name="Billing")
    return_window_policy(days=30, categories=[billing])
    case = _case_bought_days_ago(90)
    decision = loop_needs.policy_check_run(case=case, actor=make_agent())
    assert decision.outcome == "not_applicable" and not decision.checks.exists()


def test_listened_no_action_wanted_is_recorded_with_an_event():
    case = make_case()
    agent = make_agent()
    decision = loop_needs.needs_no_action_record(case=case, actor=agent, note="Wanted to vent")
    assert decision.outcome == "no_action_wanted" and decision.source == "agent"
    assert "needs_decided" in kinds(case)
    stages = {s.key: s for s in loop_selectors.case_stages(case=case)[0]}
    assert stages["needs"].done and not stages["alternatives"].applies


def test_policy_check_writes_one_event_naming_each_check():
    return_window_policy(days=30)
    case = _case_bought_days_ago(40)
    loop_needs.policy_check_run(case=case, actor=make_agent())
    event = case.events.filter(kind="policy_checked").get()
    assert event.data["outcome"] == "out_of_policy"
    assert event.data["checks"] == [
        {"policy": "Returns within 30 days", "outcome": "out_of_policy"}
    ]
    assert len(event.data["alternatives_proposed"]) == 2


@pytest.mark.parametrize(
    "rule, message",
    [
        ({"kind": "purchase_age_max_days"}, "needs 'days'"),
        ({"kind": "purchase_age_max_days", "days": "30"}, "wrong type"),
        ({"kind": "nonsense"}, "unknown kind"),
        ({"kind": "fact_in", "key": "cause", "values": []}, "'values' is empty"),
        ({"kind": "all", "rules": [{"kind": "category_in", "categories": []}]}, "rules[0]"),
        ([], "JSON object"),
    ],
)
def test_malformed_rules_are_refused_with_what_is_wrong(rule, message):
    with pytest.raises(RuleError, match=message.replace("[", r"\[").replace("]", r"\]")):
        rule_validate(rule)


def test_the_admin_form_refuses_a_malformed_policy():
    policy = Policy(name="Broken", rule={"kind": "fact_equals", "key": "cause"})
    with pytest.raises(ValidationError) as caught:
        policy.full_clean()
    assert "needs 'value'" in str(caught.value.message_dict["rule"])


def test_composite_rules_combine_conditions():
    Policy.objects.create(
        name="Big late returns",
        rule={
            "kind": "all",
            "rules": [
                {"kind": "purchase_age_max_days", "days": 30},
                {"kind": "not", "rule": {"kind": "fact_equals", "key": "opened", "value": "yes"}},
            ],
        },
        outcome_if_met="in_policy",
        outcome_if_not_met="out_of_policy",
    )
    case = _case_bought_days_ago(3)
    agent = make_agent()
    loop_facts.fact_record(case=case, key="opened", value="yes", actor=agent)
    check = loop_needs.policy_check_run(case=case, actor=agent).checks.get()
    assert check.outcome == "out_of_policy"
    assert check.explanation.startswith("Big late returns: out of policy — order A-1001 bought")


def test_policy_check_api_runs_and_lists_results(api):
    return_window_policy(days=30)
    case = _case_bought_days_ago(31)
    agent = make_agent()
    ran = api.post(f"/api/v1/cases/{case.pk}/policy-check", headers=bearer(agent))
    assert ran.status_code == 201, ran.content
    assert ran.json()["outcome"] == "out_of_policy"
    assert "returns are accepted within 30 days" in ran.json()["checks"][0]["explanation"]
    listed = api.get(f"/api/v1/cases/{case.pk}/policy-check", headers=bearer(agent)).json()
    assert listed["latest"]["id"] == ran.json()["id"]
    no_action = api.post(
        f"/api/v1/cases/{case.pk}/needs/no-action", {"note": "just venting"}, headers=bearer(agent)
    )
    assert no_action.status_code == 201 and no_action.json()["outcome"] == "no_action_wanted"
    assert NeedsDecision.objects.filter(case=case).count() == 2
    assert PolicyCheck.objects.filter(case=case).count() == 1
