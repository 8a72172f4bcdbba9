import re

import pytest

from caseloop.cases.loop import errors as loop_errors, plans as loop_plans, problem as loop_problem
from caseloop.cases.loop.tokens import token_make
from caseloop.cases.models import Consent, LoopSettings, Message, ProblemStatement
from tests.builders import bearer, make_agent, make_case, make_customer_user

from .helpers import kinds, link_path, old_token

pytestmark = pytest.mark.django_db


def _shared_plan(agent=None):
    agent = agent or make_agent()
    case = make_case(actor=agent)
    plan = loop_plans.plan_create(
        case=case,
        summary="Replace the kettle",
        steps=["Ship a new kettle", "Collect the old one"],
        expected_timeline="within 5 business days",
        actor=agent,
    )
    message = loop_plans.plan_share(plan=plan, actor=agent)
    return case, plan, message


LINK = re.compile(r"^(Yes, go ahead|No|I would suggest something else): http://[^/]+(/\S+)$", re.M)


def _links(text: str) -> dict[str, str]:
    """The paths of the signed links in a shared plan, by their label."""
    return dict(LINK.findall(text))


def test_sharing_the_plan_sends_it_on_the_customers_channel_with_signed_links():
    case, plan, message = _shared_plan()
    assert message.direction == "outbound" and message.channel == case.channel == "email"
    assert "Replace the kettle" in message.text and "within 5 business days" in message.text
    assert "1. Ship a new kettle" in message.text
    assert set(_links(message.text)) == {"Yes, go ahead", "No", "I would suggest something else"}
    plan.refresh_from_db()
    assert plan.state == "shared" and plan.shared_message_id == message.pk
    assert "plan_shared" in kinds(case)


def test_consent_by_a_valid_signed_link_is_recorded_with_time_and_channel(client):
    case, plan, message = _shared_plan()
    path = _links(message.text)["Yes, go ahead"]
    page = client.get(path)
    assert page.status_code == 200 and b"Replace the kettle" in page.content
    assert not Consent.objects.exists(), "opening the link records nothing"
    answered = client.post(path)
    assert answered.status_code == 200 and b"We have your answer" in answered.content
    consent = Consent.objects.get()
    assert (consent.decision, consent.channel, consent.recorded_by) == ("approved", "link", None)
    assert consent.recorded_at is not None
    plan.refresh_from_db()
    assert plan.state == "approved"
    event = case.events.get(kind="plan_consent")
    assert event.data["decision"] == "approved" and event.data["channel"] == "link"
    again = client.post(path)
    assert again.status_code == 200 and Consent.objects.count() == 1


def test_a_tampered_link_is_refused_and_nothing_is_recorded(client):
    case, plan, message = _shared_plan()
    path = _links(message.text)["No"]
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = token_make(purpose="plan", object_id=plan.pk, answer="declined")[:-3] + "abc"
    for bad in (token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), forged):
        response = client.post(link_path("plan", bad))
        assert response.status_code == 400
        assert b"not valid" in response.content and b"Nothing was recorded" in response.content
    # A token signed for another purpose does not work here either.
    other = token_make(purpose="followup", object_id=plan.pk, answer="approved")
    assert client.post(link_path("plan", other)).status_code == 400
    assert not Consent.objects.exists() and "plan_consent" not in kinds(case)


def test_an_expired_link_is_refused_and_nothing_is_recorded(client):
    LoopSettings.objects.create(link_max_age_days=14)
    case, plan, _ = _shared_plan()
    stale = old_token(purpose="plan", object_id=plan.pk, answer="approved", age_days=15)
    response = client.post(link_path("plan", stale))
    assert response.status_code == 410 and b"expired" in response.content
    fresh = old_token(purpose="plan", object_id=plan.pk, answer="approved", age_days=13)
    assert client.post(link_path("plan", fresh)).status_code == 200
    assert Consent.objects.get().decision == "approved"


