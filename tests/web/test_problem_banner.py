"""The known-issue banner on the help centre and the contact form, customers following it
instead of writing in, and the problem page's proactive-support sections (managers)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from caseloop.accounts.models import Role
from caseloop.cases import outbox
from caseloop.channels.webform.models import WebForm
from caseloop.customers.models import PurchaseRecord
from caseloop.insights import problem_notices, problems
from caseloop.insights.models import ProblemFollower, ProblemNotice, ProblemStatus
from tests.builders import (
    fresh_address,
    make_agent,
    make_case,
    make_customer,
    make_customer_user,
    make_user,
)

pytestmark = pytest.mark.django_db

PUBLIC_TITLE = "Some K2 kettles do not switch off"
PUBLIC_SUMMARY = "Unplug the kettle after boiling until we send the fix."
INTERNAL_TITLE = "Thermostat batch 7 fails QA"
WORKAROUND = "Replace from stock bin 4."
PAGES = ("/help/", "/help/search/?q=kettle", "/channels/form/")


def run_effects() -> None:
    while outbox.effects_sweep():
        pass


def manager():
    return make_user(role=Role.MANAGER)


def announced(boss=None, *, banner=True):
    boss = boss or manager()
    problem = problems.problem_create(actor=boss, title=INTERNAL_TITLE, product="Kettle K2")
    problems.problem_update(problem=problem, actor=boss, workaround=WORKAROUND)
    return problem_notices.problem_banner_set(
        problem=problem,
        actor=boss,
        public_title=PUBLIC_TITLE,
        public_summary=PUBLIC_SUMMARY,
        show_banner=banner,
    )


def browser() -> Client:
    return Client(enforce_csrf_checks=True, REMOTE_ADDR=fresh_address())


def csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def follow(client: Client, page_url: str, problem, email: str):
    page = client.get(page_url).content.decode()
    action = re.search(rf'action="([^"]+/known-issues/{problem.pk}/follow/?)"', page).group(1)
    return client.post(action, {"email": email, "csrfmiddlewaretoken": csrf(page)})


# --- the public pages -----------------------------------------------------------------------


def test_the_help_centre_and_the_contact_form_announce_the_issue_with_its_public_text_only():
    problem = announced()
    client = browser()
    for url in PAGES:
        page = client.get(url).content.decode()
        assert PUBLIC_TITLE in page and PUBLIC_SUMMARY in page, url
        assert "This affects me — tell me when it's fixed" in page, url
        assert INTERNAL_TITLE not in page and WORKAROUND not in page, url
        assert f"PRB-{problem.pk}" not in page, url


def test_no_banner_when_it_is_not_shown_or_the_problem_is_not_open():
    boss = manager()
    announced(boss, banner=False)
    client = browser()
    for url in PAGES:
        assert PUBLIC_TITLE not in client.get(url).content.decode()
    shown = announced(boss)
    problems.problem_update(problem=shown, actor=boss, permanent_fix="New thermostats.")
    problems.problem_transition(problem=shown, to=ProblemStatus.FIXED, actor=boss)
    for url in PAGES:
        assert PUBLIC_TITLE not in client.get(url).content.decode()


def test_a_customer_follows_from_the_help_centre_and_is_linked_when_the_address_is_known():
    problem = announced()
    ann = make_customer(name="Ann Lee", email="ann@example.com")
    response = follow(browser(), "/help/", problem, "Ann@Example.com")
    assert response.status_code == 200
    assert "we will email ann@example.com as soon as it is fixed" in response.content.decode()
    follower = ProblemFollower.objects.get(problem=problem)
    assert (follower.customer, follower.email, follower.via) == (
        ann,
        "ann@example.com",
        "help_centre",
    )

    again = follow(browser(), "/help/search/?q=kettle", problem, "ann@example.com")
    assert again.status_code == 200 and "already on the list" in again.content.decode()
    assert ProblemFollower.objects.filter(problem=problem).count() == 1


def test_a_visitor_follows_from_the_contact_form_without_opening_a_case():
    problem = announced()
    response = follow(browser(), "/channels/form/", problem, "new@example.com")
    assert response.status_code == 200
    follower = ProblemFollower.objects.get(problem=problem)
    assert (follower.customer, follower.via) == (None, "web_form")
    assert not problem.links.exists()


def test_a_signed_in_customer_finds_their_address_prefilled_and_follows_from_the_portal():
    problem = announced()
    customer = make_customer(name="Bea", email="bea@example.com")
    client = browser()
    client.force_login(make_customer_user(customer=customer))
    page = client.get("/help/").content.decode()
    assert re.search(r'name="email"[^>]*value="bea@example.com"', page)
    response = follow(client, "/help/", problem, "bea@example.com")
    assert response.status_code == 200
    follower = ProblemFollower.objects.get(problem=problem)
    assert (follower.customer, follower.via) == (customer, "portal")


@pytest.mark.parametrize("page_url", ["/help/", "/channels/form/"])
@pytest.mark.parametrize(
    ("email", "message"),
    [("", "Give your email address"), ("not an address", "is not an email address")],
)
def test_a_bad_address_is_a_clear_form_error(page_url, email, message):
    problem = announced()
    response = follow(browser(), page_url, problem, email)
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page and 'role="alert"' in page
    assert not ProblemFollower.objects.exists()


def test_an_issue_no_longer_announced_is_not_found_and_a_get_is_not_allowed():
    problem = announced()
    client = browser()
    page = client.get("/help/").content.decode()
    problem_notices.problem_banner_set(
        problem=problem,
        actor=manager(),
        public_title=PUBLIC_TITLE,
        public_summary=PUBLIC_SUMMARY,
        show_banner=False,
    )
    gone = client.post(
        f"/help/known-issues/{problem.pk}/follow",
        {"email": "a@example.com", "csrfmiddlewaretoken": csrf(page)},
    )
    assert gone.status_code == 404 and "no longer listed" in gone.content.decode()
    assert client.get(f"/help/known-issues/{problem.pk}/follow").status_code == 405
    assert client.get(f"/channels/form/known-issues/{problem.pk}/follow/").status_code == 405
    assert not ProblemFollower.objects.exists()


def test_a_follow_without_the_csrf_token_is_refused():
    problem = announced()
    client = browser()
    for url in (
        f"/help/known-issues/{problem.pk}/follow",
        f"/channels/form/known-issues/{problem.pk}/follow/",
    ):
        assert client.post(url, {"email": "a@example.com"}).status_code == 403
    assert not ProblemFollower.objects.exists()


@pytest.mark.parametrize("page_url", ["/help/", "/channels/form/"])
def test_following_is_limited_per_address_like_the_contact_form(page_url):
    problem = announced()
    client = browser()
    statuses = [
        follow(client, page_url, problem, f"person{n}@example.com").status_code for n in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    assert ProblemFollower.objects.filter(problem=problem).count() == 5
    # Another address is not held back.
    assert follow(browser(), page_url, problem, "other@example.com").status_code == 200


def test_a_follower_from_the_banner_is_mailed_when_the_fix_is_published(client):
    boss = manager()
    problem = announced(boss)
    follow(browser(), "/channels/form/", problem, "fan@example.com")
    problems.problem_update(problem=problem, actor=boss, permanent_fix="New thermostats.")
    client.force_login(boss)
    response = client.post(f"/manager/problems/{problem.pk}/publish/", follow=True)
    assert "1 follower will be mailed" in response.content.decode()
    run_effects()
    (letter,) = [m for m in mail.outbox if m.to == ["fan@example.com"]]
    assert "New thermostats." in letter.body and PUBLIC_TITLE in letter.body


# --- the problem page -----------------------------------------------------------------------


def test_only_managers_set_the_banner_and_send_notices_from_the_problem_page(client):
    problem = announced(banner=False)
    client.force_login(make_agent())
    for path in ("banner/", "notices/preview/", "notices/send/"):
        assert client.post(f"/manager/problems/{problem.pk}/{path}").status_code == 403
    client.force_login(manager())
    response = client.post(
        f"/manager/problems/{problem.pk}/banner/",
        {"public_title": "Kettles", "public_summary": "Unplug it.", "show_banner": "on"},
    )
    assert response.status_code == 302
    problem.refresh_from_db()
    assert (problem.public_title, problem.show_banner) == ("Kettles", True)
    refused = client.post(
        f"/manager/problems/{problem.pk}/banner/",
        {"public_title": "", "public_summary": "", "show_banner": "on"},
    )
    assert refused.status_code == 422 and "public title and summary" in refused.content.decode()


def test_a_manager_previews_then_sends_a_notice_and_sees_it_with_the_impact(client):
    boss = manager()
    problem = announced(boss)
    problems.problem_update(problem=problem, actor=boss, why_chain=["Thermostats stick"])
    problems.problem_transition(problem=problem, to=ProblemStatus.KNOWN_ERROR, actor=boss)
    buyers = [make_customer(name=f"Buyer {n}", email=f"buyer{n}@example.com") for n in range(3)]
    wrote = make_customer(name="Wrote", email="wrote@example.com")
    for n, customer in enumerate([*buyers, wrote]):
        PurchaseRecord.objects.create(
            customer=customer,
            order_id=f"K-{n}",
            product="Kettle K2",
            purchased_at=timezone.now() - timedelta(days=5),
            amount=Decimal("49.00"),
        )
    problems.problem_case_link(problem=problem, case=make_case(customer=wrote), actor=boss)
    run_effects()
    mail.outbox.clear()
    client.force_login(boss)

    page = client.get(f"/manager/problems/{problem.pk}/").content.decode()
    for section in ("Known-issue banner", "Tell affected customers", "Contacts prevented"):
        assert section in page

    preview = client.post(
        f"/manager/problems/{problem.pk}/notices/preview/",
        {"audience": "purchase", "text": "Hello {customer_name}. {title}: {summary}"},
    )
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "<strong>3</strong> customers would be told" in body
    assert f"Hello Buyer 0. {PUBLIC_TITLE}: {PUBLIC_SUMMARY}" in body
    assert not ProblemNotice.objects.exists()

    bad = client.post(
        f"/manager/problems/{problem.pk}/notices/preview/",
        {"audience": "segment", "bought_since": "yesterday-ish"},
    )
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.content.decode()
    unconfirmed = client.post(f"/manager/problems/{problem.pk}/notices/send/", {})
    assert unconfirmed.status_code == 422

    fields = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', body))
    fields["csrfmiddlewaretoken"] = "unused"  # the test client does not enforce CSRF
    sent = client.post(f"/manager/problems/{problem.pk}/notices/send/", fields, follow=True)
    assert "3 notices on the way" in sent.content.decode()
    run_effects()
    assert sorted(m.to[0] for m in mail.outbox) == [f"buyer{n}@example.com" for n in range(3)]

    page = client.get(f"/manager/problems/{problem.pk}/").content.decode()
    assert page.count("data-notice=") == 3
    assert re.search(r'id="impact-sent">3\b', page)
    # 1 of the 4 buyers wrote before: 25%; 3 × 25% rounds to 1 contact prevented.
    assert 'id="impact-rate">25.0%' in page
    assert re.search(r'id="impact-prevented"><strong>1</strong>', page)

    anyway = make_case(customer=buyers[0], subject="Kettle still boils", text="It never stops.")
    problems.problem_case_link(problem=problem, case=anyway, actor=boss)
    page = client.get(f"/manager/problems/{problem.pk}/").content.decode()
    notices_table = page[page.index('id="notices"') : page.index('id="cases-title"')]
    assert f">{anyway.reference}</a>" in notices_table
    assert 'id="impact-wrote">1<' in page
    assert re.search(r'id="impact-prevented"><strong>0</strong>', page)


def test_an_issue_number_out_of_range_is_not_found_rather_than_an_error():
    announced()
    client = browser()
    page = client.get("/help/").content.decode()
    huge = 10**30
    for url in (f"/help/known-issues/{huge}/follow", f"/channels/form/known-issues/{huge}/follow/"):
        response = client.post(url, {"email": "a@example.com", "csrfmiddlewaretoken": csrf(page)})
        assert response.status_code == 404


def test_the_embedded_form_announces_the_issue_and_follows_with_its_signed_token_in_a_frame():
    WebForm.objects.create(key="shop", name="Shop help", allowed_origins="https://shop.example")
    problem = announced()
    frame = Client(enforce_csrf_checks=True, REMOTE_ADDR=fresh_address())
    page = frame.get("/channels/form/shop/embed/").content.decode()
    assert PUBLIC_TITLE in page and INTERNAL_TITLE not in page
    banner = page[page.index('id="known-issue-') :]
    action = re.search(r'action="([^"]+)"', banner).group(1)
    assert action == f"/channels/form/shop/embed/known-issues/{problem.pk}/follow/"
    token = re.search(r'name="form_token" value="([^"]+)"', banner).group(1)
    frame.cookies.clear()  # a cross-site iframe gets no first-party cookies

    assert frame.post(action, {"email": "fan@example.com"}).status_code == 400
    response = frame.post(action, {"email": "fan@example.com", "form_token": token})
    assert response.status_code == 200
    assert "frame-ancestors 'self' https://shop.example" in response["Content-Security-Policy"]
    follower = ProblemFollower.objects.get(problem=problem)
    assert (follower.email, follower.via) == ("fan@example.com", "web_form")
