"""Triage endpoints: preview, accuracy, models, similar cases; CaseOut carries triage."""

import pytest

from caseloop.accounts.models import Role
from caseloop.triage.models import KeywordRule, TriageLabel
from tests.builders import bearer, make_agent, make_case, make_customer_user, make_user

from .helpers import categories

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_headers():
    return bearer(make_agent())


def test_preview_gives_category_priority_sentiment_and_flags_without_a_case(api, agent_headers):
    cats = categories()
    KeywordRule.objects.create(category=cats["billing"], keywords="invoice\ncharged")
    response = api.post(
        "/api/v1/triage",
        {"text": "You charged me twice on the invoice!!! Third time I'm writing, urgent."},
        headers=agent_headers,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["category"]["slug"] == "billing"
    assert body["category"]["needs_review"] is False
    assert body["priority"]["priority"] in {"high", "urgent"}
    assert {f["signal"] for f in body["priority"]["factors"]} >= {"urgency"}
    assert body["sentiment"]["complaint_probability"] > 0.5
    assert "complaint" in body["flags"] and "frustrated" in body["flags"]
    from caseloop.cases.models import Case

    assert not Case.objects.exists()


def test_preview_with_vip_context(api, agent_headers):
    body = api.post(
        "/api/v1/triage",
        {"text": "A question about my plan", "is_vip": True, "service_level": "enterprise"},
        headers=agent_headers,
    ).json()
    assert {f["signal"] for f in body["priority"]["factors"]} == {"vip", "service_level"}


@pytest.mark.parametrize("payload", [{"text": ""}, {"text": "   "}, {}])
def test_preview_refuses_empty_text_with_422(api, agent_headers, payload):
    response = api.post("/api/v1/triage", payload, headers=agent_headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].endswith("text")


def test_customers_cannot_use_agent_endpoints(api):
    headers = bearer(make_customer_user())
    assert api.post("/api/v1/triage", {"text": "hi"}, headers=headers).status_code == 403
    assert api.get("/api/v1/triage/accuracy", headers=headers).status_code == 403


def test_accuracy_endpoint_reports_agent_decisions(api, agent_headers):
    case = make_case()
    TriageLabel.objects.create(case=case, field="category", value="3", predicted="3")
    TriageLabel.objects.create(case=case, field="category", value="4", predicted="3")
    body = api.get("/api/v1/triage/accuracy", headers=agent_headers).json()
    assert body["category"]["n"] == 2
    assert body["category"]["accuracy"] == 0.5
    assert body["window"] == 200


def test_training_on_demand_needs_a_manager_and_says_when_history_is_short(api, agent_headers):
    assert api.post("/api/v1/triage/models", {}, headers=agent_headers).status_code == 403
    manager = bearer(make_user(role=Role.MANAGER))
    response = api.post("/api/v1/triage/models", {"kind": "category"}, headers=manager)
    assert response.status_code == 200
    assert response.json()["trained"] is False
    assert api.get("/api/v1/triage/models", headers=manager).json() == []


def test_similar_endpoint_lists_cases_with_scores_and_resolutions(api, agent_headers):
    first = make_case(subject="Kettle leaking", text="My kettle leaks")
    make_case(subject="Password", text="Forgot my password")
    query = make_case(subject="Leaking kettle", text="The kettle leaks water")
    body = api.get(f"/api/v1/cases/{query.pk}/similar", headers=agent_headers, k=3).json()
    assert [item["id"] for item in body] == [first.pk]
    assert body[0]["score"] > 0 and body[0]["resolution"] == ""
    assert api.get("/api/v1/cases/999999/similar", headers=agent_headers).status_code == 404
    assert (
        api.get(f"/api/v1/cases/{query.pk}/similar", headers=agent_headers, k=0).status_code == 422
    )


def test_case_read_carries_the_stored_triage(
    api, agent_headers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(subject="Urgent", text="Our site is down, urgent!")
    body = api.get(f"/api/v1/cases/{case.pk}", headers=agent_headers).json()
    assert body["triage"]["priority"]["value"] in {"high", "urgent"}
    assert {f["signal"] for f in body["triage"]["priority"]["factors"]} >= {"urgency", "outage"}
    assert body["triage"]["category"]["needs_review"] is True
    untriaged = make_case()
    assert api.get(f"/api/v1/cases/{untriaged.pk}", headers=agent_headers).json()["triage"] is None


def test_case_list_reads_triage_without_extra_queries(
    api, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    agent = make_agent()
    headers = bearer(agent)
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(3):
            make_case(subject=f"Case {i}", text="urgent: the app is down")
    api.get("/api/v1/cases", headers=headers)  # warm up auth and the token
    with django_assert_max_num_queries(6) as captured:
        body = api.get("/api/v1/cases", headers=headers).json()
    assert all(item["triage"] is not None for item in body["items"])
    few = len(captured.captured_queries)
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(5):
            make_case(subject=f"More {i}", text="urgent: the app is down")
    with django_assert_max_num_queries(few):
        api.get("/api/v1/cases", headers=headers)


def test_retriage_endpoint_runs_triage_again(api, agent_headers):
    cats = categories()
    case = make_case(subject="Invoice", text="Wrong invoice amount, charged twice")
    first = api.post(f"/api/v1/cases/{case.pk}/triage", headers=agent_headers).json()
    assert first["category"]["needs_review"] is True
    assert "needs-review" in set(case.tags.values_list("name", flat=True))
    KeywordRule.objects.create(category=cats["billing"], keywords="invoice\ncharged")
    body = api.post(f"/api/v1/cases/{case.pk}/triage", headers=agent_headers).json()
    assert body["category"]["id"] == cats["billing"].pk
    assert body["category"]["needs_review"] is False
    case.refresh_from_db()
    assert case.category == cats["billing"]
    assert "needs-review" not in set(case.tags.values_list("name", flat=True))
