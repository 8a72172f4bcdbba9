"""A customer login is linked to the customer profile of its verified address, however it
is created: by an admin on the command line, or by the customer's emailed sign-in link."""

import re
from io import StringIO

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError

from caseloop.accounts.models import Role, User
from caseloop.accounts.services import token_issue, user_create
from caseloop.cases.customer_users import customer_user_link
from caseloop.customers.models import ContactPoint, CustomerEvent
from caseloop.customers.services import customer_merge
from tests.builders import make_case, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def createuser(*args: str) -> str:
    out = StringIO()
    call_command("createuser", *args, stdout=out)
    return out.getvalue()


def test_a_customer_created_on_the_command_line_reads_the_cases_of_their_address(api):
    customer = make_customer(email="ivy@example.com", name="Ivy")
    case = make_case(customer=customer, subject="Cracked teapot")
    output = createuser("--role=customer", "--email=Ivy@Example.com", "--password=long-enough-pw")
    user = User.objects.get(username="ivy@example.com")
    assert user.customer == customer and user.role == Role.CUSTOMER
    assert f"customer {customer.pk}" in output
    headers = {"Authorization": f"Bearer {token_issue(user=user)}"}
    response = api.get(f"/api/v1/cases/{case.pk}", headers=headers)
    assert response.status_code == 200 and response.json()["subject"] == "Cracked teapot"
    listed = api.get("/api/v1/cases", headers=headers).json()["items"]
    assert [item["id"] for item in listed] == [case.pk]
    event = CustomerEvent.objects.get(customer=customer, kind="login_linked")
    assert event.data == {"user": user.pk, "email": "ivy@example.com", "verified_by": "admin"}


def test_a_customer_with_a_new_address_gets_a_new_linked_profile(api):
    createuser("--role=customer", "--email=new@example.com", "--username=newbie")
    user = User.objects.get(username="newbie")
    assert user.customer is not None
    point = ContactPoint.objects.get(kind="email", value="new@example.com")
    assert point.customer == user.customer
    # A case later opened for the address is theirs.
    case = make_case(customer=make_customer(email="new@example.com"))
    assert case.customer == user.customer
    headers = {"Authorization": f"Bearer {token_issue(user=user)}"}
    assert api.get(f"/api/v1/cases/{case.pk}", headers=headers).status_code == 200


def test_a_customer_login_needs_a_valid_address_and_nothing_is_left_half_made():
    with pytest.raises(CommandError, match="needs --email"):
        createuser("--role=customer", "--username=nomail")
    with pytest.raises(CommandError, match="not a valid email"):
        createuser("--role=customer", "--email=not-an-address")
    with pytest.raises(CommandError, match="no team 'ghosts'"):
        createuser("--role=customer", "--email=a@example.com", "--team=ghosts")
    assert not User.objects.filter(role=Role.CUSTOMER).exists()
    assert not ContactPoint.objects.exists()


def test_staff_logins_are_never_linked_to_a_customer():
    make_customer(email="staff@example.com")
    createuser("--username=sam", "--email=staff@example.com", "--role=agent")
    assert User.objects.get(username="sam").customer is None
    with pytest.raises(CommandError, match="give --username"):
        createuser("--role=agent")


def test_a_login_linked_to_a_merged_away_profile_follows_the_merge():
    source = make_customer(email="old@example.com")
    target = make_customer(email="kept@example.com")
    customer_merge(source=source, target=target)
    user = user_create(username="late", role=Role.CUSTOMER)
    assert customer_user_link(user=user, email="old@example.com", verified_by="admin") == target


def test_the_emailed_link_links_an_unlinked_customer_login_with_that_address(client):
    customer = make_customer(email="kim@example.com", name="Kim")
    case = make_case(customer=customer, subject="Lost parcel")
    # Made before logins were linked (or in the admin): a customer login without a profile.
    user = user_create(username="kim", email="Kim@Example.com", role=Role.CUSTOMER)
    assert user.customer is None
    client.post("/portal/sign-in/", {"email": "kim@example.com"})
    path = re.search(r"/portal/link/\S+/", mail.outbox[-1].body).group(0)
    assert client.post(path).status_code == 302
    user.refresh_from_db()
    assert user.customer == customer
    assert User.objects.filter(role=Role.CUSTOMER).count() == 1
    assert client.get(f"/portal/cases/{case.pk}/").status_code == 200
    event = CustomerEvent.objects.get(customer=customer, kind="login_linked")
    assert event.data["verified_by"] == "emailed_link"


def test_the_emailed_link_creates_a_linked_login_on_first_sign_in(client):
    customer = make_customer(email="lou@example.com")
    client.post("/portal/sign-in/", {"email": "lou@example.com"})
    path = re.search(r"/portal/link/\S+/", mail.outbox[-1].body).group(0)
    assert client.post(path).status_code == 302
    user = User.objects.get(role=Role.CUSTOMER)
    assert user.customer == customer and user.email == "lou@example.com"
