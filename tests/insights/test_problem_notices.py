"""Proactive support from a recurring problem: the likely-affected customers who have not
written (by purchase or by segment), the notices mailed to them through the outbox, the
noticed customers who wrote anyway, followers told of the fix once, the contacts
prevented; and the API."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from caseloop.accounts.models import Role
from caseloop.cases import outbox
from caseloop.cases.models import OutboxEffect
from caseloop.customers.models import Organization, PurchaseRecord
from caseloop.customers.services import Identity, customer_find_or_create
from caseloop.insights import problem_fixes, problem_notices, problems
from caseloop.insights.models import (
    ProblemChange,
    ProblemFollower,
    ProblemNotice,
    ProblemStatus,
)
from caseloop.insights.problem_impact import contacts_prevented, problem_impact
from tests.builders import bearer, make_agent, make_case, make_customer, make_user

pytestmark = pytest.mark.django_db

KETTLE = "Kettle K2"
FIX = "We replaced the faulty thermostat batch; new kettles switch off as they should."
DEFAULT_TIME = timezone.now()


def run_effects() -> None:
    """What the worker does: run every due outbox effect, and those they record."""
    while outbox.effects_sweep():
        pass


def manager():
    return make_user(role=Role.MANAGER)


_orders = iter(range(1, 10_000))


def bought(customer, product=KETTLE, *, days_ago=30):
    PurchaseRecord.objects.create(
        customer=customer,
        order_id=f"ORD-{next(_orders)}",
        product=product,
        purchased_at=timezone.now() - timedelta(days=days_ago),
        amount=Decimal("49.00"),
    )
    return customer


def phone_only(name):
    return customer_find_or_create(identity=Identity(phone="+442071234567", name=name))


def kettle_problem(boss, *cases, banner=True):
    problem = problems.problem_create(
        actor=boss, title="Thermostat batch 7 fails QA", product=KETTLE, cases=cases
    )
    problems.problem_update(
        problem=problem,
        actor=boss,
        why_chain=["Kettles do not switch off", "Batch 7 thermostats stick"],
        workaround="Internal: replace from stock bin 4.",
    )
    problem = problems.problem_transition(problem=problem, to=ProblemStatus.KNOWN_ERROR, actor=boss)
    return problem_notices.problem_banner_set(
        problem=problem,
        actor=boss,
        public_title="Some K2 kettles do not switch off",
        public_summary="Unplug the kettle after boiling until we send the fix.",
        show_banner=banner,
    )


def kettle_world(boss):
    """Five buyers of the kettle (one already wrote, one has no email), one buyer of
    something else."""
    ann = bought(make_customer(name="Ann Lee", email="ann@example.com"))
    bob = bought(make_customer(name="Bob Stone", email="bob@example.com"))
    cat = bought(make_customer(name="Cat Diaz", email="cat@example.com"))
    wrote = bought(make_customer(name="Dan Wu", email="dan@example.com"))
    silent = bought(phone_only("Eve Phone"))
    bought(make_customer(name="Fay Toaster", email="fay@example.com"), product="Toaster T1")
    case = make_case(customer=wrote, subject="Kettle keeps boiling", text="It never stops.")
    problem = kettle_problem(boss, case)
    run_effects()  # the case's acknowledgement and intake
    mail.outbox.clear()
    return problem, {"ann": ann, "bob": bob, "cat": cat, "wrote": wrote, "silent": silent}


# --- the audience ---------------------------------------------------------------------------


def test_the_buyers_who_have_not_written_are_previewed_and_those_without_email_counted():
    boss = manager()
    problem, people = kettle_world(boss)
    preview = problem_notices.problem_audience_preview(problem=problem, actor=boss)
    assert (preview.reason, preview.group, preview.wrote_before) == ("purchase", 5, 1)
    assert (preview.reachable, preview.without_email, preview.already_told) == (3, 1, 0)
    assert [(r.name, r.email) for r in preview.rows] == [
        ("Ann Lee", "ann@example.com"),
        ("Bob Stone", "bob@example.com"),
        ("Cat Diaz", "cat@example.com"),
    ]
    assert preview.contact_rate == pytest.approx(0.2)


def test_notices_reach_each_buyer_once_by_email_through_the_outbox():
    boss = manager()
    problem, people = kettle_world(boss)
    mail.outbox.clear()
    sending = problem_notices.problem_notices_send(problem=problem, actor=boss)
    assert (sending.queued, sending.preview.without_email) == (3, 1)
    notices = ProblemNotice.objects.filter(problem=problem)
    assert {n.state for n in notices} == {"queued"}
    assert OutboxEffect.objects.filter(kind=problem_notices.NOTICE_MAIL_EFFECT).count() == 3
    assert mail.outbox == []  # nothing is mailed before the worker runs

    run_effects()
    assert sorted(m.to[0] for m in mail.outbox) == [
        "ann@example.com",
        "bob@example.com",
        "cat@example.com",
    ]
    ann_mail = next(m for m in mail.outbox if m.to == ["ann@example.com"])
    assert ann_mail.subject.startswith("Some K2 kettles do not switch off")
    assert ann_mail.body.startswith("Hello Ann Lee,")
    assert "Unplug the kettle after boiling" in ann_mail.body
    assert "Thermostat batch 7" not in ann_mail.body and "stock bin" not in ann_mail.body
    for notice in ProblemNotice.objects.filter(problem=problem):
        assert (notice.state, notice.reason, notice.sent_by) == ("sent", "purchase", boss)
        assert notice.sent_at is not None
    assert not ProblemNotice.objects.filter(customer__in=[people["wrote"], people["silent"]])

    # Sending again tells nobody twice, and the worker running a notice again mails nothing.
    again = problem_notices.problem_notices_send(problem=problem, actor=boss)
    assert (again.queued, again.preview.already_told) == (0, 3)
    for effect in OutboxEffect.objects.filter(kind=problem_notices.NOTICE_MAIL_EFFECT):
        problem_notices.problem_notice_mail(effect.payload)
    assert len(mail.outbox) == 3
    history = ProblemChange.objects.filter(problem=problem, kind="notices_sent")
    assert [(c.actor, c.data["queued"], c.data["group"]) for c in history] == [
        (boss, 3, 5),
        (boss, 0, 5),
    ]


def test_a_segment_narrows_by_organization_service_level_vip_language_and_purchase_date():
    boss = manager()
    premium = Organization.objects.create(name="Acme", service_level="premium")
    basic = Organization.objects.create(name="Bolt", service_level="standard")
    fits = bought(make_customer(name="Fits", email="fits@example.com"), days_ago=3)
    fits.organization, fits.is_vip, fits.language = premium, True, "de"
    fits.save(update_fields=["organization", "is_vip", "language"])
    old = bought(make_customer(name="Old", email="old@example.com"), days_ago=90)
    old.organization, old.is_vip, old.language = premium, True, "de"
    old.save(update_fields=["organization", "is_vip", "language"])
    other_org = bought(make_customer(name="Other", email="other@example.com"), days_ago=3)
    other_org.organization, other_org.is_vip, other_org.language = basic, True, "de"
    other_org.save(update_fields=["organization", "is_vip", "language"])
    not_vip = bought(make_customer(name="Plain", email="plain@example.com"), days_ago=3)
    not_vip.organization, not_vip.language = premium, "de"
    not_vip.save(update_fields=["organization", "language"])
    problem = kettle_problem(boss)

    since = (timezone.localdate() - timedelta(days=10)).isoformat()
    segment = problem_notices.segment_clean(
        product="kettle k2",
        bought_since=since,
        service_level="Premium",
        vip_only=True,
        language="DE",
    )
    preview = problem_notices.problem_audience_preview(problem=problem, actor=boss, segment=segment)
    assert (preview.reason, [r.name for r in preview.rows]) == ("segment", ["Fits"])
    by_org = problem_notices.segment_clean(organization_id=str(basic.pk))
    assert [
        r.name
        for r in problem_notices.problem_audience_preview(
            problem=problem, actor=boss, segment=by_org
        ).rows
    ] == ["Other"]

    sending = problem_notices.problem_notices_send(
        problem=problem,
        actor=boss,
        segment=segment,
        text="Hi {customer_name}: {title}. {summary}",
    )
    assert sending.queued == 1
    notice = ProblemNotice.objects.get(problem=problem)
    assert (notice.customer, notice.reason, notice.address) == (fits, "segment", "fits@example.com")
    assert notice.text == (
        "Hi Fits: Some K2 kettles do not switch off. Unplug the kettle after boiling until we "
        "send the fix."
    )
    assert not ProblemNotice.objects.filter(customer__in=[old, other_org, not_vip]).exists()


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({}, "segment"),
        ({"bought_since": "last tuesday"}, "bought_since"),
        ({"bought_since": "2026-02-30"}, "bought_since"),
        ({"bought_since": "2999-01-01"}, "bought_since"),
        ({"organization_id": "999999"}, "organization_id"),
        ({"organization_id": "acme"}, "organization_id"),
        ({"language": "x" * 17}, "language"),
        ({"product": "p" * 201}, "product"),
    ],
)
def test_a_bad_segment_is_refused_naming_the_field(criteria, field):
    with pytest.raises(problems.ProblemError) as refused:
        problem_notices.segment_clean(**criteria)
    assert refused.value.facts()["field"] == field


def test_only_managers_tell_customers_and_only_about_an_open_problem_with_public_text():
    boss, agent = manager(), make_agent()
    problem, _ = kettle_world(boss)
    with pytest.raises(problems.ProblemForbidden):
        problem_notices.problem_audience_preview(problem=problem, actor=agent)
    with pytest.raises(problems.ProblemForbidden):
        problem_notices.problem_notices_send(problem=problem, actor=agent)
    with pytest.raises(problems.ProblemError, match="placeholder"):
        problem_notices.problem_notices_send(problem=problem, actor=boss, text="{reference}")
    problem_notices.problem_banner_set(
        problem=problem, actor=boss, public_title="", public_summary="", show_banner=False
    )
    with pytest.raises(problems.ProblemConflict, match="public title"):
        problem_notices.problem_notices_send(problem=problem, actor=boss)
    assert not ProblemNotice.objects.exists()


def test_the_coach_holds_a_notice_that_blames_the_customer():
    boss = manager()
    problem, _ = kettle_world(boss)
    with pytest.raises(problem_notices.NoticeObjection) as held:
        problem_notices.problem_notices_send(
            problem=problem, actor=boss, text="{summary} You should have read the manual."
        )
    assert "no-blame" in {f["rule_id"] for f in held.value.facts()["findings"]}
    assert not ProblemNotice.objects.exists()
    assert not OutboxEffect.objects.filter(kind=problem_notices.NOTICE_MAIL_EFFECT).exists()


def test_a_notice_the_mail_server_refuses_is_retried_then_left_failed_with_why(settings):
    boss = manager()
    problem, _ = kettle_world(boss)
    problem_notices.problem_notices_send(
        problem=problem, actor=boss, segment=problem_notices.segment_clean(language="en")
    )
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    moment = timezone.now()
    for _ in range(8):
        with time_machine.travel(moment, tick=False):
            outbox.effects_sweep()
        moment += timedelta(hours=2)
    states = set(ProblemNotice.objects.values_list("state", flat=True))
    assert states == {"failed"}
    assert all(ProblemNotice.objects.values_list("error", flat=True))


# --- wrote anyway, and the impact -----------------------------------------------------------


def test_a_noticed_customer_who_writes_anyway_is_recorded_on_their_notice_however_linked():
    boss, agent = manager(), make_agent()
    problem, people = kettle_world(boss)
    before = make_case(customer=people["bob"], subject="Kettle question", text="Descaling?")
    problem_notices.problem_notices_send(problem=problem, actor=boss)
    run_effects()

    anyway = make_case(customer=people["ann"], subject="Kettle keeps boiling", text="Help.")
    problems.problem_case_link(problem=problem, case=anyway, actor=agent)
    # A case Bob opened before his notice is linked later: he did not write after it.
    problems.problem_case_link(problem=problem, case=before, actor=agent)
    notices = {n.customer_id: n for n in ProblemNotice.objects.filter(problem=problem)}
    assert notices[people["ann"].pk].wrote_after == anyway
    assert notices[people["bob"].pk].wrote_after is None
    assert notices[people["cat"].pk].wrote_after is None


def test_impact_counts_followers_notices_and_those_who_wrote_anyway():
    boss, agent = manager(), make_agent()
    problem, people = kettle_world(boss)
    second_writer = bought(make_customer(name="Gus", email="gus@example.com"))
    problems.problem_case_link(problem=problem, case=make_case(customer=second_writer), actor=agent)
    # Group of 6 buyers, 2 of whom wrote before: a contact rate of 1/3.
    problem_notices.problem_notices_send(problem=problem, actor=boss)
    run_effects()
    problems.problem_case_link(problem=problem, case=make_case(customer=people["ann"]), actor=agent)
    problem_notices.problem_follow(problem_id=problem.pk, email="fan@example.com", via="web_form")
    problem_notices.problem_follow(
        problem_id=problem.pk, email="bob@example.com", via="help_centre"
    )

    impact = problem_impact(problem)
    assert (impact.cases_linked, impact.followers, impact.notices_sent) == (3, 2, 3)
    assert (impact.wrote_anyway, impact.expected_contacts) == (1, 1)
    assert impact.contact_rate == pytest.approx(2 / 6)
    # 2 followers + max(0, round(3 × 1/3) − 1)
    assert impact.contacts_prevented == 2


def test_contacts_prevented_never_takes_off_more_than_it_expected():
    assert contacts_prevented(followers=4, notices_sent=10, contact_rate=0.25, wrote_anyway=1) == (
        3,
        6,
    )
    assert contacts_prevented(followers=0, notices_sent=10, contact_rate=0.05, wrote_anyway=3) == (
        1,
        0,
    )


# --- followers and the fix ------------------------------------------------------------------


def test_a_follower_is_linked_to_the_customer_whose_address_it_is_and_follows_once():
    boss = manager()
    problem, people = kettle_world(boss)
    follower, created = problem_notices.problem_follow(
        problem_id=problem.pk, email=" ANN@example.com ", via="help_centre"
    )
    assert (created, follower.customer, follower.email) == (True, people["ann"], "ann@example.com")
    again, created = problem_notices.problem_follow(
        problem_id=problem.pk, email="ann@example.com", via="web_form"
    )
    assert (created, again.pk) == (False, follower.pk)
    stranger, _ = problem_notices.problem_follow(
        problem_id=problem.pk, email="new@example.com", via="web_form"
    )
    assert stranger.customer is None
    # Already following: not told again by a notice.
    preview = problem_notices.problem_audience_preview(problem=problem, actor=boss)
    assert "ann@example.com" not in [r.email for r in preview.rows]


def test_the_fix_reaches_each_follower_once_through_the_outbox():
    boss = manager()
    problem, people = kettle_world(boss)
    problem_notices.problem_follow(problem_id=problem.pk, email="ann@example.com", via="portal")
    problem_notices.problem_follow(problem_id=problem.pk, email="fan@example.com", via="web_form")
    problems.problem_update(problem=problem, actor=boss, permanent_fix=FIX)
    run_effects()
    mail.outbox.clear()

    publication = problem_fixes.problem_fix_publish(problem=problem, actor=boss)
    assert (publication.cases_notified, publication.followers_notified) == (1, 2)
    run_effects()
    told = sorted(m.to[0] for m in mail.outbox if m.subject.startswith("Fixed:"))
    assert told == ["ann@example.com", "fan@example.com"]
    ann = next(m for m in mail.outbox if m.to == ["ann@example.com"])
    assert ann.body.startswith("Hello Ann Lee,") and FIX in ann.body
    assert "Some K2 kettles do not switch off" in ann.body
    assert all(ProblemFollower.objects.values_list("fix_sent_at", flat=True))

    # Publishing again, or the worker running an effect again, tells nobody twice.
    problem_fixes.problem_fix_publish(problem=problem, actor=boss)
    run_effects()
    for effect in OutboxEffect.objects.filter(kind=problem_notices.FOLLOWER_FIX_EFFECT):
        problem_notices.problem_follower_fix_mail(effect.payload)
    assert len([m for m in mail.outbox if m.subject.startswith("Fixed:")]) == 2


def test_a_fix_that_blames_the_customer_is_held_for_followers_too():
    boss = manager()
    problem = kettle_problem(boss)
    problem_notices.problem_follow(problem_id=problem.pk, email="fan@example.com", via="web_form")
    problems.problem_update(
        problem=problem, actor=boss, permanent_fix="You should have read the manual."
    )
    with pytest.raises(problem_fixes.FixNoticeObjection):
        problem_fixes.problem_fix_publish(problem=problem, actor=boss)
    problem.refresh_from_db()
    assert problem.status == "known_error"


def test_only_an_announced_problem_can_be_followed():
    boss = manager()
    hidden = kettle_problem(boss, banner=False)
    with pytest.raises(problem_notices.KnownIssueGone):
        problem_notices.problem_follow(problem_id=hidden.pk, email="a@example.com", via="web_form")
    for bad in ("", "not-an-address", "a@" + "x" * 330 + ".com"):
        with pytest.raises(problem_notices.KnownIssueRefused):
            problem_notices.problem_follow(problem_id=hidden.pk, email=bad, via="web_form")
    assert not ProblemFollower.objects.exists()


def test_a_banner_needs_its_public_text_and_every_change_is_in_the_history():
    boss, agent = manager(), make_agent()
    problem = kettle_problem(boss, banner=False)
    with pytest.raises(problems.ProblemError, match="public title and summary"):
        problem_notices.problem_banner_set(
            problem=problem, actor=boss, public_title="Kettles", public_summary="", show_banner=True
        )
    with pytest.raises(problems.ProblemForbidden):
        problem_notices.problem_banner_set(
            problem=problem, actor=agent, public_title="x", public_summary="y", show_banner=True
        )
    problem_notices.problem_banner_set(
        problem=problem,
        actor=boss,
        public_title="Some K2 kettles do not switch off",
        public_summary="Unplug the kettle after boiling until we send the fix.",
        show_banner=True,
    )
    banner = ProblemChange.objects.filter(problem=problem, kind="banner_changed").last()
    assert banner.data["after"] == {"show_banner": True}
    assert [p.pk for p in problem_notices.problems_announced()] == [problem.pk]
    problems.problem_update(problem=problem, actor=boss, permanent_fix=FIX)
    problem_fixes.problem_fix_publish(problem=problem, actor=boss)
    assert problem_notices.problems_announced() == []


# --- the API --------------------------------------------------------------------------------


def test_managers_preview_send_and_list_notices_and_followers_through_the_api(
    api, django_assert_num_queries
):
    boss, agent = manager(), make_agent()
    problem, people = kettle_world(boss)
    base = f"/api/v1/problems/{problem.pk}"
    assert api.post(f"{base}/notices/preview", {}, headers=bearer(agent)).status_code == 403
    headers = bearer(boss)

    preview = api.post(f"{base}/notices/preview", {}, headers=headers)
    assert preview.status_code == 200
    body = preview.json()
    assert (body["reachable"], body["without_email"], body["group"]) == (3, 1, 5)
    assert [r["email"] for r in body["rows"]][0] == "ann@example.com"

    bad = api.post(
        f"{base}/notices/preview",
        {"audience": "segment", "bought_since": "soon"},
        headers=headers,
    )
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.content.decode()
    mixed = api.post(f"{base}/notices/preview", {"language": "en"}, headers=headers)
    assert mixed.status_code == 422
    assert (
        api.post(f"{base}/notices/preview", {"audience": "all"}, headers=headers).status_code == 422
    )

    sent = api.post(f"{base}/notices", {"audience": "segment", "product": KETTLE}, headers=headers)
    assert sent.status_code == 201 and sent.json()["queued"] == 3
    run_effects()
    problem_notices.problem_follow(problem_id=problem.pk, email="fan@example.com", via="web_form")

    with django_assert_num_queries(3):  # token with its user, the problem, the notices
        listed = api.get(f"{base}/notices", headers=headers)
    # A segment of just the problem's product is its buyers.
    assert [(n["address"], n["state"], n["reason"]) for n in listed.json()] == [
        ("cat@example.com", "sent", "purchase"),
        ("bob@example.com", "sent", "purchase"),
        ("ann@example.com", "sent", "purchase"),
    ]
    with django_assert_num_queries(3):  # token with its user, the problem, the followers
        followers = api.get(f"{base}/followers", headers=headers)
    assert [(f["email"], f["via"], f["customer_id"]) for f in followers.json()] == [
        ("fan@example.com", "web_form", None)
    ]
    assert api.get(f"{base}/notices", headers=bearer(agent)).status_code == 403

    detail = api.get(base, headers=bearer(agent)).json()
    assert detail["impact"] == {
        "cases_linked": 1,
        "followers": 1,
        "notices_sent": 3,
        "notices_queued": 0,
        "notices_failed": 0,
        "wrote_anyway": 0,
        "contact_rate": 0.2,
        "expected_contacts": 1,
        "contacts_prevented": 2,
    }
    assert (detail["public_title"], detail["show_banner"]) == (
        "Some K2 kettles do not switch off",
        True,
    )


def test_the_banner_is_set_through_the_api_and_refused_without_its_text(api):
    boss = manager()
    problem = kettle_problem(boss, banner=False)
    url = f"/api/v1/problems/{problem.pk}/banner"
    refused = api.client.put(
        url,
        '{"public_title": "", "show_banner": true}',
        content_type="application/json",
        headers=bearer(boss),
    )
    assert refused.status_code == 422
    done = api.client.put(
        url,
        '{"public_title": "Kettles", "public_summary": "Unplug it.", "show_banner": true}',
        content_type="application/json",
        headers=bearer(boss),
    )
    assert done.status_code == 200 and done.json()["show_banner"] is True


def test_an_organization_out_of_range_is_refused_as_unknown(api):
    boss = manager()
    problem = kettle_problem(boss)
    with pytest.raises(problems.ProblemError):
        problem_notices.segment_clean(organization_id=str(10**30))
    response = api.post(
        f"/api/v1/problems/{problem.pk}/notices/preview",
        {"audience": "segment", "organization_id": 10**30},
        headers=bearer(boss),
    )
    assert response.status_code == 422
