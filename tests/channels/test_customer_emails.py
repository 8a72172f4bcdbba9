"""Every email a customer gets is from the desk, under its own name: the acknowledgement
(with the case's portal link), the loop's letters (greeting, the agent's signature) and the
recommendation survey. Mail goes out as the worker sends it: through the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from caseloop.accounts.services import desk_identity_set
from caseloop.cases import outbox
from caseloop.cases.loop import followups, plans, problem
from caseloop.cases.models import FollowUp
from caseloop.cases.services import case_transition
from caseloop.channels.base import InboundMessage
from caseloop.channels.intake import inbound_receive
from caseloop.insights.models import SurveySettings
from tests.builders import fresh_address, make_agent, make_case, make_customer, make_customer_user

pytestmark = pytest.mark.django_db

DESK = "Northwind Home"
SENDER = "Northwind Home <support@caseloop.localhost>"


@pytest.fixture(autouse=True)
def _desk():
    desk_identity_set(name=DESK)


def run_effects() -> None:
    """What the worker does: run every due outbox effect, and those they record."""
    while outbox.effects_sweep():
        pass


def sent_with(text: str):
    [found] = [m for m in mail.outbox if text in m.body]
    return found


@pytest.fixture
def agent():
    return make_agent(first_name="Maya", last_name="Okafor")


@pytest.fixture
def case(agent, django_capture_on_commit_callbacks):
    customer = make_customer(email="dana@example.com", name="Dana Scully")
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(customer=customer, subject="Lid cracked", channel="email", actor=agent)
    run_effects()
    return case


def test_the_acknowledgement_names_the_desk_and_links_the_case_in_the_portal(case, settings):
    ack = sent_with("Thank you for contacting")
    assert ack.from_email == SENDER and case.reference in ack.subject
    assert f"Thank you for contacting {DESK}." in ack.body
    link = f"{settings.SITE_URL}/portal/cases/{case.pk}/"
    assert f"Follow your case and write to us online: {link}\n" in ack.body
    assert ack.body.rstrip().endswith(f"The {DESK} team")
    # The link carries no sign-in: it asks for one, then shows the case.
    client = Client(REMOTE_ADDR=fresh_address())
    path = link.removeprefix(settings.SITE_URL)
    assert client.get(path).url == "/portal/sign-in/"
    client.force_login(make_customer_user(customer=case.customer))
    assert b"Lid cracked" in client.get(path).content


def test_a_customer_without_an_email_address_gets_no_portal_line(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        result = inbound_receive(
            InboundMessage(channel="phone", phone="+14155550177", name="Ann", text="It sparks.")
        )
    ack = result.case.messages.get(direction="outbound")
    assert f"Thank you for contacting {DESK}." in ack.text
    assert "portal" not in ack.text and "online" not in ack.text
    assert "\n\n\n" not in ack.text


def test_without_an_identity_the_setting_names_the_desk(
    settings, django_capture_on_commit_callbacks
):
    from caseloop.accounts.models import DeskIdentity

    DeskIdentity.objects.all().delete()
    settings.DESK_NAME = "Acme Support"
    with django_capture_on_commit_callbacks(execute=True):
        make_case(customer=make_customer(email="zed@example.com"), channel="email")
    run_effects()
    ack = sent_with("Thank you for contacting")
    assert "Thank you for contacting Acme Support." in ack.body
    assert ack.from_email == "Acme Support <support@caseloop.localhost>"


def test_the_paraphrase_is_a_letter_from_the_agent_for_the_desk(case, agent):
    problem.problem_paraphrase_set(case=case, paraphrase="The kettle lid cracked.", actor=agent)
    problem.problem_send_for_confirmation(case=case, actor=agent)
    run_effects()
    letter = sent_with("Here is what I understood")
    assert letter.from_email == SENDER
    assert letter.body.startswith("Hi Dana Scully,\n\nHere is what I understood:")
    assert letter.body.endswith(f"\n\nBest regards,\nMaya Okafor\n{DESK}")


def test_the_plan_and_its_updates_are_letters_from_the_agent(case, agent):
    plan = plans.plan_create(case=case, summary="A new lid by Friday.", actor=agent)
    plans.plan_share(plan=plan, actor=agent)
    plans.plan_update_send(plan=plan, actor=agent, text="The lid is on its way.")
    run_effects()
    for text in ("Here is what we propose", "The lid is on its way."):
        letter = sent_with(text)
        assert letter.from_email == SENDER
        assert letter.body.startswith("Hi Dana Scully,\n\n")
        assert letter.body.endswith(f"\n\nBest regards,\nMaya Okafor\n{DESK}")


def test_the_follow_up_is_a_letter_from_the_cases_owner(
    case, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(case=case, to="open", actor=agent)
        case_transition(case=case, to="solved", actor=agent)
    followup = FollowUp.objects.get(case=case)
    followups.followups_process(now=followup.due_at + timedelta(minutes=1))
    run_effects()
    letter = sent_with("We believe your case")
    assert letter.from_email == SENDER
    assert letter.body.startswith(f"Hi Dana Scully,\n\nWe believe your case {case.reference}")
    assert letter.body.endswith(f"\n\nBest regards,\nMaya Okafor\n{DESK}")


def test_the_recommendation_survey_names_the_desk(case, agent):
    SurveySettings.objects.create(nps_period_days=90, nps_delay_hours=0, nps_link_days=30)
    case_transition(case=case, to="open", actor=agent)
    case_transition(case=case, to="solved", actor=agent)
    run_effects()
    survey = sent_with("How likely are you to recommend")
    assert survey.from_email == SENDER
    assert f"How likely are you to recommend {DESK} to a friend" in survey.body
    assert survey.body.rstrip().endswith(f"The {DESK} team")
