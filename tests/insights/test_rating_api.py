"""A case's satisfaction rating through the API: customers rate their own solved cases,
agents record a rating given on another channel; once per case."""

import pytest

from caseloop.cases.services import case_transition
from caseloop.insights.models import SatisfactionRating
from tests.builders import bearer, make_agent, make_case, make_customer_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def solved():
    agent = make_agent()
    case = make_case(actor=agent)
    case_transition(case=case, to="open", actor=agent)
    case_transition(case=case, to="solved", actor=agent)
    return case, agent


def test_a_customer_rates_their_own_solved_case_once(solved, api):
    case, _ = solved
    customer = make_customer_user(customer=case.customer)
    url = f"/api/v1/cases/{case.reference}/rating"
    created = api.post(
        url, {"score": 4, "comment": "Quick", "channel": "phone"}, headers=bearer(customer)
    )
    assert created.status_code == 201, created.content
    body = created.json()
    # A customer's own rating is given in the portal, whatever channel it claims.
    assert (body["score"], body["comment"], body["channel"]) == (4, "Quick", "portal")
    assert body["case"] == case.reference
    assert case.events.get(kind="satisfaction_rated").data["score"] == 4

    again = api.post(url, {"score": 1}, headers=bearer(customer))
    assert again.status_code == 409 and "already been rated" in again.json()["detail"]
    assert [r["score"] for r in api.get(url, headers=bearer(customer)).json()] == [4]

    stranger = make_customer_user()
    assert api.post(url, {"score": 1}, headers=bearer(stranger)).status_code == 404
    assert api.get(url, headers=bearer(stranger)).status_code == 404
    assert SatisfactionRating.objects.filter(case=case).count() == 1


def test_an_agent_records_a_rating_given_by_phone(solved, api):
    case, agent = solved
    url = f"/api/v1/cases/{case.pk}/rating"
    response = api.post(url, {"score": 5, "channel": "phone"}, headers=bearer(agent))
    assert response.status_code == 201
    rating = SatisfactionRating.objects.get(case=case)
    assert (rating.score, rating.channel, rating.customer) == (5, "phone", case.customer)
    assert case.events.get(kind="satisfaction_rated").actor == agent


def test_bad_ratings_are_refused_with_reasons(api):
    agent = make_agent()
    open_case = make_case(actor=agent)
    url = f"/api/v1/cases/{open_case.pk}/rating"
    early = api.post(url, {"score": 3}, headers=bearer(agent))
    assert early.status_code == 409 and "once it is solved" in early.json()["detail"]
    for payload in ({"score": 0}, {"score": 6}, {"score": "great"}, {"channel": "fax", "score": 3}):
        response = api.post(url, payload, headers=bearer(agent))
        assert response.status_code == 422, payload
    assert not SatisfactionRating.objects.exists()
