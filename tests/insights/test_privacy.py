"""Privacy requests: a customer's data exported as one JSON file, and erased everywhere
while every case's event chain stays whole; through the service and the API."""

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage

from caseloop.accounts.models import Role, User
from caseloop.cases.models import Attachment, Case, CaseEvent, Message
from caseloop.cases.selectors import CaseFilters, cases_filtered
from caseloop.cases.services import AttachmentUpload, case_transition, message_add
from caseloop.customers.models import ContactPoint, Customer, CustomerEvent
from caseloop.customers.selectors import customer_search_page
from caseloop.insights.models import NpsResponse, SatisfactionRating
from caseloop.insights.privacy import customer_erase, customer_export
from caseloop.insights.services import nps_record, rating_record
from caseloop.knowledge.search import message_case_ids
from tests.builders import (
    bearer,
    make_agent,
    make_case,
    make_customer,
    make_customer_user,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    agent = make_agent()
    customer = make_customer(email="ada.lovelace@example.com", name="Ada Lovelace")
    case = make_case(
        customer=customer,
        subject="Zanzibarquux kettle refund",
        text="My phone is 555 0101 and the kettle leaks.",
        actor=agent,
    )
    # The message index is written after the message commits.
    with django_capture_on_commit_callbacks(execute=True):
        message_add(
            case=case,
            direction="inbound",
            text="Here is the receipt, florbinate",
            author_customer=customer,
            metadata={"from": "ada.lovelace@example.com"},
            attachments=[AttachmentUpload(filename="receipt.pdf", content=b"%PDF-1 receipt")],
        )
    message_add(case=case, direction="note", text="Ada sounded upset", actor=agent)
    case_transition(case=case, to="solved", actor=agent)
    rating_record(case=case, customer=customer, score=2, comment="Slow, Ada here")
    nps_record(customer=customer, score=3, comment="Ada would not recommend", channel="portal")
    other = make_customer(email="grace@example.com", name="Grace Hopper")
    other_case = make_case(customer=other, subject="Grace's broken toaster", actor=agent)
    portal_user = make_customer_user(customer=customer)
    return {
        "agent": agent,
        "customer": customer,
        "case": case,
        "other_case": other_case,
        "portal_user": portal_user,
        "manager": make_user(role=Role.MANAGER),
        "admin": make_user(role=Role.ADMIN),
    }


def test_the_export_holds_the_customers_cases_messages_and_ratings_and_nothing_of_another(
    world,
):
    data = customer_export(customer=world["customer"], actor=world["manager"])
    assert data["customer"]["name"] == "Ada Lovelace"
    assert [p["value"] for p in data["contact_points"]] == ["ada.lovelace@example.com"]
    (case,) = data["cases"]
    assert case["subject"] == "Zanzibarquux kettle refund"
    texts = [m["text"] for m in case["messages"]]
    assert "Here is the receipt, florbinate" in texts
    assert "Ada sounded upset" in texts  # notes about the customer are theirs to see
    (attachment,) = [a for m in case["messages"] for a in m["attachments"]]
    assert attachment["filename"] == "receipt.pdf" and attachment["size"] == 14
    assert attachment["url"].endswith(f"/attachments/{Attachment.objects.get().pk}/")
    assert [(r["score"], r["comment"]) for r in data["satisfaction_ratings"]] == [
        (2, "Slow, Ada here")
    ]
    assert [(r["score"], r["comment"]) for r in data["nps_answers"]] == [
        (3, "Ada would not recommend")
    ]
    assert data["events"][0]["kind"] == "created"
    dumped = json.dumps(data)
    assert "Grace" not in dumped and "toaster" not in dumped


def test_only_managers_and_admins_export_or_erase(world):
    with pytest.raises(PermissionDenied):
        customer_export(customer=world["customer"], actor=world["agent"])
    with pytest.raises(PermissionDenied):
        customer_erase(customer=world["customer"], actor=world["agent"], reason="asked")
    assert Customer.objects.get(pk=world["customer"].pk).name == "Ada Lovelace"


def test_erasure_redacts_the_customer_everywhere_and_keeps_the_event_chain_whole(world):
    customer, case = world["customer"], world["case"]
    attachment = Attachment.objects.get(case=case)
    stored = attachment.file.name
    assert default_storage.exists(stored)
    events_before = CaseEvent.objects.filter(case=case).count()
    other_events_before = CaseEvent.objects.filter(case=world["other_case"]).count()

    counts = customer_erase(customer=customer, actor=world["admin"], reason="customer asked")

    customer.refresh_from_db()
    assert customer.name == f"Erased customer #{customer.pk}"
    assert not ContactPoint.objects.filter(customer=customer).exists()
    assert not ContactPoint.objects.filter(value="ada.lovelace@example.com").exists()
    assert set(Message.objects.filter(case=case).values_list("text", flat=True)) == {"[erased]"}
    assert all(m.metadata == {} and m.raw == "" for m in Message.objects.filter(case=case))
    attachment.refresh_from_db()
    assert attachment.filename == "[erased]" and not attachment.file
    assert not default_storage.exists(stored)
    assert Case.objects.get(pk=case.pk).subject == "[erased]"
    assert SatisfactionRating.objects.get(case=case).comment == ""
    assert NpsResponse.objects.get(customer=customer).comment == ""
    login = User.objects.get(pk=world["portal_user"].pk)
    assert not login.is_active and login.email == "" and not login.has_usable_password()

    # The chain stays whole: every event before it, and one more saying what was redacted.
    events = list(CaseEvent.objects.filter(case=case).order_by("id"))
    assert len(events) == events_before + 1
    assert events[-1].kind == "customer_erased"
    assert events[-1].data["messages"] == 3 and events[-1].data["attachments"] == 1
    assert "Ada" not in json.dumps(events[-1].data)
    assert CaseEvent.objects.filter(case=world["other_case"]).count() == other_events_before
    assert counts["contact_points"] == 1 and counts["cases"] == 1
    assert CustomerEvent.objects.filter(customer=customer, kind="erased").count() == 1
    history = json.dumps(list(CustomerEvent.objects.filter(customer=customer).values("data")))
    assert "ada.lovelace" not in history and "Ada" not in history

    # Nothing of another customer is touched.
    assert Case.objects.get(pk=world["other_case"].pk).subject == "Grace's broken toaster"
    assert Customer.objects.filter(name="Grace Hopper").exists()


def test_search_finds_nothing_of_an_erased_customer(world):
    staff_view = Case.objects.all()
    assert cases_filtered(staff_view, CaseFilters(q="Zanzibarquux")).exists()
    assert message_case_ids("florbinate") == [world["case"].pk]
    assert customer_search_page(q="ada.lovelace")[0] == [world["customer"]]

    customer_erase(customer=world["customer"], actor=world["admin"], reason="customer asked")

    assert not cases_filtered(staff_view, CaseFilters(q="Zanzibarquux")).exists()
    assert message_case_ids("florbinate") == []
    assert customer_search_page(q="ada.lovelace")[0] == []
    assert customer_search_page(q="Lovelace")[0] == []


def test_erasing_twice_is_harmless(world):
    customer = world["customer"]
    customer_erase(customer=customer, actor=world["admin"], reason="customer asked")
    events = CaseEvent.objects.count()
    again = customer_erase(customer=customer, actor=world["admin"], reason="asked again")
    assert not any(again.values())
    assert CaseEvent.objects.count() == events
    assert CustomerEvent.objects.filter(customer=customer, kind="erased").count() == 1
    customer.refresh_from_db()
    assert customer.name == f"Erased customer #{customer.pk}"


def test_the_export_endpoint_is_a_download_for_managers_and_admins_only(world, api):
    url = f"/api/v1/customers/{world['customer'].pk}/export"
    assert api.get(url, headers=bearer(world["agent"])).status_code == 403
    assert api.get(url, headers=bearer(world["portal_user"])).status_code == 403
    for who in ("manager", "admin"):
        response = api.get(url, headers=bearer(world[who]))
        assert response.status_code == 200, response.content
        assert response["Content-Disposition"].startswith("attachment;")
        body = json.loads(response.content)
        assert body["cases"][0]["subject"] == "Zanzibarquux kettle refund"


def test_the_erase_endpoint_is_for_admins_and_needs_the_id_confirmed(world, api):
    customer = world["customer"]
    url = f"/api/v1/customers/{customer.pk}/erase"
    payload = {"reason": "customer asked", "confirm": str(customer.pk)}
    assert api.post(url, payload, headers=bearer(world["agent"])).status_code == 403
    assert api.post(url, payload, headers=bearer(world["manager"])).status_code == 403
    wrong = api.post(url, {**payload, "confirm": "nope"}, headers=bearer(world["admin"]))
    assert wrong.status_code == 422
    assert Customer.objects.get(pk=customer.pk).name == "Ada Lovelace"

    done = api.post(url, payload, headers=bearer(world["admin"]))
    assert done.status_code == 200, done.content
    assert done.json()["counts"]["messages"] == 3
    assert Customer.objects.get(pk=customer.pk).name == f"Erased customer #{customer.pk}"
    again = api.post(url, payload, headers=bearer(world["admin"]))
    assert again.status_code == 200 and not any(again.json()["counts"].values())
