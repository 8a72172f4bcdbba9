from decimal import Decimal

import pytest
from django.utils import timezone

from caseloop.cases.models import CaseEvent
from caseloop.customers.errors import CustomerMergeError
from caseloop.customers.models import CustomerEvent, PurchaseRecord
from caseloop.customers.services import Identity, customer_find_or_create, customer_merge
from tests.builders import bearer, make_agent, make_case, make_customer

pytestmark = pytest.mark.django_db


def purchase(customer, order_id):
    return PurchaseRecord.objects.create(
        customer=customer,
        order_id=order_id,
        product="Aurora kettle",
        purchased_at=timezone.now(),
        amount=Decimal("49.00"),
        currency="GBP",
    )


def test_merging_moves_cases_contacts_and_purchases_and_keeps_history():
    agent = make_agent()
    source = customer_find_or_create(identity=Identity(email="old@example.com", name="A. Lee"))
    customer_find_or_create(identity=Identity(email="old@example.com", phone="+14155550100"))
    target = customer_find_or_create(identity=Identity(email="ann@example.com", name="Ann Lee"))
    source_cases = [make_case(customer=source), make_case(customer=source)]
    target_case = make_case(customer=target)
    purchase(source, "NW-1")
    merged = customer_merge(source=source, target=target, actor=agent)
    assert merged == target
    source.refresh_from_db()
    assert source.merged_into == target
    assert sorted(target.contact_points.values_list("value", flat=True)) == [
        "+14155550100",
        "ann@example.com",
        "old@example.com",
    ]
    assert list(target.purchases.values_list("order_id", flat=True)) == ["NW-1"]
    assert set(target.cases.values_list("pk", flat=True)) == {
        target_case.pk,
        *(c.pk for c in source_cases),
    }
    for case in source_cases:
        event = CaseEvent.objects.get(case=case, kind="customer_changed")
        assert event.data["before"] == source.pk and event.data["after"] == target.pk
        assert event.actor == agent
    assert not CaseEvent.objects.filter(case=target_case, kind="customer_changed").exists()
    on_target = CustomerEvent.objects.get(customer=target, kind="merged")
    on_source = CustomerEvent.objects.get(customer=source, kind="merged_away")
    assert on_target.data == on_source.data
    assert sorted(on_target.data["cases"]) == sorted(c.pk for c in source_cases)
    assert list(source.events.values_list("kind", flat=True))[0] == "created"
    assert customer_find_or_create(identity=Identity(email="old@example.com")) == target


def test_a_customer_cannot_be_merged_into_itself_or_twice():
    ann, bob, cat = make_customer(), make_customer(), make_customer()
    with pytest.raises(CustomerMergeError):
        customer_merge(source=ann, target=ann)
    customer_merge(source=ann, target=bob)
    ann.refresh_from_db()
    with pytest.raises(CustomerMergeError):
        customer_merge(source=ann, target=cat)


def test_merge_through_the_api(api):
    agent = make_agent()
    source, target = make_customer(), make_customer()
    case = make_case(customer=source)
    response = api.post(
        f"/api/v1/customers/{source.pk}/merge", {"into": target.pk}, headers=bearer(agent)
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == target.pk
    assert case.pk in [c["id"] for c in body["cases"]]
    refused = api.post(
        f"/api/v1/customers/{target.pk}/merge", {"into": target.pk}, headers=bearer(agent)
    )
    assert refused.status_code == 422


def test_a_portal_login_follows_its_profile_into_the_merge(api):
    from tests.builders import make_customer_user

    user = make_customer_user()
    source = user.customer
    target = make_customer()
    case = make_case(customer=source)
    customer_merge(source=source, target=target)
    user.refresh_from_db()
    assert user.customer == target
    response = api.get(f"/api/v1/cases/{case.pk}", headers=bearer(user))
    assert response.status_code == 200
    assert CustomerEvent.objects.get(customer=target, kind="merged").data["users"] == [user.pk]
