from datetime import timedelta

import pytest

from caseloop.cases.loop import (
    alternatives as loop_alternatives,
    escalations as loop_escalations,
    facts as loop_facts,
)
from caseloop.cases.models import ProblemStatement, Reminder
from caseloop.customers.models import PurchaseRecord
from tests.builders import bearer, make_agent, make_case, make_customer_user, make_user

from .helpers import kinds, make_purchase, refund_matrix, return_window_policy

pytestmark = pytest.mark.django_db

LOOP_PATHS = {
    ("/api/v1/cases/{case_id}/problem", "get"),
    ("/api/v1/cases/{case_id}/problem", "put"),
    ("/api/v1/cases/{case_id}/problem/send-for-confirmation", "post"),
    ("/api/v1/cases/{case_id}/policy-check", "get"),
    ("/api/v1/cases/{case_id}/policy-check", "post"),
    ("/api/v1/cases/{case_id}/authority", "post"),
    ("/api/v1/cases/{case_id}/facts", "get"),
    ("/api/v1/cases/{case_id}/facts", "post"),
    ("/api/v1/cases/{case_id}/links", "get"),
    ("/api/v1/cases/{case_id}/links", "post"),
    ("/api/v1/cases/{case_id}/alternatives", "get"),
    ("/api/v1/cases/{case_id}/alternatives", "post"),
    ("/api/v1/cases/{case_id}/alternatives/{alternative_id}", "patch"),
    ("/api/v1/cases/{case_id}/alternatives/{alternative_id}/choose", "post"),
    ("/api/v1/cases/{case_id}/plan", "get"),
    ("/api/v1/cases/{case_id}/plan", "post"),
    ("/api/v1/cases/{case_id}/plan/steps", "post"),
    ("/api/v1/cases/{case_id}/plan/share", "post"),
    ("/api/v1/cases/{case_id}/plan/consent", "post"),
    ("/api/v1/cases/{case_id}/escalations", "get"),
    ("/api/v1/cases/{case_id}/escalations", "post"),
    ("/api/v1/cases/{case_id}/escalations/{escalation_id}/accept", "post"),
    ("/api/v1/cases/{case_id}/escalations/{escalation_id}/return", "post"),
    ("/api/v1/cases/{case_id}/escalations/{escalation_id}/solved", "post"),
    ("/api/v1/cases/{case_id}/follow-up", "get"),
    ("/api/v1/cases/{case_id}/follow-up", "post"),
    ("/api/v1/cases/{case_id}/lessons", "get"),
    ("/api/v1/cases/{case_id}/lessons", "post"),
    ("/api/v1/cases/{case_id}/stages", "get"),
    ("/api/v1/lessons", "get"),
}


def test_every_stage_is_documented_in_the_openapi(client):
    schema = client.get("/api/openapi.json").json()
    for path, method in LOOP_PATHS:
        operation = schema["paths"][path][method]
        assert operation["summary"], (path, method)
        assert "loop" in operation["tags"]
    stages = schema["paths"]["/api/v1/cases/{case_id}/stages"]["get"]
    assert "200" in stages["responses"]


def test_loop_endpoints_are_for_agents_and_hide_other_customers_cases(api):
    case = make_case()
    customer = make_customer_user(customer=case.customer)
    assert api.get(f"/api/v1/cases/{case.pk}/stages", headers=bearer(customer)).status_code == 403
    stranger = make_customer_user()
    assert api.get(f"/api/v1/cases/{case.pk}/plan", headers=bearer(stranger)).status_code == 404
    assert api.get("/api/v1/cases/999999/stages", headers=bearer(make_agent())).status_code == 404


def test_reading_the_problem_statement_writes_nothing(api):
    case = make_case(text="Where is my parcel?")
    ProblemStatement.objects.filter(case=case).delete()
    before = kinds(case)
    body = api.get(f"/api/v1/cases/{case.pk}/problem", headers=bearer(make_agent())).json()
    assert body["customer_words"] == "Where is my parcel?"
    assert kinds(case) == before and not ProblemStatement.objects.filter(case=case).exists()


