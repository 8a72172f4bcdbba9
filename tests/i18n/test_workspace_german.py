"""The workspace's generated words — timeline sentences, the loop's stages, status and
priority labels, the missed-SLA email — follow the language of whoever reads them; English
readers see exactly the English they always did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import Client

from caseloop.accounts.models import Role, User
from caseloop.accounts.services import user_language_set
from caseloop.automation.services import sla_breach_notify
from caseloop.cases.models import Case
from caseloop.cases.services import case_transition, case_update
from caseloop.insights import trends
from caseloop.insights.models import TrendAlert
from tests.builders import fresh_address, make_agent, make_case, make_category, make_user

pytestmark = pytest.mark.django_db


def speaking(user: User, language: str) -> User:
    return user_language_set(user=user, language=language)


def case_page(user: User, case: Case) -> str:
    client = Client(REMOTE_ADDR=fresh_address())
    client.force_login(user)
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def worked_case(agent: User) -> Case:
    case = make_case(actor=agent, priority="normal")
    case = case_transition(case=case, to="open", actor=agent)
    case = case_update(case=case, actor=agent, priority="high", tags=["kettle"])
    return case


def test_a_german_agent_reads_the_timeline_the_loop_and_the_labels_in_german():
    agent = speaking(make_agent(), "de")
    page = case_page(agent, worked_case(agent))
    # The timeline's sentences.
    assert "Fall eröffnet (E-Mail, Priorität normal)" in page
    assert "Status: Neu → Offen" in page
    assert "Priorität: Normal → Hoch" in page
    assert "Tags hinzugefügt: kettle" in page
    assert "Case opened" not in page and "Priority: Normal → High" not in page
    # The loop's stages: titles, where each stands, what is next.
    assert "noch keine Zusammenfassung" in page and "Zusammenfassen" in page
    assert "nicht geprüft" in page and "Daten sammeln" in page and "Plan und Zustimmung" in page
    assert "no paraphrase yet" not in page and "not checked" not in page
    assert "Paraphrase it" not in page and "Gather data" not in page
    # Facts the hand-off still lacks are named in German.
    assert "Datum und Uhrzeit des Problems" in page
    assert "Date and time of the problem" not in page


def test_an_english_agent_reads_the_same_case_in_english():
    agent = speaking(make_agent(), "en")
    page = case_page(agent, worked_case(agent))
    assert "Case opened (Email, normal priority)" in page
    assert "Status: New → Open" in page and "Priority: Normal → High" in page
    assert "Tagged kettle" in page
    assert "no paraphrase yet" in page and "Paraphrase it" in page
    assert "not checked" in page and "Gather data" in page and "Plan and consent" in page
    assert "Fall eröffnet" not in page and "Zusammenfassen" not in page


def test_the_missed_sla_email_is_written_in_each_managers_language():
    german = speaking(make_user(role=Role.MANAGER), "de")
    english = make_user(role=Role.ADMIN)  # no choice: the desk's default, English
    case = make_case(subject="Kettle missing")
    sla_breach_notify(
        {
            "case": case.pk,
            "target": "first_response",
            "due": "2026-11-30T13:00:00+00:00",
            "policy_name": "",
            "raised_to": "high",
        }
    )
    by_address = {m.to[0]: m for m in mail.outbox}
    de, en = by_address[german.email], by_address[english.email]
    assert de.subject == f"[{case.reference}] Ziel „Erste Antwort“ verfehlt"
    assert (
        f"Fall {case.reference} (Kettle missing) hat das Ziel „erste Antwort“ verfehlt, "
        "fällig 2026-11-30 13:00 UTC." in de.body
    )
    assert "Richtlinie: Standardziele." in de.body
    assert "Seine Priorität wurde auf Hoch angehoben." in de.body
    assert "Zuständig: noch niemand." in de.body
    assert en.subject == f"[{case.reference}] First response target missed"
    assert en.body.startswith(
        f"Case {case.reference} (Kettle missing) missed its first response target, "
        "due 2026-11-30 13:00 UTC.\nPolicy: default targets.\n"
        "Its priority was raised to High.\nOwner: none yet.\n"
    )


def test_the_trend_email_is_written_in_each_managers_language():
    german = speaking(make_user(role=Role.MANAGER), "de")
    english = make_user(role=Role.ADMIN)
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    declined = make_category(name="Card payment declined")
    made = [make_case(category=declined, subject="Card declined") for _ in range(6)]
    Case.objects.filter(pk__in=[c.pk for c in made]).update(created_at=now - timedelta(hours=2))
    trends.trends_detect(now=now)
    (alert,) = TrendAlert.objects.filter(dimension="category")
    trends.trend_alert_notify({"alert": alert.pk})
    by_address = {m.to[0]: m for m in mail.outbox if "Card payment declined" in m.subject}
    de, en = by_address[german.email], by_address[english.email]
    assert de.subject == "Trend: Kategorie „Card payment declined“, 6 neue Fälle"
    assert "Die Fälle:" in de.body and "Zur Kenntnis nehmen, verwerfen" in de.body
    assert en.subject == "Trend: category “Card payment declined”, 6 new cases"
    assert "The cases:" in en.body and "Acknowledge, dismiss or open a problem: " in en.body
