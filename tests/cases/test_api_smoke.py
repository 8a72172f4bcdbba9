import pytest

from tests.builders import bearer, make_agent, make_customer_user

pytestmark = pytest.mark.django_db


def test_agent_creates_and_customer_cannot_see_another_customers_case(api):
    agent = make_agent()
    created = api.post(
        "/api/v1/cases",
        {
            "customer": {"email": "Ann@Example.com", "name": "Ann"},
            "subject": "Refund not showing",
            "message": {"text": "Where is my refund?"},
            "channel": "email",
        },
        headers=bearer(agent),
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["reference"].startswith("CL-") and body["owner"]["username"] == agent.username
    stranger = make_customer_user()
    assert api.get(f"/api/v1/cases/{body['id']}", headers=bearer(stranger)).status_code == 404
    listed = api.get("/api/v1/cases", headers=bearer(stranger)).json()
    assert listed["items"] == []


def test_invalid_payload_is_422_with_field_messages(api):
    agent = make_agent()
    response = api.post(
        "/api/v1/cases", {"customer": {}, "subject": "", "message": {}}, headers=bearer(agent)
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"subject", "message.text"} <= fields