def test_a_counter_proposal_by_link_keeps_the_customers_words(client):
    case, plan, message = _shared_plan()
    path = _links(message.text)["I would suggest something else"]
    empty = client.post(path, {"note": ""})
    assert empty.status_code == 422 and not Consent.objects.exists()
    assert client.post(path, {"note": "Refund me instead"}).status_code == 200
    consent = Consent.objects.get()
    assert consent.decision == "counter" and consent.note == "Refund me instead"
    plan.refresh_from_db()
    assert plan.state == "countered"


def test_an_agent_records_a_verbal_yes_from_a_call(api):
    agent = make_agent()
    case, plan, _ = _shared_plan(agent)
    response = api.post(
        f"/api/v1/cases/{case.pk}/plan/consent",
        {"decision": "approved", "channel": "phone", "note": "Said yes on the phone"},
        headers=bearer(agent),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "approved"
    assert body["consents"][0]["channel"] == "phone"
    assert body["consents"][0]["recorded_by"]["username"] == agent.username


def test_the_portal_records_consent_through_the_service_and_the_customer_api(api):
    case, plan, _ = _shared_plan()
    loop_plans.plan_consent_record(plan=plan, decision="declined", channel="portal")
    customer = make_customer_user(customer=case.customer)
    response = api.post(
        f"/api/v1/cases/{case.pk}/plan/consent",
        {"decision": "approved", "channel": "phone"},
        headers=bearer(customer),
    )
    assert response.status_code == 200
    assert [(c.decision, c.channel) for c in Consent.objects.order_by("id")] == [
        ("declined", "portal"),
        ("approved", "portal"),
    ]
    stranger = make_customer_user()
    assert (
        api.post(
            f"/api/v1/cases/{case.pk}/plan/consent",
            {"decision": "approved"},
            headers=bearer(stranger),
        ).status_code
        == 404
    )


def test_an_unshared_plan_cannot_be_answered_by_link_and_a_replaced_plan_not_at_all():
    agent = make_agent()
    case = make_case(actor=agent)
    draft = loop_plans.plan_create(case=case, summary="Draft", actor=agent)
    with pytest.raises(loop_errors.LoopStateError, match="not been shared"):
        loop_plans.plan_consent_record(plan=draft, decision="approved", channel="link")
    loop_plans.plan_create(case=case, summary="Better plan", actor=agent)
    with pytest.raises(loop_errors.LoopStateError, match="replaced"):
        loop_plans.plan_consent_record(
            plan=draft, decision="approved", channel="phone", actor=agent
        )


def test_problem_paraphrase_is_confirmed_or_corrected_by_signed_link(client):
    agent = make_agent()
    case = make_case(actor=agent)
    loop_problem.problem_paraphrase_set(
        case=case, paraphrase="Your kettle never arrived", actor=agent
    )
    message = loop_problem.problem_send_for_confirmation(case=case, actor=agent)
    assert "\n\nHere is what I understood:\n\nYour kettle never arrived\n\n" in message.text
    urls = re.findall(r"http://127\.0\.0\.1:8000(/loop/problem/\S+/)", message.text)
    confirm, correct = urls
    assert client.post(correct, {"note": "It arrived broken"}).status_code == 200
    statement = ProblemStatement.objects.get(case=case)
    assert statement.confirmation == "corrected" and statement.correction == "It arrived broken"
    assert statement.answer_channel == "link"
    assert client.post(confirm).status_code == 200
    statement.refresh_from_db()
    assert statement.confirmation == "confirmed"
    log = kinds(case)
    assert log.count("problem_answered") == 2 and "problem_sent_for_confirmation" in log
    tampered = confirm[:-3] + "x/"
    assert client.post(tampered).status_code == 400


def test_sent_messages_are_real_outbound_messages_on_the_case():
    case, plan, message = _shared_plan()
    assert Message.objects.filter(case=case, direction="outbound").count() == 1
    assert message.metadata["loop"] == "plan_consent"


def test_answers_by_link_are_rate_limited_per_client(client):
    from caseloop.web.loop_views import RATE_LIMIT

    case, plan, message = _shared_plan()
    bad = link_path("plan", "not-a-token")
    for _ in range(RATE_LIMIT):
        assert client.post(bad).status_code == 400
    assert client.post(bad).status_code == 429
    assert client.post(_links(message.text)["Yes, go ahead"]).status_code == 429
    assert not Consent.objects.exists()
