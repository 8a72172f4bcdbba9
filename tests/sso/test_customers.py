"""Customers signing in to the portal through the provider, when the desk allows it: they
land on the portal, linked to the customer profile of their verified address, and see only
their own cases."""

import pytest

from caseloop.accounts.models import Role, User
from caseloop.customers.models import CustomerEvent
from tests.builders import make_case, make_customer
from tests.sso.conftest import sign_in_through

pytestmark = pytest.mark.django_db


@pytest.fixture
def sso_customers(settings, sso):
    settings.OIDC_CUSTOMERS = True
    settings.OIDC_ROLES = "support=agent,shoppers=customer"
    return sso


def test_a_customer_lands_on_the_portal_and_sees_only_their_own_cases(client, sso_customers):
    dana = make_customer(email="dana@example.com", name="Dana")
    own = make_case(customer=dana, subject="Broken lamp")
    someone_else = make_case(customer=make_customer(), subject="Missing parcel")
    sso_customers.person("dana", email="Dana@Example.com", email_verified=True, groups=["shoppers"])
    response = sign_in_through(client, sso_customers, "dana")
    assert response.status_code == 302 and response["Location"] == "/portal/"
    user = User.objects.get(role=Role.CUSTOMER)
    assert user.customer == dana
    event = CustomerEvent.objects.get(customer=dana, kind="login_linked")
    assert event.data["verified_by"] == "sso"
    portal = client.get("/portal/")
    assert b"Broken lamp" in portal.content and b"Missing parcel" not in portal.content
    assert client.get(f"/portal/cases/{own.pk}/").status_code == 200
    assert client.get(f"/portal/cases/{someone_else.pk}/").status_code == 404
    assert client.get("/inbox/").status_code == 403


def test_a_customer_signing_in_again_keeps_the_same_login(client, sso_customers):
    sso_customers.person("eli", email="eli@example.com", email_verified=True, groups=["shoppers"])
    sign_in_through(client, sso_customers, "eli")
    client.post("/portal/sign-out/")
    assert sign_in_through(client, sso_customers, "eli")["Location"] == "/portal/"
    assert User.objects.filter(role=Role.CUSTOMER).count() == 1


def test_customers_are_refused_unless_the_desk_allows_them(client, settings, sso_customers):
    settings.OIDC_CUSTOMERS = False
    sso_customers.person("fay", email="fay@example.com", email_verified=True, groups=["shoppers"])
    response = sign_in_through(client, sso_customers, "fay")
    assert response.status_code == 403
    assert b"emailed sign-in link" in response.content
    assert not User.objects.exists()


def test_a_staff_group_outranks_a_customer_group(client, sso_customers):
    sso_customers.person(
        "gil", email="gil@northwind.test", email_verified=True, groups=["shoppers", "support"]
    )
    assert sign_in_through(client, sso_customers, "gil")["Location"] == "/inbox/"
    assert User.objects.get().role == Role.AGENT


def test_the_portal_offers_the_provider_only_when_customers_may_use_it(
    client, settings, sso_customers
):
    assert b"Sign in with Northwind ID" in client.get("/portal/sign-in/").content
    settings.OIDC_CUSTOMERS = False
    assert b"Sign in with" not in client.get("/portal/sign-in/").content
