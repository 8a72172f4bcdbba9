"""The workspace speaks the agent's language; pages for people not signed in follow the
browser; the portal follows the customer's language."""

from __future__ import annotations

import pytest
from django.test import Client

from caseloop.accounts.models import User
from caseloop.accounts.services import user_language_set
from tests.builders import fresh_address, make_agent, make_case, make_customer, make_customer_user

pytestmark = pytest.mark.django_db


def agent_speaking(language: str) -> User:
    return user_language_set(user=make_agent(), language=language)


def signed_in(user: User, **headers: str) -> Client:
    client = Client(REMOTE_ADDR=fresh_address(), **headers)
    client.force_login(user)
    return client


def test_an_agent_who_chose_german_sees_the_inbox_and_the_case_in_german():
    agent = agent_speaking("de")
    case = make_case(actor=agent)
    client = signed_in(agent)
    inbox = client.get("/inbox/").content.decode()
    assert "Posteingang" in inbox and "Gespeicherte Ansichten" in inbox
    assert '<html lang="de">' in inbox and "Saved views" not in inbox
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Antwort an den Kunden" in page and "Interne Notiz" in page
    assert "Reply to customer" not in page and "Internal note" not in page


def test_the_agents_choice_wins_over_the_browser_and_blank_follows_the_browser():
    agent = agent_speaking("en")
    page = signed_in(agent, HTTP_ACCEPT_LANGUAGE="de").get("/inbox/").content.decode()
    assert "Saved views" in page and '<html lang="en">' in page
    agent = make_agent()
    page = signed_in(agent, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").get("/inbox/").content.decode()
    assert "Gespeicherte Ansichten" in page


def test_english_stays_english_when_nothing_asks_for_german():
    page = signed_in(make_agent()).get("/inbox/").content.decode()
    assert "Saved views" in page and '<html lang="en">' in page


def test_the_agent_picks_the_language_on_the_profile_page():
    agent = make_agent()
    client = signed_in(agent)
    assert "Deutsch" in client.get("/me/").content.decode()
    response = client.post("/me/", {"signature": "", "language": "de"}, follow=True)
    agent.refresh_from_db()
    assert agent.language == "de"
    assert "Ihre Einstellungen sind gespeichert." in response.content.decode()
    assert "Meine Einstellungen" in client.get("/me/").content.decode()
    assert client.post("/me/", {"signature": "", "language": "xx"}).status_code == 400
    agent.refresh_from_db()
    assert agent.language == "de"
    client.post("/me/", {"signature": "", "language": ""})
    agent.refresh_from_db()
    assert agent.language == ""


@pytest.mark.parametrize(
    ("path", "german", "english"),
    [
        ("/login/", "Benutzername", "Username"),
        ("/help/", "Nach Thema stöbern", "Browse by topic"),
        ("/channels/form/", "Ihr Name", "Your name"),
        ("/portal/sign-in/", "Verfolgen Sie Ihre Fälle", "Track your cases"),
    ],
)
def test_pages_without_sign_in_follow_the_browsers_language(path, german, english):
    german_page = Client(REMOTE_ADDR=fresh_address(), HTTP_ACCEPT_LANGUAGE="de").get(path)
    assert german_page.status_code == 200
    assert german in german_page.content.decode() and german_page["Content-Language"] == "de"
    english_page = Client(REMOTE_ADDR=fresh_address(), HTTP_ACCEPT_LANGUAGE="en").get(path)
    assert english in english_page.content.decode() and german not in english_page.content.decode()


def test_the_portal_follows_the_customers_language_not_the_browsers():
    customer = make_customer()
    customer.language = "de"
    customer.save(update_fields=["language"])
    make_case(customer=customer)
    client = signed_in(make_customer_user(customer=customer), HTTP_ACCEPT_LANGUAGE="en")
    page = client.get("/portal/").content.decode()
    assert "Ihre Fälle bei" in page and "Your cases with" not in page


def test_the_desk_scripts_get_their_words_in_the_agents_language():
    client = signed_in(agent_speaking("de"))
    assert '<script src="/jsi18n/" defer></script>' in client.get("/inbox/").content.decode()
    catalogue = client.get("/jsi18n/").content.decode()
    assert "Neuer Fall %(reference)s" in catalogue
    assert "Neuer Fall" not in signed_in(make_agent()).get("/jsi18n/").content.decode()
