"""The case search, one implementation behind the API's `?q=` and the inbox's search box:
a case is found by its reference, any part of its subject, its customer's name or contact
points, and (for staff) the words of its conversation; a customer finds only their own."""

import pytest
from django.test import Client

from caseloop.cases.services import message_add
from caseloop.customers.models import ContactPoint
from tests.builders import bearer, make_agent, make_case, make_customer, make_customer_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(django_capture_on_commit_callbacks):
    """Cases whose every searchable field holds a word no other field or case holds."""
    agent = make_agent()
    with django_capture_on_commit_callbacks(execute=True):  # messages are indexed on commit
        by_subject = make_case(subject="Thermostat display flickers", text="It blinks.")
        by_name = make_case(
            customer=make_customer(name="Wilhelmina Quarrington", email="w.q@example.org"),
            subject="Question about an invoice",
            text="Please send a copy.",
        )
        by_email = make_case(
            customer=make_customer(name="Ana Soto", email="zephyr.billing@lanternfish.test"),
            subject="Invoice missing",
            text="Where is it?",
        )
        by_phone = make_case(subject="Call back", text="Ring me.")
        ContactPoint.objects.create(
            customer=by_phone.customer, kind=ContactPoint.Kind.PHONE, value="+4420794601"
        )
        by_message = make_case(subject="Parcel late", text="The courier left it at the marmot den")
        by_note = make_case(subject="Parcel lost", text="Nothing came.")
        message_add(case=by_note, direction="note", text="Courier saw velociraptor", actor=agent)
    return {
        "agent": agent,
        "subject": by_subject,
        "name": by_name,
        "email": by_email,
        "phone": by_phone,
        "message": by_message,
        "note": by_note,
    }


def api_found(user, q: str) -> set[int]:
    response = Client().get("/api/v1/cases", {"q": q}, headers=bearer(user))
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


def inbox_found(user, q: str) -> set[int]:
    client = Client()
    client.force_login(user)
    response = client.get("/inbox/", {"queue": "all", "q": q})
    assert response.status_code == 200
    return {case.pk for case in response.context["page"].cases}


@pytest.mark.parametrize(
    ("field", "q"),
    [
        ("subject", "thermostat"),
        ("subject", "DISPLAY FLICK"),  # any part, any case
        ("name", "quarrington"),
        ("name", "Wilhelmina Quarr"),
        ("email", "zephyr.billing"),
        ("email", "lanternfish.test"),
        ("phone", "+44207946"),
        ("message", "marmot"),
        ("message", "marmot courier"),  # every word, in any order, in one message
        ("note", "velociraptor"),
    ],
)
def test_each_field_finds_its_case_through_the_api_and_the_inbox_alike(desk, field, q):
    agent = desk["agent"]
    assert api_found(agent, q) == {desk[field].pk}
    assert inbox_found(agent, q) == {desk[field].pk}


def test_a_reference_or_an_id_finds_its_case(desk):
    case = desk["message"]
    for q in (case.reference, case.reference.lower(), str(case.pk)):
        assert api_found(desk["agent"], q) == {case.pk}
        assert inbox_found(desk["agent"], q) == {case.pk}


def test_a_word_nothing_holds_finds_nothing(desk):
    assert api_found(desk["agent"], "zzqx-nohit") == set()
    assert inbox_found(desk["agent"], "zzqx-nohit") == set()


def test_matches_come_newest_first_a_page_at_a_time(desk):
    cases = [make_case(subject=f"Toaster sparks {n}", text="Sparks.") for n in range(5)]
    client = Client()
    headers = bearer(desk["agent"])
    seen, cursor = [], ""
    while True:
        params = {"q": "toaster", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/cases", params, headers=headers).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [case.pk for case in reversed(cases)]


def test_a_customer_finds_only_their_own_cases_whatever_they_search_for(
    desk, django_capture_on_commit_callbacks
):
    other = make_customer_user()
    own = make_customer_user(customer=desk["name"].customer)
    for field, q in [
        ("subject", "thermostat"),
        ("name", "quarrington"),
        ("email", "zephyr.billing"),
        ("phone", "+44207946"),
        ("message", "marmot"),
        ("note", "velociraptor"),
    ]:
        assert api_found(other, q) == set(), field
        assert api_found(other, desk[field].reference) == set(), field
        assert api_found(other, str(desk[field].pk)) == set(), field
    assert api_found(own, "invoice") == {desk["name"].pk}
    assert api_found(own, desk["name"].reference) == {desk["name"].pk}
    # Another customer's case with the same words stays out of sight.
    with django_capture_on_commit_callbacks(execute=True):
        make_case(customer=other.customer, subject="Invoice overdue", text="Pay later?")
    assert api_found(own, "invoice") == {desk["name"].pk}
