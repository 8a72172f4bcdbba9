"""The workspace's customer list, customer page and organization page: search, keyset
paging, history, purchases, satisfaction and open problems, for staff only."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from caseloop.accounts.models import Role
from caseloop.automation.models import SlaPolicy
from caseloop.cases.services import case_transition
from caseloop.customers.models import Customer, Organization, PurchaseRecord
from caseloop.customers.selectors import customer_search_page
from caseloop.insights import problems
from caseloop.insights.models import SatisfactionRating
from caseloop.insights.services import nps_record, rating_record
from tests.builders import make_agent, make_case, make_customer, make_customer_user, make_user

pytestmark = pytest.mark.django_db


def solved(case, agent):
    case_transition(case=case, to="open", actor=agent)
    case_transition(case=case, to="solved", actor=agent)
    return case


def acme_customer(**extra) -> Customer:
    acme = Organization.objects.get_or_create(name="Acme Ltd", service_level="premium")[0]
    customer = make_customer(**extra)
    customer.organization = acme
    customer.save(update_fields=["organization"])
    return customer


def test_the_list_finds_customers_by_name_email_phone_or_organization(client):
    agent = make_agent()
    dana = acme_customer(name="Dana Reyes", email="dana@shop.test", phone="+442071234567")
    other = make_customer(name="Lee Park", email="lee@else.test")
    client.force_login(agent)
    for q, expected in (
        ("reyes", [dana]),
        ("DANA@shop", [dana]),
        ("2071234", [dana]),
        ("acme", [dana]),
        ("lee@", [other]),
        ("nobody-here", []),
    ):
        page = client.get("/customers/", {"q": q})
        assert page.status_code == 200
        assert [c.pk for c in page.context["customers"]] == [c.pk for c in expected], q
    body = client.get("/customers/", {"q": "dana"}).content.decode()
    assert f'href="/customers/{dana.pk}/"' in body
    assert f'href="/organizations/{dana.organization_id}/"' in body
    assert "dana@shop.test" in body


def test_the_list_pages_by_position_without_counting(client, django_assert_num_queries):
    agent = make_agent()
    made = [make_customer(name=f"Pager {n}") for n in range(5)]
    first, after = customer_search_page(q="pager", limit=2)
    assert [c.pk for c in first] == [made[4].pk, made[3].pk] and after == made[3].pk
    second, after = customer_search_page(q="pager", after=after, limit=2)
    assert [c.pk for c in second] == [made[2].pk, made[1].pk]
    last, after = customer_search_page(q="pager", after=after, limit=2)
    assert [c.pk for c in last] == [made[0].pk] and after is None
    client.force_login(agent)
    with django_assert_num_queries(4) as queries:  # session, user, customers, contact points
        page = client.get("/customers/", {"q": "pager"})
    assert len(page.context["customers"]) == 5
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert client.get("/customers/", {"after": "not-a-number"}).status_code == 200


def test_the_customer_page_shows_contact_points_cases_purchases_ratings_and_problems(client):
    agent, boss = make_agent(), make_user(role=Role.MANAGER)
    customer = acme_customer(name="Dana Reyes", email="dana@shop.test")
    open_case = make_case(customer=customer, subject="Kettle leaks")
    done = solved(make_case(customer=customer, subject="Late delivery"), agent)
    rating_record(case=done, customer=customer, score=2, comment="Took a week")
    nps_record(customer=customer, score=9, channel="email", case=done)
    PurchaseRecord.objects.create(
        customer=customer,
        order_id="NW-1001",
        product="Kettle",
        purchased_at=timezone.now(),
        amount=Decimal("39.99"),
        currency="GBP",
    )
    problem = problems.problem_create(actor=boss, title="Kettle lids crack", cases=[open_case])
    make_case(subject="Someone else's case")
    client.force_login(agent)
    page = client.get(f"/customers/{customer.pk}/")
    assert page.status_code == 200
    assert [c.pk for c in page.context["cases"]] == [done.pk, open_case.pk]
    body = page.content.decode()
    assert "dana@shop.test" in body and "Acme Ltd" in body
    assert f'href="/organizations/{customer.organization_id}/"' in body
    assert "Kettle leaks" in body and "Late delivery" in body
    assert "Someone else" not in body
    assert 'class="status solved"' in body
    assert "NW-1001" in body and "39.99 GBP" in body
    assert 'data-rating="2"' in body and "Took a week" in body
    assert 'data-nps="9"' in body
    assert problem.title in body


def test_the_case_page_links_the_customer_and_their_organization(client):
    agent = make_agent()
    customer = acme_customer(name="Dana Reyes")
    case = make_case(customer=customer)
    client.force_login(agent)
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/customers/{customer.pk}/"' in body
    assert f'href="/organizations/{customer.organization_id}/"' in body


def test_the_organization_page_shows_customers_cases_satisfaction_and_service_level(client):
    agent = make_agent()
    dana, lee = acme_customer(name="Dana Reyes"), acme_customer(name="Lee Park")
    outsider = make_customer(name="Sam Outside")
    open_case = make_case(customer=dana, subject="Kettle leaks")
    finished = solved(make_case(customer=lee, subject="Late delivery"), agent)
    rating_record(case=finished, customer=lee, score=5)
    old = solved(make_case(customer=dana, subject="Old one"), agent)
    rating = rating_record(case=old, customer=dana, score=1)
    SatisfactionRating.objects.filter(pk=rating.pk).update(
        created_at=timezone.now() - timedelta(days=120)
    )
    solved(make_case(customer=outsider, subject="Not theirs"), agent)
    acme = dana.organization
    SlaPolicy.objects.create(
        name="Premium care", service_level="premium", first_response_minutes=30
    )
    SlaPolicy.objects.create(name="Basic", service_level="basic", first_response_minutes=240)
    client.force_login(agent)
    page = client.get(f"/organizations/{acme.pk}/")
    assert page.status_code == 200
    assert {c.pk for c in page.context["customers"]} == {dana.pk, lee.pk}
    assert [c.pk for c in page.context["open_cases"]] == [open_case.pk]
    assert [c.pk for c in page.context["recent_cases"]] == [old.pk, finished.pk]
    satisfaction = page.context["satisfaction"]
    assert (satisfaction.ratings, satisfaction.csat) == (1, 100.0)
    body = page.content.decode()
    assert "premium" in body and "Premium care" in body and "Basic" not in body
    assert "Not theirs" not in body and "Sam Outside" not in body
    assert client.get("/organizations/999999/").status_code == 404


def test_a_customer_is_sent_to_the_portal_and_never_sees_these_pages(client):
    customer_user = make_customer_user()
    acme = acme_customer(name="Dana Reyes")
    client.force_login(customer_user)
    for url in (
        "/customers/",
        f"/customers/{customer_user.customer_id}/",
        f"/customers/{acme.pk}/",
        f"/organizations/{acme.organization_id}/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/portal/", url
    assert b'href="/customers/"' not in client.get("/portal/").content


def test_signed_out_visitors_are_asked_to_sign_in(client):
    response = client.get("/customers/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_navigation_links_customers_for_agents(client):
    client.force_login(make_agent())
    body = client.get("/inbox/").content.decode()
    assert 'href="/customers/"' in body and 'href="/help/desk/articles/"' in body
    assert 'href="/settings/"' not in body


def test_odd_input_is_refused_or_ignored_never_a_server_error(client):
    client.force_login(make_agent())
    assert client.get("/customers/", {"q": "a" * 5000}).status_code == 200
    assert client.get("/customers/", {"after": "9" * 40}).status_code == 200
    assert client.get("/customers/", {"q": "bad\x00"}).status_code == 400
    assert client.get("/customers/999999/").status_code == 404
    assert client.post("/customers/").status_code == 405


def test_a_merged_away_profile_leads_to_the_one_it_was_merged_into(client):
    kept, gone = make_customer(name="Dana Reyes"), make_customer(name="Dana R.")
    Customer.objects.filter(pk=gone.pk).update(merged_into=kept)
    client.force_login(make_agent())
    response = client.get(f"/customers/{gone.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/customers/{kept.pk}/"
    assert [c.pk for c in client.get("/customers/", {"q": "dana"}).context["customers"]] == [
        kept.pk
    ]
