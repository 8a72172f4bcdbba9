"""The managers' trend alert pages: the list (open alerts first, what changed, the cases),
acknowledging, dismissing and opening a problem from an alert, the detection on demand,
and the dashboard's count of open alerts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from caseloop.accounts.models import Role
from caseloop.cases.models import Case
from caseloop.insights import trends
from caseloop.insights.models import ProblemCase, TrendAlert
from tests.builders import make_agent, make_case, make_category, make_user

pytestmark = pytest.mark.django_db


def manager():
    return make_user(role=Role.MANAGER)


def burst(category_name: str, n: int = 6, *, subject: str = "Card payment declined"):
    """`n` new cases in a new category within the last hour, each from its own customer."""
    category = make_category(name=category_name)
    cases = [
        make_case(subject=f"{subject} {i}", text="It happened again.", category=category)
        for i in range(n)
    ]
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    return cases


def category_alert(category_name: str) -> TrendAlert:
    return TrendAlert.objects.get(dimension="category", label=category_name)


def test_only_managers_reach_the_trend_pages(client):
    burst("Payments")
    trends.trends_detect()
    alert = category_alert("Payments")
    urls = [
        f"/manager/trends/{alert.pk}/acknowledge/",
        f"/manager/trends/{alert.pk}/dismiss/",
        f"/manager/trends/{alert.pk}/problem/",
        "/manager/trends/detect/",
    ]
    anonymous = client.get("/manager/trends/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    assert all(client.post(url).status_code == 302 for url in urls)
    client.force_login(make_agent())
    assert client.get("/manager/trends/").status_code == 403
    assert all(client.post(url).status_code == 403 for url in urls)
    alert.refresh_from_db()
    assert (alert.state, alert.problem) == ("open", None)


def test_the_list_shows_open_alerts_first_with_what_changed_and_their_cases(
    client, django_assert_num_queries
):
    boss = manager()
    handled = burst("Payments")
    trends.trends_detect()
    trends.trend_alert_acknowledge(alert=category_alert("Payments"), actor=boss)
    waiting = burst("Deliveries", 7, subject="Parcel lost")
    trends.trends_detect()
    client.force_login(boss)

    with django_assert_num_queries(4):  # session, user, alerts, their cases
        page = client.get("/manager/trends/")

    rows = page.context["rows"]
    states = [alert.state for alert, _cases in rows]
    assert states == sorted(states, key=lambda s: s != "open")  # open ones first
    order = [alert.label for alert, _cases in rows if alert.dimension == "category"]
    assert order == ["Deliveries", "Payments"]
    body = page.content.decode()
    deliveries = category_alert("Deliveries")
    assert deliveries.summary in body
    for case in waiting + handled:
        assert f'href="/cases/{case.pk}/">{case.reference}</a> {case.subject}' in body
    assert f'action="/manager/trends/{deliveries.pk}/acknowledge/"' in body
    assert f'action="/manager/trends/{deliveries.pk}/problem/"' in body
    payments = category_alert("Payments")
    assert f'action="/manager/trends/{payments.pk}/acknowledge/"' not in body  # done already
    assert f"acknowledged by {boss.display_name}" in body

    only_open = client.get("/manager/trends/", {"state": "open"})
    assert payments not in [alert for alert, _cases in only_open.context["rows"]]
    assert client.get("/manager/trends/", {"state": "nonsense"}).status_code == 422


def test_a_manager_acknowledges_dismisses_and_opens_a_problem_from_the_page(client):
    boss = manager()
    cases = burst("Payments")
    burst("Deliveries", subject="Parcel lost")
    trends.trends_detect()
    payments, deliveries = category_alert("Payments"), category_alert("Deliveries")
    client.force_login(boss)

    acknowledged = client.post(f"/manager/trends/{payments.pk}/acknowledge/")
    assert acknowledged.status_code == 302 and acknowledged["Location"] == "/manager/trends/"
    payments.refresh_from_db()
    assert (payments.state, payments.handled_by) == ("acknowledged", boss)

    opened = client.post(f"/manager/trends/{payments.pk}/problem/", {"title": "Cards refused"})
    payments.refresh_from_db()
    problem = payments.problem
    assert problem is not None and opened["Location"] == f"/manager/problems/{problem.pk}/"
    assert (problem.title, problem.status, problem.category.name) == (
        "Cards refused",
        "investigating",
        "Payments",
    )
    linked = ProblemCase.objects.filter(problem=problem).values_list("case_id", flat=True)
    assert sorted(linked) == sorted(c.pk for c in cases)
    page = client.get("/manager/trends/").content.decode()
    assert f'href="/manager/problems/{problem.pk}/">{problem.number}</a>' in page
    # A problem was opened from it: it can no longer be dismissed.
    refused = client.post(f"/manager/trends/{payments.pk}/dismiss/")
    assert refused.status_code == 409

    assert client.post(f"/manager/trends/{deliveries.pk}/dismiss/").status_code == 302
    deliveries.refresh_from_db()
    assert deliveries.state == "dismissed"
    assert client.post("/manager/trends/999999/dismiss/").status_code == 404


def test_a_manager_looks_for_spikes_now(client):
    burst("Payments")
    client.force_login(manager())
    response = client.post("/manager/trends/detect/", follow=True)
    assert response.redirect_chain == [("/manager/trends/", 302)]
    assert category_alert("Payments").state == "open"
    assert re.search(r"\b\d+ spikes? found\.", response.content.decode())


def test_the_dashboard_counts_the_open_alerts_and_links_to_them(client):
    boss = manager()
    burst("Payments")
    burst("Deliveries", subject="Parcel lost")
    trends.trends_detect()
    trends.trend_alert_dismiss(alert=category_alert("Payments"), actor=boss)
    open_alerts = TrendAlert.objects.filter(state="open").count()
    client.force_login(boss)
    page = client.get("/manager/")
    assert page.context["trend_alerts_open"] == open_alerts
    body = page.content.decode()
    assert (
        f'<a href="/manager/trends/"><strong id="trend-alerts-open">{open_alerts}</strong>' in body
    )
