"""The SLA state on the inbox rows and the case page (Monday to Friday 09:00–17:00 UTC)."""

import re

import pytest

from caseloop.automation.models import SlaPolicy
from caseloop.automation.selectors import case_sla_states
from caseloop.cases.services import case_transition, message_add
from tests.automation.support import at, step
from tests.builders import make_agent, make_case

pytestmark = pytest.mark.django_db

MONDAY = (2026, 11, 30)


@pytest.fixture
def agent(client):
    agent = make_agent()
    client.force_login(agent)
    return agent


def row(html: str, case) -> str:
    match = re.search(rf'<tr id="case-{case.pk}".*?</tr>', html, re.S)
    assert match, f"no row for {case.reference}"
    return match.group(0)


def test_each_inbox_row_shows_its_sla_state_without_a_query_of_its_own(
    client, agent, settle, django_assert_num_queries
):
    with step(at(*MONDAY, 9)):
        low, urgent = make_case(priority="low"), make_case(priority="urgent")
        settle()
    with step(at(*MONDAY, 9, 50)):
        page = client.get("/inbox/", {"queue": "all"})
        # Low: 480 minutes, due 17:00. Urgent: 60 minutes, due 10:00, warned from 09:45.
        html = page.content.decode()
        assert 'data-sla="ok"' in row(html, low)
        assert "First response due in 7h 10m" in row(html, low)
        assert 'data-sla="warning"' in row(html, urgent)
        assert "First response due in 10m" in row(html, urgent)
        with django_assert_num_queries(0):
            case_sla_states(cases=page.context["page"].cases)
    with step(at(*MONDAY, 10, 5)):
        live = client.get(f"/inbox/row/{urgent.pk}/", {"queue": "all"}).content.decode()
    assert 'data-sla="breached"' in live and "First response overdue by 5m" in live


def test_the_case_page_lists_every_target_with_its_state(client, agent, settle):
    SlaPolicy.objects.create(
        name="Standard",
        priority="normal",
        position=1,
        first_response_minutes=240,
        next_reply_minutes=120,
        resolution_minutes=480,
    )
    with step(at(*MONDAY, 9)):
        case = make_case()
    with step(at(*MONDAY, 10)):
        message_add(case=case, direction="outbound", text="Could you send a photo?", actor=agent)
        case_transition(case=case, to="pending_customer", actor=agent)
        settle()
    with step(at(*MONDAY, 14)):
        html = client.get(f"/cases/{case.pk}/").content.decode()
    panel = re.search(r'<ul class="sla" id="case-sla".*?</ul>', html, re.S).group(0)
    assert 'aria-label="Service level: Standard"' in panel
    targets = re.findall(r'data-sla-target="(\w+)" data-sla="(\w+)">([^<·]+)', panel)
    # One business hour used of eight before the case waited on the customer.
    assert [(t, s, text.strip()) for t, s, text in targets] == [
        ("first_response", "met", "First response met"),
        ("resolution", "paused", "Resolution paused, 7h 0m left"),
    ]


def test_a_case_without_sla_state_yet_shows_none(client, agent):
    case = make_case()  # its clocks are set up by an effect that has not run
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="case-sla"' not in html
    assert "data-sla" not in row(client.get("/inbox/", {"queue": "all"}).content.decode(), case)
