"""Privacy requests on a customer's page: managers and admins download the export; only
admins erase, confirming with the customer's id; portal sign-in links go with it."""

from __future__ import annotations

import json

import pytest

from caseloop.accounts.models import Role
from caseloop.customers.models import Customer
from caseloop.web.models import MagicLink
from caseloop.web.services import magic_link_request
from tests.builders import make_agent, make_case, make_customer, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    customer = make_customer(email="ada.page@example.com", name="Ada Page")
    make_case(customer=customer, subject="Page kettle refund")
    return customer


def test_managers_see_the_export_button_and_download_the_file(client, customer):
    client.force_login(make_user(role=Role.MANAGER))
    page = client.get(f"/customers/{customer.pk}/")
    assert b'id="customer-export"' in page.content
    assert b'id="customer-erase"' not in page.content
    response = client.get(f"/customers/{customer.pk}/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="customer-{customer.pk}-export.json"'
    )
    body = json.loads(response.content)
    assert body["customer"]["name"] == "Ada Page"
    assert [c["subject"] for c in body["cases"]] == ["Page kettle refund"]


def test_agents_get_neither_the_export_nor_the_erase(client, customer):
    client.force_login(make_agent())
    page = client.get(f"/customers/{customer.pk}/")
    assert b'id="customer-export"' not in page.content
    assert client.get(f"/customers/{customer.pk}/export/").status_code == 403
    erase = client.post(f"/customers/{customer.pk}/erase/", {"reason": "x", "confirm": customer.pk})
    assert erase.status_code == 403
    assert Customer.objects.get(pk=customer.pk).name == "Ada Page"


def test_managers_cannot_erase(client, customer):
    client.force_login(make_user(role=Role.MANAGER))
    erase = client.post(f"/customers/{customer.pk}/erase/", {"reason": "x", "confirm": customer.pk})
    assert erase.status_code == 403
    assert Customer.objects.get(pk=customer.pk).name == "Ada Page"


def test_an_admin_erases_after_typing_the_id_and_the_sign_in_links_go(client, customer):
    assert magic_link_request(email="ada.page@example.com")
    assert MagicLink.objects.filter(customer=customer).exists()
    client.force_login(make_user(role=Role.ADMIN))
    assert b'id="customer-erase"' in client.get(f"/customers/{customer.pk}/").content

    wrong = client.post(f"/customers/{customer.pk}/erase/", {"reason": "asked", "confirm": "1x"})
    assert wrong.status_code == 302
    assert Customer.objects.get(pk=customer.pk).name == "Ada Page"

    done = client.post(
        f"/customers/{customer.pk}/erase/", {"reason": "asked", "confirm": str(customer.pk)}
    )
    assert done.status_code == 302
    customer.refresh_from_db()
    assert customer.name == f"Erased customer #{customer.pk}"
    assert not MagicLink.objects.filter(customer=customer).exists()
    page = client.get(f"/customers/{customer.pk}/")
    assert b"ada.page@example.com" not in page.content
    assert b"Page kettle refund" not in page.content
