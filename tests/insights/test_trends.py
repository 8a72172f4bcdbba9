"""Trend alerts: spikes of new cases by category, product, keyword and mood against the
same hours of the week over the weeks before; one alert a slice a day, emailed to the
managers once through the outbox; what managers do with an alert; and the API."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection

from caseloop.accounts.models import Role
from caseloop.cases.loop import facts as loop_facts
from caseloop.cases.models import Case, Message, OutboxEffect
from caseloop.cases.outbox import effects_run
from caseloop.customers.models import PurchaseRecord
from caseloop.customers.services import purchases_import_csv
from caseloop.insights import problems, trends
from caseloop.insights.models import ProblemCase, TrendAlert
from caseloop.triage.services import message_mood_record
from tests.builders import bearer, make_agent, make_case, make_category, make_customer, make_user

pytestmark = pytest.mark.django_db

# A Monday noon; the window is the 24 hours before it.
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
WEEK = timedelta(weeks=1)

DECLINED = ("Card payment declined", "My card was declined when I tried to pay for the order.")
INVOICE = ("Invoice", "Could you send me the invoice for my order?")
DELIVERY = ("Where is my parcel", "The parcel has not arrived and the tracking does not move.")


def cases_at(at, n, *, subject_text=DELIVERY, **extra) -> list[Case]:
    """`n` cases, each from its own customer, created at `at`."""
    subject, text = subject_text
    made = [make_case(subject=subject, text=text, **extra) for _ in range(n)]
    Case.objects.filter(pk__in=[c.pk for c in made]).update(created_at=at)
    return made


def weeks_before(n_per_week, *, at=NOW - timedelta(hours=3), weeks=4, **extra) -> None:
    """`n_per_week` cases at the same time of the week in each of the weeks before `at`."""
    for week in range(1, weeks + 1):
        cases_at(at - week * WEEK, n_per_week, **extra)


def alerts(dimension=None):
    rows = TrendAlert.objects.order_by("id")
    return list(rows.filter(dimension=dimension) if dimension else rows)


def manager():
    return make_user(role=Role.MANAGER)


def trend_effects_run() -> int:
    """Run the pending trend emails (and only those: triage and acknowledgements stay out
    of the way)."""
    pending = OutboxEffect.objects.filter(
        state=OutboxEffect.State.PENDING, kind=trends.NOTIFY_EFFECT
    ).values_list("id", flat=True)
    return effects_run(list(pending))


# --- detection ----------------------------------------------------------------------------


def test_a_burst_well_above_the_same_hours_of_past_weeks_raises_an_alert_with_its_numbers():
    declined = make_category(name="Card payment declined")
    delivery = make_category(name="Delivery")
    weeks_before(8, category=declined, subject_text=DECLINED)
    weeks_before(8, category=delivery)
    burst = cases_at(NOW - timedelta(hours=2), 42, category=declined, subject_text=DECLINED)
    cases_at(NOW - timedelta(hours=5), 8, category=delivery)  # as usual
    cases_at(NOW - timedelta(hours=30), 40, category=delivery)  # before the window

    found = trends.trends_detect(now=NOW)

    (alert,) = alerts("category")
    assert alert in found
    assert (alert.key, alert.label, alert.count, alert.expected) == (
        str(declined.pk),
        "Card payment declined",
        42,
        8.0,
    )
    assert alert.summary == (
        "Category “Card payment declined”: 42 new cases in the last 24 h; usually 8 (5.2×)."
    )
    assert sorted(alert.case_ids) == sorted(c.pk for c in burst)
    assert (alert.day, alert.window_start, alert.window_end) == (
        NOW.date(),
        NOW - timedelta(hours=24),
        NOW,
    )
    assert alert.state == "open" and alert.problem is None


def test_as_many_cases_as_in_the_same_hours_of_past_weeks_is_no_spike():
    declined = make_category(name="Card payment declined")
    weeks_before(20, category=declined, subject_text=DECLINED)
    cases_at(NOW - timedelta(hours=2), 20, category=declined, subject_text=DECLINED)
    assert trends.trends_detect(now=NOW) == []
    assert alerts() == []


def test_a_day_when_the_whole_desk_is_busier_alike_alerts_no_slice_of_it():
    billing, delivery = make_category(name="Billing"), make_category(name="Delivery")
    weeks_before(4, category=billing)
    weeks_before(4, category=delivery)
    # Three times the usual in each (a spike for each on its own): a busy day, not a
    # problem in either.
    cases_at(NOW - timedelta(hours=2), 12, category=billing)
    cases_at(NOW - timedelta(hours=2), 12, category=delivery)
    assert alerts("category") == [] and not [
        a for a in trends.trends_detect(now=NOW) if a.dimension == "category"
    ]
    # One slice out of the mix still is.
    cases_at(NOW - timedelta(hours=1), 24, category=billing)
    (alert,) = [a for a in trends.trends_detect(now=NOW) if a.dimension == "category"]
    assert (alert.label, alert.count) == ("Billing", 36)


def test_a_desk_busy_every_monday_is_not_alerted_on_monday_but_a_busy_tuesday_is():
    billing = make_category(name="Billing")
    monday_morning = NOW - timedelta(hours=3)
    for week in range(1, 5):
        cases_at(monday_morning - week * WEEK, 30, category=billing)
        for day in range(1, 7):  # the rest of that week is quiet
            cases_at(monday_morning - week * WEEK + timedelta(days=day), 3, category=billing)
    cases_at(monday_morning, 30, category=billing)
    assert trends.trends_detect(now=NOW) == []  # Mondays are like this

    tuesday = NOW + timedelta(days=1)
    cases_at(tuesday - timedelta(hours=3), 30, category=billing)
    trends.trends_detect(now=tuesday)
    (alert,) = alerts("category")
    assert (alert.day, alert.count, alert.expected) == (tuesday.date(), 30, 3.0)


def test_a_handful_of_cases_or_one_customer_writing_often_is_no_spike():
    billing = make_category(name="Billing")
    cases_at(NOW - timedelta(hours=1), 4, category=billing)  # below the least count
    customer = make_customer()
    cases_at(NOW - timedelta(hours=1), 6, category=make_category(), customer=customer)
    trends.trends_detect(now=NOW)
    assert alerts("category") == []


def test_a_spike_in_a_product_counts_the_purchase_each_case_is_about():
    rows = ["email,order_id,product,purchased_at,amount"]
    buyers = [make_customer() for _ in range(7)]
    for n, buyer in enumerate(buyers):
        email = buyer.contact_points.get(kind="email").value
        rows.append(f"{email},K-{n},Kettle Pro 2,2026-11-20,49.00")
        rows.append(f"{email},T-{n},Toaster Mini,2026-06-01,25.00")
    long_ago = make_customer()
    rows.append(
        f"{long_ago.contact_points.get(kind='email').value},K-old,Kettle Pro 2,2024-01-05,49.00"
    )
    purchases_import_csv(data="\n".join(rows) + "\n")
    agent = make_agent()
    when = NOW - timedelta(hours=4)
    # Five write about their most recent purchase, the kettle...
    kettles = [cases_at(when, 1, customer=buyer)[0] for buyer in buyers[:5]]
    # ...one names the order of the kettle in a fact, one links its toaster.
    named = cases_at(when, 1, customer=buyers[5])[0]
    loop_facts.fact_record(case=named, key="order_id", value=" K-5 ", actor=agent)
    toaster = cases_at(when, 1, customer=buyers[6])[0]
    loop_facts.case_link_add(
        case=toaster,
        kind="purchase",
        actor=agent,
        purchase=PurchaseRecord.objects.get(order_id="T-6"),
    )
    cases_at(when, 1, customer=long_ago)  # a kettle two years ago says nothing about today

    trends.trends_detect(now=NOW)

    (alert,) = alerts("product")
    assert (alert.key, alert.label, alert.count) == ("Kettle Pro 2", "Kettle Pro 2", 6)
    assert sorted(alert.case_ids) == sorted(c.pk for c in [*kettles, named])
    assert alert.summary.startswith("Product “Kettle Pro 2”: 6 new cases in the last 24 h;")


def test_a_word_that_suddenly_appears_in_many_cases_is_a_keyword_alert():
    speaker = ("My speaker", "The speaker will not connect to my phone over bluetooth.")
    weeks_before(6, subject_text=speaker)
    texts = [
        ("Speaker dead after firmware", "Since the firmware update last night my speaker is dead."),
        ("Firmware broke my speaker", "The new firmware bricked my speaker, it does not start."),
        ("Firmware problem", "After installing the firmware the speaker only blinks red."),
        ("Speaker stuck", "My speaker got stuck during the firmware install."),
        ("Update failed", "The speaker firmware failed half way and now nothing works."),
        ("Firmware 3.2", "Firmware 3.2 turned my speaker into a brick."),
    ]
    burst = [cases_at(NOW - timedelta(hours=6), 1, subject_text=t)[0] for t in texts]
    cases_at(NOW - timedelta(hours=6), 6, subject_text=speaker)  # as usual

    trends.trends_detect(now=NOW)

    (alert,) = alerts("keyword")
    assert alert.key == "firmware"
    assert (alert.count, alert.expected) == (6, 0.0)
    assert sorted(alert.case_ids) == sorted(c.pk for c in burst)
    assert alert.summary == "Keyword “firmware”: 6 new cases in the last 24 h; usually none."


def test_a_word_in_most_cases_anyway_is_no_keyword_alert():
    weeks_before(1, subject_text=("My parcel", "Where is my parcel? It is late."))
    others = [
        "lost in Leeds",
        "box crushed",
        "wrong colour",
        "courier rude",
        "doorstep wet",
        "label smudged",
        "neighbour signed",
        "tracking frozen",
    ]
    for words in others:
        cases_at(NOW - timedelta(hours=3), 1, subject_text=(f"Parcel {words}", f"Parcel {words}."))
    trends.trends_detect(now=NOW)
    assert "parcel" not in {a.key for a in alerts("keyword")}


def test_many_more_upset_customers_than_usual_is_a_mood_alert():
    angry = (
        "Disgraceful service",
        "This is unacceptable, the worst service ever!!! I am furious.",
    )
    calm = cases_at(NOW - timedelta(hours=2), 6, subject_text=INVOICE)
    upset = [
        cases_at(NOW - timedelta(hours=2), 1, subject_text=(f"{angry[0]} {n}", angry[1]))[0]
        for n in range(6)
    ]
    for case in calm + upset:
        message_mood_record(message_id=Message.objects.get(case=case).pk)

    trends.trends_detect(now=NOW)

    (alert,) = alerts("mood")  # neutral is not watched
    assert (alert.key, alert.count) == ("upset", 6)
    assert sorted(alert.case_ids) == sorted(c.pk for c in upset)
    assert alert.summary == "Mood “upset”: 6 new cases in the last 24 h; usually none."


def test_running_again_the_same_day_brings_the_alert_up_to_date_instead_of_adding_one():
    declined = make_category(name="Card payment declined")
    first = cases_at(NOW - timedelta(hours=2), 6, category=declined)
    trends.trends_detect(now=NOW)
    (alert,) = alerts("category")

    later = NOW + timedelta(hours=3)
    more = cases_at(later - timedelta(hours=1), 4, category=declined)
    again = [a for a in trends.trends_detect(now=later) if a.dimension == "category"]

    assert [a.pk for a in again] == [alert.pk]
    (alert,) = alerts("category")
    assert alert.count == 10
    assert sorted(alert.case_ids) == sorted(c.pk for c in first + more)
    assert alert.window_end == later
    assert alert.summary.startswith("Category “Card payment declined”: 10 new cases")
    effects = OutboxEffect.objects.filter(kind=trends.NOTIFY_EFFECT, payload__alert=alert.pk)
    assert effects.count() == 1


def test_a_spike_running_past_midnight_stays_yesterdays_alert_until_it_grows_again():
    declined = make_category(name="Card payment declined")
    evening = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
    cases_at(evening, 8, category=declined)
    trends.trends_detect(now=evening + timedelta(hours=1))
    (alert,) = alerts("category")

    after_midnight = evening + timedelta(hours=3)
    cases_at(after_midnight - timedelta(minutes=30), 2, category=declined)
    (same,) = [a for a in trends.trends_detect(now=after_midnight) if a.dimension == "category"]
    assert same.pk == alert.pk and same.day == evening.date()
    alert.refresh_from_db()
    assert alert.count == 10

    cases_at(after_midnight + timedelta(minutes=30), 9, category=declined)
    trends.trends_detect(now=after_midnight + timedelta(hours=1))
    days = [(a.day, a.count) for a in alerts("category")]
    assert days == [(evening.date(), 10), (evening.date() + timedelta(days=1), 19)]


def test_the_managers_are_emailed_once_an_alert_through_the_outbox():
    boss, admin = manager(), make_user(role=Role.ADMIN)
    gone = manager()
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    make_agent()  # agents are not mailed
    declined = make_category(name="Card payment declined")
    burst = cases_at(NOW - timedelta(hours=2), 6, category=declined, subject_text=DECLINED)
    trends.trends_detect(now=NOW)
    (alert,) = alerts("category")
    assert alert.emailed_at is None

    trend_effects_run()

    notices = [m for m in mail.outbox if "“Card payment declined”" in m.subject]
    assert sorted(m.to[0] for m in notices) == sorted([boss.email, admin.email])
    body = notices[0].body
    assert alert.summary in body
    assert all(c.reference in body and f"/cases/{c.pk}/" in body for c in burst)
    assert "/manager/trends/" in body
    alert.refresh_from_db()
    assert alert.emailed_at is not None

    trends.trends_detect(now=NOW + timedelta(minutes=30))
    trend_effects_run()
    assert len([m for m in mail.outbox if "“Card payment declined”" in m.subject]) == 2


def test_a_dismissed_alert_is_not_emailed():
    manager()
    cases_at(NOW - timedelta(hours=2), 6, category=make_category(name="Billing"))
    trends.trends_detect(now=NOW)
    for alert in alerts():
        trends.trend_alert_dismiss(alert=alert, actor=manager())
    trend_effects_run()
    assert mail.outbox == []
    assert all(a.emailed_at is None for a in alerts())


# --- what managers do ---------------------------------------------------------------------


def spotted(category_name="Card payment declined", n=6):
    category = make_category(name=category_name)
    cases = cases_at(NOW - timedelta(hours=2), n, category=category, subject_text=DECLINED)
    trends.trends_detect(now=NOW)
    (alert,) = alerts("category")
    return alert, category, cases


def test_only_managers_handle_an_alert():
    alert, _category, _cases = spotted()
    agent = make_agent()
    for service in (
        trends.trend_alert_acknowledge,
        trends.trend_alert_dismiss,
        trends.trend_alert_problem_open,
    ):
        with pytest.raises(problems.ProblemForbidden):
            service(alert=alert, actor=agent)
    alert.refresh_from_db()
    assert (alert.state, alert.handled_by, alert.problem) == ("open", None, None)


def test_acknowledging_and_dismissing_say_who_and_when():
    alert, _category, _cases = spotted()
    boss = manager()
    alert = trends.trend_alert_acknowledge(alert=alert, actor=boss)
    assert (alert.state, alert.handled_by) == ("acknowledged", boss)
    assert alert.handled_at is not None
    other = manager()
    alert = trends.trend_alert_dismiss(alert=alert, actor=other)
    assert (alert.state, alert.handled_by) == ("dismissed", other)
    with pytest.raises(trends.TrendConflict):
        trends.trend_alert_acknowledge(alert=alert, actor=boss)
    assert trends.trend_alert_dismiss(alert=alert, actor=boss).handled_by == other


def test_a_problem_opened_from_an_alert_holds_its_cases_and_its_category():
    alert, category, cases = spotted()
    boss = manager()
    problem = trends.trend_alert_problem_open(alert=alert, actor=boss)
    assert problem.status == "investigating"
    assert problem.category == category
    assert problem.title == "Spike: category “Card payment declined”"
    assert problem.description == alert.summary
    linked = ProblemCase.objects.filter(problem=problem).values_list("case_id", flat=True)
    assert sorted(linked) == sorted(c.pk for c in cases)
    alert.refresh_from_db()
    assert (alert.problem, alert.state, alert.handled_by) == (problem, "acknowledged", boss)
    # Once: the same problem again, and the alert can no longer be dismissed.
    assert trends.trend_alert_problem_open(alert=alert, actor=manager()) == problem
    with pytest.raises(trends.TrendConflict):
        trends.trend_alert_dismiss(alert=alert, actor=boss)


def test_a_product_alert_gives_its_problem_the_product():
    rows = ["email,order_id,product,purchased_at,amount"]
    buyers = [make_customer() for _ in range(5)]
    for n, buyer in enumerate(buyers):
        email = buyer.contact_points.get(kind="email").value
        rows.append(f"{email},K-{n},Kettle Pro 2,2026-11-20,49.00")
    purchases_import_csv(data="\n".join(rows) + "\n")
    for buyer in buyers:
        cases_at(NOW - timedelta(hours=1), 1, customer=buyer)
    trends.trends_detect(now=NOW)
    (alert,) = alerts("product")
    problem = trends.trend_alert_problem_open(alert=alert, actor=manager(), title="Kettles")
    assert (problem.title, problem.product, problem.category) == ("Kettles", "Kettle Pro 2", None)


def test_the_hourly_job_runs_detection():
    from caseloop.insights.tasks import trends_detect_hourly

    cases_at(datetime.now(UTC) - timedelta(hours=1), 6, category=make_category(name="Billing"))
    assert trends_detect_hourly.call_local() >= 1
    assert [a.label for a in alerts("category")] == ["Billing"]


# --- the API ------------------------------------------------------------------------------


def test_the_api_lists_alerts_with_their_cases_and_managers_handle_them(
    api, django_assert_num_queries
):
    alert, _category, cases = spotted()
    boss = bearer(manager())

    api.get("/api/v1/trends", headers=boss)  # a token's first use records when it was used
    with django_assert_num_queries(2):  # the token with its user, the alerts
        listed = api.get("/api/v1/trends", headers=boss, state="open")
    assert listed.status_code == 200
    items = [i for i in listed.json() if i["dimension"] == "category"]
    assert [(i["id"], i["count"], i["expected"]) for i in items] == [(alert.pk, 6, 0.0)]
    assert sorted(items[0]["case_ids"]) == sorted(c.pk for c in cases)
    assert items[0]["summary"] == alert.summary and items[0]["state"] == "open"

    acknowledged = api.post(f"/api/v1/trends/{alert.pk}/acknowledge", headers=boss)
    assert acknowledged.status_code == 200 and acknowledged.json()["state"] == "acknowledged"
    assert [i["id"] for i in api.get("/api/v1/trends", headers=boss, state="open").json()] == [
        a.pk for a in alerts() if a.pk != alert.pk and a.state == "open"
    ]

    opened = api.post(f"/api/v1/trends/{alert.pk}/problem", {"title": "Cards"}, headers=boss)
    assert opened.status_code == 201
    problem_id = opened.json()["problem_id"]
    assert opened.json()["state"] == "acknowledged"
    linked = ProblemCase.objects.filter(problem_id=problem_id).values_list("case_id", flat=True)
    assert sorted(linked) == sorted(c.pk for c in cases)

    refused = api.post(f"/api/v1/trends/{alert.pk}/dismiss", headers=boss)
    assert refused.status_code == 409

    other = next(a for a in alerts() if a.pk != alert.pk)
    dismissed = api.post(f"/api/v1/trends/{other.pk}/dismiss", headers=boss)
    assert dismissed.status_code == 200 and dismissed.json()["state"] == "dismissed"
    assert api.post("/api/v1/trends/999999/dismiss", headers=boss).status_code == 404
    assert api.get("/api/v1/trends", headers=boss, state="nonsense").status_code in (400, 422)


def test_the_api_runs_detection_for_managers_only(api):
    make_category(name="Billing")
    cases_at(datetime.now(UTC) - timedelta(hours=1), 6, category=make_category(name="Refunds"))
    agent = bearer(make_agent())
    assert api.post("/api/v1/trends/detect", headers=agent).status_code == 403
    assert api.get("/api/v1/trends", headers=agent).status_code == 403
    assert api.get("/api/v1/trends").status_code == 401

    detected = api.post("/api/v1/trends/detect", headers=bearer(manager()))
    assert detected.status_code == 200
    categories = [i for i in detected.json() if i["dimension"] == "category"]
    assert [(i["label"], i["count"]) for i in categories] == [("Refunds", 6)]
    assert (
        api.post(f"/api/v1/trends/{categories[0]['id']}/acknowledge", headers=agent).status_code
        == 403
    )


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_raise_one_alert_a_slice_and_one_email_each():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are a PostgreSQL matter (SQLite has one writer)")
    cases_at(NOW - timedelta(hours=2), 6, category=make_category(name="Billing"))
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            trends.trends_detect(now=NOW)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
        finally:
            connection.close()

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    assert failures == []
    assert [a.label for a in alerts("category")] == ["Billing"]
    effects = OutboxEffect.objects.filter(kind=trends.NOTIFY_EFFECT)
    assert sorted(e.payload["alert"] for e in effects) == sorted(a.pk for a in alerts())
