import pytest

from caseloop.customers.models import Customer
from tests.builders import bearer, make_agent, make_case, make_customer_user

pytestmark = pytest.mark.django_db


def test_agents_create_a_customer_with_normalized_contact_points(api):
    agent = make_agent()
    response = api.post(
        "/api/v1/customers",
        {"name": "Ann Lee", "email": "Ann@Example.com", "phone": "(415) 555-0134", "is_vip": True},
        headers=bearer(agent),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["is_vip"] is True
    assert sorted((cp["kind"], cp["value"]) for cp in body["contact_points"]) == [
        ("email", "ann@example.com"),
        ("phone", "+14155550134"),
    ]


@pytest.mark.parametrize(
    "payload",
    [{"email": "nope"}, {"phone": "12"}, {}, {"name": "x", "is_vip": "maybe"}],
)
def test_bad_customer_payloads_are_422(api, payload):
    response = api.post("/api/v1/customers", payload, headers=bearer(make_agent()))
    assert response.status_code == 422
    assert Customer.objects.count() == 0


def test_a_contact_point_that_belongs_to_someone_is_refused(api):
    agent = make_agent()
    api.post("/api/v1/customers", {"email": "ann@example.com"}, headers=bearer(agent))
    again = api.post("/api/v1/customers", {"email": "ANN@example.com"}, headers=bearer(agent))
    assert again.status_code == 422 and "already belongs" in again.json()["detail"]


def test_the_customer_detail_has_contact_points_purchases_and_case_history(api):
    agent = make_agent()
    case = make_case()
    response = api.get(f"/api/v1/customers/{case.customer_id}", headers=bearer(agent))
    assert response.status_code == 200
    body = response.json()
    assert [c["reference"] for c in body["cases"]] == [case.reference]
    assert body["contact_points"][0]["kind"] == "email"
    assert body["purchases"] == []


def test_customers_see_only_themselves_and_cannot_list_or_create(api):
    user = make_customer_user()
    headers = bearer(user)
    own = api.get(f"/api/v1/customers/{user.customer_id}", headers=headers)
    assert own.status_code == 200 and own.json()["notes"] == ""
    assert api.get("/api/v1/customers", headers=headers).status_code == 403
    assert api.post("/api/v1/customers", {"name": "x"}, headers=headers).status_code == 403


def test_the_customer_list_pages_with_a_cursor_and_searches(api):
    agent = make_agent()
    for n in range(5):
        api.post(
            "/api/v1/customers",
            {"name": f"Person {n}", "email": f"p{n}@example.com"},
            headers=bearer(agent),
        )
    headers = bearer(agent)
    first = api.get("/api/v1/customers", headers=headers, limit=2).json()
    second = api.get("/api/v1/customers", headers=headers, limit=2, cursor=first["next_cursor"])
    names = [c["name"] for c in first["items"] + second.json()["items"]]
    assert names == ["Person 4", "Person 3", "Person 2", "Person 1"]
    found = api.get("/api/v1/customers", headers=headers, q="p3@").json()["items"]
    assert [c["name"] for c in found] == ["Person 3"]
    assert api.get("/api/v1/customers", headers=headers, cursor="zz").status_code == 422
