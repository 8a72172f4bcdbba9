import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caseloop.customers.models import ContactPoint, Customer, contact_points_for_display
from caseloop.customers.services import Identity, customer_find_or_create

pytestmark = pytest.mark.django_db


def test_a_customer_known_only_by_email_is_shown_by_the_address():
    customer = customer_find_or_create(identity=Identity(email="Quiet.One@Example.com"))
    assert customer.name == ""
    assert customer.display_name == "quiet.one@example.com"
    assert str(Customer.objects.get(pk=customer.pk)) == "quiet.one@example.com"


def test_the_name_wins_then_the_primary_email_then_a_phone_then_the_number():
    named = customer_find_or_create(identity=Identity(email="ann@example.com", name="Ann Lee"))
    assert str(named) == "Ann Lee"
    two = customer_find_or_create(identity=Identity(email="old@example.com", phone="+14155550111"))
    ContactPoint.objects.create(
        customer=two, kind="email", value="new@example.com", is_primary=True
    )
    ContactPoint.objects.filter(customer=two, value="old@example.com").update(is_primary=False)
    assert Customer.objects.get(pk=two.pk).display_name == "new@example.com"
    by_phone = customer_find_or_create(identity=Identity(phone="+14155550112", chat="visitor-1"))
    assert Customer.objects.get(pk=by_phone.pk).display_name == "+14155550112"
    by_chat = customer_find_or_create(identity=Identity(chat="visitor-2"))
    assert Customer.objects.get(pk=by_chat.pk).display_name == f"Customer #{by_chat.pk}"


def test_a_list_that_prefetches_the_contact_points_shows_many_nameless_customers_in_two_queries():
    for n in range(5):
        customer_find_or_create(identity=Identity(email=f"nameless{n}@example.com"))
    with CaptureQueriesContext(connection) as queries:
        shown = [
            str(customer)
            for customer in Customer.objects.order_by("id").prefetch_related(
                contact_points_for_display()
            )
        ]
    assert shown == [f"nameless{n}@example.com" for n in range(5)]
    assert len(queries) == 2


def test_a_named_customer_costs_no_query_to_show():
    customer = Customer.objects.get(
        pk=customer_find_or_create(identity=Identity(email="b@example.com", name="Bo")).pk
    )
    with CaptureQueriesContext(connection) as queries:
        assert customer.display_name == "Bo"
    assert len(queries) == 0
