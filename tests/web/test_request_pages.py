"""The pages of asking another department: the case page's panel, "Requests to my teams",
and the public page behind the signed link."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from caseloop.cases import outbox
from caseloop.cases.loop import facts as loop_facts, requests as loop_requests
from caseloop.cases.models import DepartmentRequest, Fact, Message, OutboxEffect
from tests.builders import fresh_address, make_agent, make_case, make_customer_user, make_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    """The public page is rate-limited per client address: each test has its own."""
    return Client(REMOTE_ADDR=fresh_address())


def due_in(hours: int) -> str:
    return timezone.localtime(timezone.now() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def owned_case(owner):
    case = make_case(actor=owner)
    loop_facts.fact_record(case=case, key="order_number", value="A-1001", actor=owner)
    return case


def emailed_request(owner, case) -> tuple[DepartmentRequest, str]:
    request = loop_requests.request_create(
        case=case,
        actor=owner,
        question="When was the parcel collected?",
        due_at=timezone.now() + timedelta(days=1),
        to_email="depot@carrier.test",
        fact_keys=["order_number"],
    )
    ids = OutboxEffect.objects.filter(kind=loop_requests.REQUEST_MAIL_EFFECT).values_list(
        "pk", flat=True
    )
    outbox.effects_run(list(ids))
    path = re.search(r"https?://[^/\s]+(/requests/reply/\S+/)", mail.outbox[-1].body).group(1)
    return request, path


def test_the_owner_asks_a_team_from_the_case_page_and_the_member_answers_from_the_list(client):
    owner, member = make_agent(), make_agent()
    team = make_team(name="Warehouse", members=[member])
    case = owned_case(owner)
    client.force_login(owner)
    page = client.get(f"/cases/{case.pk}/")
    assert f'href="/cases/{case.pk}/requests/new/"'.encode() in page.content
    form = client.get(f"/cases/{case.pk}/requests/new/", headers={"HX-Request": "true"})
    assert b"<html" not in form.content
    assert b"Warehouse" in form.content and b'value="order_number"' in form.content
    assert b"Warehouse" in client.get(f"/cases/{case.pk}/requests/new/").content
    response = client.post(
        f"/cases/{case.pk}/requests/",
        {
            "to": f"team:{team.pk}",
            "kind": "information",
            "question": "Is the kettle in stock?",
            "facts": ["order_number"],
            "due_at": due_in(4),
        },
    )
    assert response.status_code == 302
    request = DepartmentRequest.objects.get(case=case)
    assert request.to_team == team and request.facts[0]["value"] == "A-1001"
    # The timeline says it in words.
    assert "Asked Warehouse: “Is the kettle in stock?”" in client.get(f"/cases/{case.pk}/").text

    client.force_login(member)
    listing = client.get("/requests/")
    assert listing.status_code == 200 and b"Is the kettle in stock?" in listing.content
    assert b"A-1001" in listing.content
    answered = client.post(
        f"/requests/{request.pk}/answer/", {"answer": "Twelve in stock", "next": "/requests/"}
    )
    assert answered.status_code == 302 and answered["Location"] == "/requests/"
    assert b"Is the kettle in stock?" not in client.get("/requests/").content

    client.force_login(owner)
    page = client.get(f"/cases/{case.pk}/")
    assert b"Twelve in stock" in page.content and b"Make this a fact" in page.content
    assert "answered: “Twelve in stock”" in page.text
    client.post(f"/requests/{request.pk}/fact/", {"key": "Stock level"})
    fact = Fact.objects.filter(case=case).order_by("-id").first()
    assert (fact.key, fact.value) == ("stock_level", "Twelve in stock")
    case.refresh_from_db()
    assert case.owner == owner


def test_bad_input_on_the_panel_is_an_error_message_not_a_request(client):
    owner = make_agent()
    case = owned_case(owner)
    client.force_login(owner)
    for data in (
        {"to": "team:999999", "question": "?", "due_at": due_in(2)},
        {"to": "email", "to_email": "not-an-address", "question": "?", "due_at": due_in(2)},
        {"to": "email", "to_email": "a@b.test", "question": "?", "due_at": "tomorrow"},
        {"to": "nobody", "question": "?", "due_at": due_in(2)},
        {"to": "email", "to_email": "a@b.test", "question": "?", "due_at": due_in(-2)},
        {"to": "email", "to_email": "a@b.test", "question": "?", "due_at": due_in(2), "kind": "x"},
    ):
        response = client.post(f"/cases/{case.pk}/requests/", data, follow=True)
        assert response.status_code == 200
        assert [m.level_tag for m in response.context["messages"]] == ["error"], data
    assert not DepartmentRequest.objects.exists()
    assert client.post("/requests/999999/answer/", {"answer": "x"}).status_code == 404


def test_someone_not_of_the_team_cannot_answer_from_the_desk(client):
    owner = make_agent()
    request = loop_requests.request_create(
        case=owned_case(owner),
        actor=owner,
        question="?",
        due_at=timezone.now() + timedelta(hours=2),
        to_team=make_team(members=[make_agent()]),
    )
    client.force_login(make_agent())
    response = client.post(f"/requests/{request.pk}/answer/", {"answer": "guess"}, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    request.refresh_from_db()
    assert request.state == "open"


def test_the_outside_person_answers_once_on_the_signed_page(client):
    owner = make_agent()
    case = owned_case(owner)
    request, path = emailed_request(owner, case)
    page = client.get(path)
    assert page.status_code == 200
    assert b"When was the parcel collected?" in page.content and b"A-1001" in page.content
    assert client.post(path, {"answer": "  "}).status_code == 422
    response = client.post(path, {"answer": "Collected at 3 pm on Monday."})
    assert response.status_code == 200 and b"we have your answer" in response.content
    note = Message.objects.filter(case=case, direction="note").order_by("-id").first()
    assert "Collected at 3 pm on Monday." in note.text and "depot@carrier.test" in note.text
    again = client.post(path, {"answer": "Or maybe Tuesday."})
    assert again.status_code == 409 and b"already answered" in again.content
    request.refresh_from_db()
    assert request.answer == "Collected at 3 pm on Monday."
    assert b"nothing more is needed" in client.get(path).content


def test_a_tampered_or_expired_link_is_a_clear_error_page(client):
    owner = make_agent()
    _request, path = emailed_request(owner, owned_case(owner))
    tampered = path[:-3] + "zz/"
    assert client.get(tampered).status_code == 400
    assert client.post(tampered, {"answer": "x"}).status_code == 400
    assert client.get("/requests/reply/nonsense/").status_code == 400
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        expired = client.get(path)
    assert expired.status_code == 410 and b"expired" in expired.content


def test_a_customer_sees_neither_the_panel_nor_the_list(client):
    owner = make_agent()
    customer_user = make_customer_user()
    case = make_case(actor=owner, customer=customer_user.customer)
    client.force_login(customer_user)
    assert client.get("/requests/").status_code == 403
    assert client.get(f"/cases/{case.pk}/requests/new/").status_code == 403
    response = client.post(
        f"/cases/{case.pk}/requests/",
        {"to": "email", "to_email": "a@b.test", "question": "?", "due_at": due_in(2)},
    )
    assert response.status_code == 403
    assert not DepartmentRequest.objects.exists()
