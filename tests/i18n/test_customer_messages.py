"""Automatic messages are written in the customer's language, whoever is working and in
whatever language: the acknowledgement, the survey invitation, the loop's letters, the
sign-in link. They reach the customer through the outbox as the worker sends them."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation

from caseloop.accounts.services import desk_identity_set
from caseloop.automation.models import AcknowledgementTemplate
from caseloop.cases import outbox
from caseloop.cases.loop import problem
from caseloop.cases.models import Status
from caseloop.cases.services import case_transition
from caseloop.customers.models import Customer
from tests.builders import fresh_address, make_agent, make_case, make_customer

pytestmark = pytest.mark.django_db

DESK = "Northwind Home"
GERMAN_DAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")


@pytest.fixture(autouse=True)
def _desk():
    desk_identity_set(name=DESK)


def run_effects() -> None:
    while outbox.effects_sweep():
        pass


def customer_speaking(language: str, *, email: str, name: str) -> Customer:
    customer = make_customer(email=email, name=name)
    customer.language = language
    customer.save(update_fields=["language"])
    return customer


def mails_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]


def new_case(customer, django_capture_on_commit_callbacks, **extra):
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(customer=customer, channel="email", **extra)
    run_effects()
    return case


def test_a_german_customer_gets_a_german_acknowledgement(django_capture_on_commit_callbacks):
    customer = customer_speaking("de", email="jonas@example.de", name="Jonas Weber")
    case = new_case(customer, django_capture_on_commit_callbacks, subject="Deckel gesprungen")
    [ack] = mails_to("jonas@example.de")
    assert (
        ack.subject.startswith("Wir haben Ihre Anfrage erhalten") and case.reference in ack.subject
    )
    assert ack.body.startswith("Guten Tag Jonas Weber,")
    assert f"vielen Dank, dass Sie sich an {DESK} gewandt haben." in ack.body
    assert "Sie erhalten eine erste Antwort bis " in ack.body
    assert any(day in ack.body for day in GERMAN_DAYS)
    assert ack.body.rstrip().endswith(f"Ihr {DESK}-Team")
    assert "Thank you" not in ack.body


def test_an_english_customer_gets_english_even_from_a_german_speaking_agent(
    django_capture_on_commit_callbacks,
):
    customer = customer_speaking("en", email="ann@example.com", name="Ann Lee")
    with translation.override("de"):
        new_case(customer, django_capture_on_commit_callbacks)
    [ack] = mails_to("ann@example.com")
    assert f"Thank you for contacting {DESK}." in ack.body
    assert "You can expect a first response by " in ack.body
    assert not any(day in ack.body for day in GERMAN_DAYS)


def test_an_unknown_language_falls_back_to_the_desks_default(django_capture_on_commit_callbacks):
    customer = customer_speaking("tlh", email="worf@example.com", name="Worf")
    new_case(customer, django_capture_on_commit_callbacks)
    [ack] = mails_to("worf@example.com")
    assert f"Thank you for contacting {DESK}." in ack.body


def test_an_acknowledgement_the_admin_wrote_is_sent_as_written(django_capture_on_commit_callbacks):
    AcknowledgementTemplate.objects.create(
        channel="email",
        subject="Got it [{reference}]",
        text="Case {reference}, reply {expected_response}.",
    )
    customer = customer_speaking("de", email="lena@example.de", name="Lena")
    case = new_case(customer, django_capture_on_commit_callbacks)
    [ack] = mails_to("lena@example.de")
    assert ack.subject.startswith(f"Got it [{case.reference}]")
    # The admin's words stay; the automatic part (the time) is in the customer's language.
    assert ack.body.startswith(f"Case {case.reference}, reply bis ")


def test_the_survey_invitation_is_in_the_customers_language(django_capture_on_commit_callbacks):
    agent = make_agent()
    german = customer_speaking("de", email="mia@example.de", name="Mia")
    english = customer_speaking("en", email="tom@example.com", name="Tom")
    for customer in (german, english):
        case = new_case(customer, django_capture_on_commit_callbacks)
        case_transition(case=case, to=Status.OPEN, actor=agent)
        case_transition(case=case, to=Status.SOLVED, actor=agent)
    run_effects()
    [german_survey] = [m for m in mails_to("mia@example.de") if "Wie wahrscheinlich" in m.subject]
    assert german_survey.body.startswith("Guten Tag Mia,")
    assert "von 0 (sehr unwahrscheinlich) bis 10 (äußerst wahrscheinlich)" in german_survey.body
    assert "/survey/nps/" in german_survey.body
    [english_survey] = [
        m for m in mails_to("tom@example.com") if "How likely are you to recommend us?" in m.subject
    ]
    assert "from 0 (not at all likely) to 10 (extremely likely)" in english_survey.body


def test_the_survey_page_from_the_link_speaks_the_customers_language(
    django_capture_on_commit_callbacks,
):
    import re

    agent = make_agent()
    customer = customer_speaking("de", email="noah@example.de", name="Noah")
    case = new_case(customer, django_capture_on_commit_callbacks)
    case_transition(case=case, to=Status.OPEN, actor=agent)
    case_transition(case=case, to=Status.SOLVED, actor=agent)
    run_effects()
    [survey] = [m for m in mails_to("noah@example.de") if "Wie wahrscheinlich" in m.subject]
    path = re.search(r"https?://[^/\s]+(/survey/nps/\S+/)", survey.body)[1]
    page = Client(REMOTE_ADDR=fresh_address(), HTTP_ACCEPT_LANGUAGE="en").get(path)
    assert "Von 0 (sehr unwahrscheinlich)" in page.content.decode()


def test_the_loops_letters_are_in_the_customers_language(django_capture_on_commit_callbacks):
    agent = make_agent(first_name="Maya", last_name="Okafor")
    customer = customer_speaking("de", email="ben@example.de", name="Ben")
    case = new_case(customer, django_capture_on_commit_callbacks, actor=agent)
    problem.problem_paraphrase_set(case=case, paraphrase="Der Deckel ist gesprungen.", actor=agent)
    problem.problem_send_for_confirmation(case=case, actor=agent)
    run_effects()
    [letter] = [m for m in mails_to("ben@example.de") if "So habe ich Sie verstanden" in m.body]
    assert letter.body.startswith("Hallo Ben,\n\nSo habe ich Sie verstanden:")
    assert "Wenn das stimmt, bitte bestätigen" not in letter.body
    assert "Wenn das stimmt, bestätigen Sie bitte: " in letter.body
    assert letter.body.endswith(f"\n\nMit freundlichen Grüßen\nMaya Okafor\n{DESK}")


def test_the_sign_in_link_is_in_the_customers_language():
    customer_speaking("de", email="ida@example.de", name="Ida")
    client = Client(REMOTE_ADDR=fresh_address(), HTTP_ACCEPT_LANGUAGE="en")
    client.post("/portal/sign-in/", {"email": "ida@example.de"})
    [link] = mails_to("ida@example.de")
    assert link.subject == f"Ihr Anmeldelink für {DESK}"
    assert link.body.startswith("Guten Tag Ida,") and "/portal/link/" in link.body
