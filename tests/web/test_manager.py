import re

import pytest

from caseloop.automation.models import SlaPolicy
from caseloop.cases.services import case_update, message_add
from caseloop.coach.services import coach_override_record
from tests.automation.support import at, sla_effects_run, step
from tests.builders import make_agent, make_case, make_team, make_user

pytestmark = pytest.mark.django_db


def test_the_team_page_shows_queue_health_load_and_overrides(client, django_assert_max_num_queries):
    manager = make_user(role="manager")
    agent = make_agent(username="ana")
    team = make_team(name="Billing", members=[agent])
    for _ in range(3):
        case = make_case()
        case_update(case=case, actor=agent, team=team)
    message_add(case=case, direction="outbound", text="hello", actor=agent)
    coach_override_record(user=agent, case=case, rule_ids=["truthful", "jargon"])
    client.force_login(manager)
    with django_assert_max_num_queries(40):
        response = client.get("/manager/")
    teams = {row["team"]: row for row in response.context["teams"]}
    assert teams["Billing"]["new"] == 2 and teams["Billing"]["open"] == 1
    load = {row["agent"].username: row for row in response.context["agents"]}
    assert load["ana"]["owned"] == 3
    assert response.context["overrides"]["total"] == 1
    assert b'id="override-total">1<' in response.content


def test_the_oldest_wait_counts_only_customers_still_waiting_and_links_to_that_order(client):
    from datetime import timedelta

    from django.utils import timezone

    from caseloop.cases.models import Case

    manager = make_user(role="manager")
    agent = make_agent(username="ben")
    team = make_team(name="Returns", members=[agent])
    answered, waiting = make_case(), make_case()
    for case in (answered, waiting):
        case_update(case=case, actor=agent, team=team)
    Case.objects.filter(pk=answered.pk).update(
        awaiting_reply_since=timezone.now() - timedelta(hours=9)
    )
    Case.objects.filter(pk=waiting.pk).update(
        awaiting_reply_since=timezone.now() - timedelta(hours=2)
    )
    # Answering the long-waiting case leaves the other as the oldest wait.
    message_add(case=answered, direction="outbound", text="Refund sent.", actor=agent)
    client.force_login(manager)
    response = client.get("/manager/")
    row = next(r for r in response.context["teams"] if r["team"] == "Returns")
    assert timedelta(hours=2) <= row["waiting_for"] < timedelta(hours=3)
    assert f"team={team.pk}&amp;sort=waiting" in response.content.decode()
    page = client.get(f"/cases/{waiting.pk}/").content.decode()
    assert "the customer has waited 2\xa0hours for a reply" in page


def test_the_team_page_lists_cases_near_or_past_an_sla_target_with_the_target_and_time(client):
    SlaPolicy.objects.create(
        name="Standard",
        priority="normal",
        position=1,
        first_response_minutes=30,
        next_reply_minutes=60,
    )
    SlaPolicy.objects.create(
        name="Priority",
        priority="high",
        position=1,
        first_response_minutes=30,
        resolution_minutes=60,
    )
    agent = make_agent()
    # Monday 09:00 on the default Monday-to-Friday 09:00-17:00 UTC schedule.
    with step(at(2026, 11, 30, 9)):
        asks = make_case(subject="Where is my kettle?")
        late = make_case(subject="Broken lid", priority="high")  # resolution due 10:00
        make_case(subject="Invoice copy", priority="low")  # due 17:00, the warning from 15:00
    with step(at(2026, 11, 30, 9, 10)):
        for case in (asks, late):
            message_add(case=case, direction="outbound", text="Looking into it.", actor=agent)
    with step(at(2026, 11, 30, 10)):
        # The next reply is due 11:00, with its warning from 10:45.
        message_add(case=asks, direction="inbound", text="Any news?")
        sla_effects_run()
    client.force_login(make_user(role="manager"))
    with step(at(2026, 11, 30, 10, 50)):
        response = client.get("/manager/")
    near = [(case.subject, sla.state, sla.summary) for case, sla in response.context["near"]]
    assert near == [
        ("Broken lid", "breached", "Resolution overdue by 50m"),
        ("Where is my kettle?", "warning", "Next reply due in 10m"),
    ]
    html = response.content.decode()
    section = re.search(r'aria-labelledby="near-title">.*?</section>', html, re.S).group(0)
    assert re.findall(r'data-sla="(\w+)" data-sla-target="(\w+)"[^>]*>([^<]+)<', section) == [
        ("breached", "resolution", "Resolution overdue by 50m"),
        ("warning", "next_reply", "Next reply due in 10m"),
    ]