def test_list_endpoints_keep_their_query_counts(api, django_assert_max_num_queries):
    agent = make_agent()
    case = make_case(actor=agent)
    for n in range(5):
        loop_facts.fact_record(case=case, key=f"k{n}", value="v", actor=agent)
        loop_alternatives.alternative_add(case=case, title=f"Option {n}", actor=agent)
        purchase = make_purchase(
            customer=case.customer, order_id=f"O-{n}", bought_at=case.created_at
        )
        loop_facts.case_link_add(case=case, kind="purchase", purchase=purchase, actor=agent)
    headers = bearer(agent)
    for path, limit in [("alternatives", 5), ("facts", 8), ("links", 5)]:
        with django_assert_max_num_queries(limit):
            response = api.get(f"/api/v1/cases/{case.pk}/{path}", headers=headers)
        assert response.status_code == 200, path


def test_bad_input_is_a_clear_4xx(api):
    agent = make_agent()
    case = make_case(actor=agent)
    base = f"/api/v1/cases/{case.pk}"
    h = bearer(agent)
    unnamed = api.post(f"{base}/facts", {"key": "?!", "value": "x"}, headers=h)
    assert unnamed.status_code == 422 and "name the fact" in unnamed.json()["detail"]
    weighed = api.post(f"{base}/alternatives", {"title": "A"}, headers=h).json()
    bad_score = api.patch(f"{base}/alternatives/{weighed['id']}", {"feasibility": 9}, headers=h)
    assert bad_score.status_code == 422
    no_reason = api.post(f"{base}/alternatives/{weighed['id']}/choose", {"reason": ""}, headers=h)
    assert no_reason.status_code == 422
    assert api.get(f"{base}/plan", headers=h).status_code == 404
    other = make_case()
    foreign = PurchaseRecord.objects.create(
        customer=other.customer,
        order_id="X",
        product="Y",
        purchased_at=other.created_at,
        amount="1.00",
    )
    refused = api.post(f"{base}/links", {"kind": "purchase", "purchase_id": foreign.pk}, headers=h)
    assert refused.status_code == 422 and "this customer's purchases" in refused.json()["detail"]
    both = api.post(
        f"{base}/escalations", {"reason": "x", "to_team": "a", "to_user": "b"}, headers=h
    )
    assert both.status_code == 422
    amount = api.post(f"{base}/authority", {"remedy": "refund", "amount": "-1"}, headers=h)
    assert amount.status_code == 422


def test_reminders_stop_for_a_returned_escalation_once_a_newer_one_exists():
    owner = make_agent()
    solver = make_agent()
    case = make_case(actor=owner)
    loop_facts.fact_record(case=case, key="problem_at", value="today", actor=owner)
    loop_facts.fact_record(case=case, key="nature", value="broken", actor=owner)
    first = loop_escalations.case_escalate(case=case, actor=owner, reason="x", to_user=solver)
    loop_escalations.escalation_return(escalation=first, actor=solver, question="Which one?")
    second = loop_escalations.case_escalate(
        case=case, actor=owner, reason="the blue one", to_user=solver
    )
    later = second.created_at + timedelta(hours=5)
    assert loop_escalations.escalation_reminders_send(now=later) == 1
    assert Reminder.objects.get().escalation_id == second.pk
    first.refresh_from_db()
    assert first.reminders_stopped_at is not None


def test_admin_edits_policies_remedies_and_authority_rules(client):
    return_window_policy()
    refund_matrix()
    admin = make_user(role="admin")
    client.force_login(admin)
    for url in (
        "/admin/cases/policy/",
        "/admin/cases/policy/add/",
        "/admin/cases/remedytype/",
        "/admin/cases/authorityrule/",
        "/admin/cases/factrequirement/add/",
        "/admin/cases/loopsettings/add/",
        "/admin/cases/lesson/",
    ):
        assert client.get(url).status_code == 200, url
    refused = client.post(
        "/admin/cases/policy/add/",
        {
            "name": "Broken",
            "order": 100,
            "rule": '{"kind": "purchase_age_max_days"}',
            "outcome_if_met": "in_policy",
            "outcome_if_not_met": "out_of_policy",
            "alternatives": "[]",
            "is_active": "on",
        },
    )
    assert refused.status_code == 200 and b"needs &#x27;days&#x27;" in refused.content
