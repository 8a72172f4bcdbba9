"""The recommendation (NPS) survey after a solved case, by email link and portal, at most once
per customer per period; recoveries after low scores; comment themes from triage's model."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client
from django.utils import timezone

from caseloop.accounts.models import Role
from caseloop.cases import outbox
from caseloop.cases.errors import CaseValidationError
from caseloop.cases.loop.tokens import token_make
from caseloop.cases.models import Status
from caseloop.cases.services import case_transition
from caseloop.customers.services import Identity, customer_find_or_create
from caseloop.insights import surveys
from caseloop.insights.models import (
    CommentTheme,
    NpsResponse,
    Recovery,
    SurveyInvitation,
    SurveySettings,
)
from caseloop.insights.services import nps_record, rating_record
from caseloop.triage.models import KeywordRule
from tests.builders import (
    fresh_address,
    make_agent,
    make_case,
    make_category,
    make_customer,
    make_customer_user,
    make_user,
)

pytestmark = pytest.mark.django_db

SURVEY_SUBJECT = "How likely are you to recommend us?"


@pytest.fixture
def client():
    """Survey answers are rate-limited per client address: each test has its own."""
    return Client(REMOTE_ADDR=fresh_address())


@pytest.fixture(autouse=True)
def rules():
    return SurveySettings.objects.create(nps_period_days=90, nps_delay_hours=0, nps_link_days=30)


def run_effects(now=None) -> None:
    """What the worker does: run every due outbox effect, and those they record."""
    while outbox.effects_sweep(now=now):
        pass


def solve(case, agent):
    case.refresh_from_db()
    if case.status != Status.OPEN:
        case_transition(case=case, to=Status.OPEN, actor=agent)
    case_transition(case=case, to=Status.SOLVED, actor=agent)
    run_effects()
    case.refresh_from_db()
    return case


def survey_mails():
    return [m for m in mail.outbox if SURVEY_SUBJECT in m.subject]


def link_path(message) -> str:
    return re.search(r"http://[^/\s]+(/survey/nps/\S+/)", message.body).group(1)


def test_a_solved_case_sends_the_survey_by_email_through_the_outbox():
    agent = make_agent()
    customer = make_customer(email="ines@example.com", name="Ines")
    case = make_case(customer=customer, actor=agent)
    case_transition(case=case, to=Status.OPEN, actor=agent)
    case_transition(case=case, to=Status.SOLVED, actor=agent)
    # Recorded with the change, sent by the worker: nothing is sent in the request.
    assert not SurveyInvitation.objects.exists() and not survey_mails()
    run_effects()
    invitation = SurveyInvitation.objects.get(case=case)
    assert (invitation.state, invitation.channel) == ("sent", "email")
    assert invitation.expires_at - invitation.sent_at == timedelta(days=30)
    [sent] = survey_mails()
    assert sent.to == ["ines@example.com"] and case.reference in sent.subject
    assert sent.extra_headers["Auto-Submitted"] == "auto-replied"
    assert "from 0 (not at all likely) to 10" in sent.body and "Hello Ines" in sent.body
    assert invitation.message.delivery_status == "sent"
    event = case.events.get(kind="nps_survey_sent")
    assert event.data["invitation"] == invitation.pk and event.data["channel"] == "email"
    run_effects()
    assert len(survey_mails()) == 1


def test_a_second_case_solved_within_the_period_sends_no_survey_and_one_after_it_does(rules):
    agent = make_agent()
    customer = make_customer(email="pat@example.com")
    first = solve(make_case(customer=customer, actor=agent), agent)
    second = solve(make_case(customer=customer, actor=agent, subject="Wrong colour"), agent)
    assert len(survey_mails()) == 1
    assert list(SurveyInvitation.objects.values_list("case", flat=True)) == [first.pk]
    assert not second.events.filter(kind="nps_survey_sent").exists()
    # Another customer is asked as usual.
    solve(make_case(actor=agent), agent)
    assert len(survey_mails()) == 2

    SurveyInvitation.objects.filter(case=first).update(send_at=timezone.now() - timedelta(days=91))
    third = solve(make_case(customer=customer, actor=agent, subject="Lid broke"), agent)
    assert SurveyInvitation.objects.get(case=third).state == "sent"
    assert len(survey_mails()) == 3

    # The period is the admin's: at 200 days the customer asked 91 days ago waits.
    rules.nps_period_days = 200
    rules.save()
    SurveyInvitation.objects.filter(case=third).update(send_at=timezone.now() - timedelta(days=91))
    fourth = solve(make_case(customer=customer, actor=agent, subject="Again"), agent)
    assert not SurveyInvitation.objects.filter(case=fourth).exists()


def test_reopening_and_solving_again_does_not_ask_twice_for_one_case():
    agent = make_agent()
    case = solve(make_case(actor=agent), agent)
    case_transition(case=case, to=Status.OPEN, actor=agent)
    solve(case, agent)
    assert SurveyInvitation.objects.filter(case=case).count() == 1
    assert len(survey_mails()) == 1


def test_the_survey_waits_for_the_delay_and_is_dropped_if_the_case_reopens(rules):
    rules.nps_delay_hours = 24
    rules.save()
    agent = make_agent()
    case = solve(make_case(actor=agent), agent)
    invitation = SurveyInvitation.objects.get(case=case)
    assert invitation.state == "scheduled" and not survey_mails()
    run_effects(now=timezone.now() + timedelta(hours=23))
    assert not survey_mails()
    case_transition(case=case, to=Status.OPEN, actor=agent)
    run_effects(now=timezone.now() + timedelta(hours=25))
    invitation.refresh_from_db()
    assert invitation.state == "cancelled" and "reopened" in invitation.reason
    assert not survey_mails()
    # Solved again, the case is offered its survey again (a cancelled one does not count).
    solve(case, agent)
    run_effects(now=timezone.now() + timedelta(hours=25))
    invitation.refresh_from_db()
    assert invitation.state == "sent" and len(survey_mails()) == 1


def test_switched_off_surveys_are_not_sent(rules):
    rules.nps_enabled = False
    rules.save()
    agent = make_agent()
    solve(make_case(actor=agent), agent)
    assert not SurveyInvitation.objects.exists() and not survey_mails()


def test_the_email_link_records_the_answer_and_comment_without_signing_in(client):
    agent = make_agent()
    case = solve(make_case(actor=agent), agent)
    path = link_path(survey_mails()[0])
    page = client.get(path)
    assert page.status_code == 200 and b"How likely are you to recommend us?" in page.content
    assert not NpsResponse.objects.exists()  # a mail scanner fetching the link answers nothing

    answered = client.post(path, {"score": "9", "comment": "  Quick and kind.  "})
    assert answered.status_code == 200 and b"We have your answer" in answered.content
    response = NpsResponse.objects.get()
    assert (response.score, response.comment, response.channel) == (9, "Quick and kind.", "email")
    assert (response.case, response.customer) == (case, case.customer)
    invitation = SurveyInvitation.objects.get(case=case)
    assert invitation.state == "answered" and invitation.response == response
    event = case.events.get(kind="nps_answered")
    assert event.data == {"response": response.pk, "score": 9, "channel": "email"}
    assert event.actor is None

    again = client.post(path, {"score": "0"})
    assert again.status_code == 200 and b"already have your answer" in again.content
    assert NpsResponse.objects.count() == 1


def test_a_bad_score_on_the_link_page_is_refused_with_the_question_shown_again(client):
    agent = make_agent()
    solve(make_case(actor=agent), agent)
    path = link_path(survey_mails()[0])
    for score in ("11", "-1", "nine", ""):
        refused = client.post(path, {"score": score})
        assert refused.status_code == 422 and b"from 0 to 10" in refused.content
    assert b'name="score"' in refused.content
    assert not NpsResponse.objects.exists()


def test_a_tampered_link_is_refused_and_an_expired_one_says_the_survey_closed(client):
    agent = make_agent()
    case = solve(make_case(actor=agent), agent)
    path = link_path(survey_mails()[0])
    token = path.rstrip("/").rsplit("/", 1)[1]
    altered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for bad in (f"/survey/nps/{altered}/", "/survey/nps/not-a-token/"):
        for response in (client.get(bad), client.post(bad, {"score": "1"})):
            assert response.status_code == 400
            assert b"not valid" in response.content
    # A link signed for another purpose (the follow-up's) does not open the survey.
    other = token_make(purpose="followup", object_id=case.pk, answer="yes")
    assert client.get(f"/survey/nps/{other}/").status_code == 400

    with time_machine.travel(timezone.now() + timedelta(days=31)):
        expired = client.post(path, {"score": "3"})
    assert expired.status_code == 410 and b"this survey has closed" in expired.content
    # The admin's survey window counts too: past it the survey has closed, link or portal.
    SurveyInvitation.objects.filter(case=case).update(expires_at=timezone.now())
    assert client.get(path).status_code == 410
    assert surveys.nps_survey_open(case=case) is None
    assert not NpsResponse.objects.exists()


def test_a_signed_in_customer_answers_the_survey_in_the_portal(client):
    agent = make_agent()
    customer = make_customer(email="lea@example.com")
    user = make_customer_user(customer=customer)
    case = solve(make_case(customer=customer, actor=agent), agent)
    client.force_login(user)
    # One question at a time: the rating first, then the recommendation question.
    page = client.get(f"/portal/cases/{case.pk}/")
    assert b"Rate our service" in page.content
    assert b"How likely are you to recommend us?" not in page.content
    client.post(f"/portal/cases/{case.pk}/rate/", {"score": "5"})
    page = client.get(f"/portal/cases/{case.pk}/")
    assert b"How likely are you to recommend us?" in page.content
    done = client.post(
        f"/portal/cases/{case.pk}/nps/", {"score": "10", "comment": "Great"}, follow=True
    )
    assert b"Thank you for your answer" in done.content
    assert b'id="nps-form"' not in done.content
    response = NpsResponse.objects.get(case=case)
    assert (response.score, response.comment, response.channel) == (10, "Great", "portal")
    assert case.events.get(kind="nps_answered").actor == user
    again = client.post(f"/portal/cases/{case.pk}/nps/", {"score": "1"}, follow=True)
    assert b"no survey waiting" in again.content
    assert NpsResponse.objects.count() == 1
    # Another customer's case is not theirs to answer.
    other = solve(make_case(actor=agent), agent)
    assert client.post(f"/portal/cases/{other.pk}/nps/", {"score": "1"}).status_code == 404


def test_a_customer_without_email_is_asked_in_the_portal_only_and_unreachable_ones_not_at_all():
    agent = make_agent()
    phone_only = customer_find_or_create(identity=Identity(phone="+442079460123", name="Sam"))
    make_user(role=Role.CUSTOMER, customer=phone_only)
    case = solve(make_case(customer=phone_only, actor=agent, channel="phone"), agent)
    invitation = SurveyInvitation.objects.get(case=case)
    assert (invitation.state, invitation.channel, invitation.message) == ("sent", "portal", None)
    assert surveys.nps_survey_open(case=case) == invitation
    assert not survey_mails()

    nobody = customer_find_or_create(identity=Identity(phone="+442079460999", name="Kim"))
    unreachable = solve(make_case(customer=nobody, actor=agent, channel="phone"), agent)
    invitation = SurveyInvitation.objects.get(case=unreachable)
    assert invitation.state == "cancelled" and "no email address" in invitation.reason


def test_one_case_is_answered_once_and_the_database_holds_one_answer_per_invitation():
    agent = make_agent()
    case = solve(make_case(actor=agent), agent)
    first = nps_record(customer=case.customer, case=case, score=8, channel="phone", actor=agent)
    with pytest.raises(surveys.AlreadyAnswered):
        nps_record(customer=case.customer, case=case, score=2, channel="email")
    invitation = SurveyInvitation.objects.get(case=case)
    assert invitation.response == first
    # Whatever a service might miss, an answer belongs to one invitation at most.
    other = solve(make_case(actor=agent), agent)
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyInvitation.objects.filter(case=other).update(response=first)


def test_scores_outside_0_to_10_are_refused():
    customer = make_customer()
    for score in (-1, 11, True, 7.5):
        with pytest.raises(CaseValidationError):
            nps_record(customer=customer, score=score, channel="phone")
    answer = nps_record(customer=customer, score=0, channel="phone")
    assert answer.case is None and not Recovery.objects.exists()


def _parallel(attempt, n: int) -> list:
    start = threading.Barrier(n)

    def run(i: int):
        start.wait()
        try:
            return attempt(i)
        except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


@pytest.mark.django_db(transaction=True)
def test_answers_and_surveys_sent_at_once_are_recorded_once():
    if connection.vendor == "sqlite":
        # Parallel writers lock SQLite's in-memory test database ("table is locked"); there
        # the constraint test above and SQLite's single writer (IMMEDIATE transactions) hold.
        pytest.skip("SQLite's in-memory test database cannot take parallel writers")
    agent = make_agent()
    customer = make_customer()
    case = solve(make_case(customer=customer, actor=agent), agent)
    outcomes = _parallel(
        lambda i: nps_record(customer=customer, case=case, score=i, channel="email"), 8
    )
    assert sum(isinstance(o, NpsResponse) for o in outcomes) == 1
    assert all(isinstance(o, (NpsResponse, surveys.AlreadyAnswered)) for o in outcomes)
    assert NpsResponse.objects.filter(case=case).count() == 1
    assert case.events.filter(kind="nps_answered").count() == 1

    # Two cases of one customer solved at once: one survey in the period.
    others = [make_case(customer=customer, actor=agent, subject=f"Case {i}") for i in range(4)]
    SurveyInvitation.objects.all().delete()
    # Solved with surveys off, so the status hook (run at each commit here) schedules none.
    SurveySettings.objects.update(nps_enabled=False)
    for other in others:
        case_transition(case=other, to=Status.OPEN, actor=agent)
        case_transition(case=other, to=Status.SOLVED, actor=agent)
    SurveySettings.objects.update(nps_enabled=True)
    _parallel(lambda i: surveys.nps_survey_schedule(case_id=others[i].pk), len(others))
    assert SurveyInvitation.objects.filter(customer=customer).count() == 1


def test_low_scores_open_a_recovery_for_the_owner_and_higher_ones_do_not():
    owner = make_agent()
    cases = [solve(make_case(actor=owner, subject=f"Case {i}"), owner) for i in range(4)]
    csat_low, csat_ok, nps_low, nps_ok = cases
    rating_record(case=csat_low, customer=csat_low.customer, score=2, comment="Too slow")
    rating_record(case=csat_ok, customer=csat_ok.customer, score=3)
    nps_record(customer=nps_low.customer, case=nps_low, score=6, channel="email")
    nps_record(customer=nps_ok.customer, case=nps_ok, score=7, channel="email")
    recoveries = {r.case_id: r for r in Recovery.objects.all()}
    assert set(recoveries) == {csat_low.pk, nps_low.pk}
    assert (recoveries[csat_low.pk].source, recoveries[csat_low.pk].score) == ("csat", 2)
    assert (recoveries[nps_low.pk].source, recoveries[nps_low.pk].score) == ("nps", 6)
    assert all(r.owner == owner and r.state == "open" for r in recoveries.values())
    opened = csat_low.events.get(kind="recovery_opened")
    assert opened.data["score"] == 2 and opened.data["source"] == "csat"
    assert nps_low.events.get(kind="recovery_opened").data["score"] == 6
    for case in (csat_ok, nps_ok):
        assert not case.events.filter(kind="recovery_opened").exists()
    # Nothing is reopened: the case stays solved.
    csat_low.refresh_from_db()
    assert csat_low.status == Status.SOLVED


def test_the_owner_sees_the_recovery_in_waiting_on_me_and_marks_it_done(client):
    owner = make_agent()
    colleague = make_agent()
    case = solve(make_case(actor=owner), owner)
    rating_record(case=case, customer=case.customer, score=1, comment="Nobody called back")
    recovery = Recovery.objects.get(case=case)

    def waiting(agent) -> set[int]:
        client.force_login(agent)
        page = client.get("/inbox/", {"queue": "waiting"})
        return {c.pk for c in page.context["page"].cases}

    assert case.pk in waiting(owner) and case.pk not in waiting(colleague)
    client.force_login(owner)
    page = client.get(f"/cases/{case.pk}/")
    assert b"Service recovery" in page.content and b"Nobody called back" in page.content
    url = f"/cases/{case.pk}/recoveries/{recovery.pk}/done/"
    refused = client.post(url, {"note": "  "}, follow=True)
    assert b"say what was done" in refused.content
    recovery.refresh_from_db()
    assert recovery.state == "open"
    client.post(url, {"note": "Called her; refunded the delivery fee."})
    recovery.refresh_from_db()
    assert (recovery.state, recovery.done_by) == ("done", owner)
    event = case.events.get(kind="recovery_done")
    assert event.actor == owner and event.data["note"] == "Called her; refunded the delivery fee."
    assert case.pk not in waiting(owner)
    client.force_login(owner)
    again = client.post(url, {"note": "twice"}, follow=True)
    assert b"already done" in again.content
    # Another case's recovery is not reachable through this case.
    other = solve(make_case(actor=owner), owner)
    assert client.post(f"/cases/{other.pk}/recoveries/{recovery.pk}/done/").status_code == 404


def test_a_customer_cannot_mark_a_recovery_done(client):
    owner = make_agent()
    case = solve(make_case(actor=owner), owner)
    rating_record(case=case, customer=case.customer, score=1)
    recovery = Recovery.objects.get(case=case)
    client.force_login(make_user(role=Role.CUSTOMER, customer=case.customer))
    response = client.post(f"/cases/{case.pk}/recoveries/{recovery.pk}/done/", {"note": "x"})
    assert response.status_code == 403
    recovery.refresh_from_db()
    assert recovery.state == "open"


def test_survey_comments_are_themed_by_the_triage_model_in_the_worker():
    delivery = make_category(name="Delivery")
    billing = make_category(name="Billing")
    KeywordRule.objects.create(category=delivery, keywords="late, courier, delivery")
    KeywordRule.objects.create(category=billing, keywords="invoice, charged, refund")
    agent = make_agent()
    cases = [solve(make_case(actor=agent, subject=f"Case {i}"), agent) for i in range(4)]
    start = timezone.now()
    rating = rating_record(
        case=cases[0], customer=cases[0].customer, score=2, comment="The courier was late again"
    )
    nps = nps_record(
        customer=cases[1].customer,
        case=cases[1],
        score=4,
        comment="Delivery took three weeks",
        channel="email",
    )
    nps_record(
        customer=cases[2].customer,
        case=cases[2],
        score=5,
        comment="I was charged twice on the invoice",
        channel="portal",
    )
    rating_record(case=cases[3], customer=cases[3].customer, score=4, comment="Fine, thanks")
    nps_record(customer=make_customer(), score=9, channel="phone")  # no comment, no theme
    assert not CommentTheme.objects.exists()  # themed in the worker, not the request
    run_effects()
    assert CommentTheme.objects.count() == 4
    assert rating.theme.category == delivery and rating.theme.source == "rules"
    assert 0 < rating.theme.confidence <= 1
    nps.refresh_from_db()
    assert nps.theme.category == delivery

    themes = surveys.survey_comment_themes(start=start, end=timezone.now() + timedelta(seconds=1))
    assert [(t.name, t.count, t.csat, t.nps) for t in themes] == [
        ("Delivery", 2, 1, 1),
        ("Billing", 1, 0, 1),
        ("Unthemed", 1, 1, 0),
    ]
    assert [e.text for e in themes[0].examples] == [
        "Delivery took three weeks",
        "The courier was late again",
    ]
    assert themes[0].examples[0].source == "nps" and themes[0].examples[0].score == 4
    assert surveys.survey_comment_themes(start=start - timedelta(days=2), end=start) == []


def test_the_admin_edits_the_survey_rules_and_lists_invitations_answers_and_recoveries(
    admin_client,
):
    agent = make_agent()
    case = solve(make_case(actor=agent), agent)
    nps_record(customer=case.customer, case=case, score=3, comment="Slow", channel="email")
    rules = SurveySettings.objects.get()
    change = admin_client.post(
        f"/admin/insights/surveysettings/{rules.pk}/change/",
        {
            "nps_enabled": "on",
            "nps_period_days": "60",
            "nps_delay_hours": "2",
            "nps_link_days": "14",
        },
    )
    assert change.status_code == 302
    rules.refresh_from_db()
    assert (rules.nps_period_days, rules.nps_delay_hours, rules.nps_link_days) == (60, 2, 14)
    # One row holds the rules: no second one can be added.
    assert admin_client.get("/admin/insights/surveysettings/add/").status_code == 403
    for model in ("surveyinvitation", "npsresponse", "recovery", "commenttheme"):
        listing = admin_client.get(f"/admin/insights/{model}/")
        assert listing.status_code == 200, model
    assert case.reference.encode() in admin_client.get("/admin/insights/surveyinvitation/").content
