"""The dry run replays the last 30 days of the event log against a rule, saved or not, with
each case's fields as they stood at each event, and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from caseloop.accounts.models import Role
from caseloop.automation import rule_selectors
from caseloop.automation.models import Rule, RuleRun
from caseloop.cases.models import Case, CaseEvent, Message, OutboxEffect
from caseloop.cases.services import case_update, message_add
from caseloop.notifications.models import Notification
from caseloop.web.models import SettingsChange
from tests.automation.rules_support import (
    _rule_kinds_cache,  # noqa: F401 - autouse
    make_rule,
    run_effects,
)
from tests.builders import bearer, make_case, make_user

pytestmark = pytest.mark.django_db

URGENT_ON_REPLY = {
    "name": "Chasers of urgent cases",
    "trigger_kinds": ["message_received"],
    "conditions": [
        {"field": "priority", "op": "is", "value": "urgent"},
        {"field": "message_text", "op": "contains", "value": "still"},
    ],
    "actions": [
        {"type": "add_tag", "params": {"tag": "chased"}},
        {"type": "notify", "params": {"owner": True, "managers": True}},
    ],
}


def world_counts() -> dict[str, int]:
    return {
        "cases": Case.objects.count(),
        "events": CaseEvent.objects.count(),
        "messages": Message.objects.count(),
        "effects": OutboxEffect.objects.count(),
        "runs": RuleRun.objects.count(),
        "notifications": Notification.objects.count(),
        "rules": Rule.objects.count(),
        "audit": SettingsChange.objects.count(),
    }


def test_an_unsaved_rule_reports_matches_over_30_days_with_fields_as_they_were(api):
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=40), tick=False):
        old = make_case(subject="Old one")
        case_update(case=old, actor=None, priority="urgent")
        message_add(case=old, direction="inbound", text="still waiting")  # beyond 30 days
    with time_machine.travel(now - timedelta(days=10), tick=False):
        message_add(case=old, direction="inbound", text="still nothing")  # counts
        calm = make_case(subject="Calm one")
        message_add(case=calm, direction="inbound", text="still broken")  # normal then
    with time_machine.travel(now - timedelta(days=5), tick=False):
        case_update(case=calm, actor=None, priority="urgent")
        message_add(case=calm, direction="inbound", text="I am still waiting")  # urgent now
        message_add(case=calm, direction="inbound", text="hello?")  # no "still"
    run_effects()
    # Today the calm case is low priority: the dry run judges by the priority of the time.
    case_update(case=calm, actor=None, priority="low")
    before = world_counts()
    response = api.post(
        "/api/v1/rules/dry-run", URGENT_ON_REPLY, headers=bearer(make_user(role=Role.ADMIN))
    )
    assert response.status_code == 200, response.content
    report = response.json()
    after_counts = world_counts()
    assert after_counts == before
    assert report["events_matched"] == 2
    assert report["cases_matched"] == 2
    assert report["actions"] == {"add_tag": 2, "notify": 2}
    # The customer's messages of the last 30 days, the calm case's opening one included.
    assert report["events_examined"] == 5
    by_case = {m["reference"]: m for m in report["sample"]}
    assert set(by_case) == {old.reference, calm.reference}
    assert by_case[calm.reference]["actions"] == ["tag chased", "notify the owner, the managers"]
    assert not calm.tags.filter(name="chased").exists()


def test_an_event_older_than_30_days_is_not_counted():
    with time_machine.travel(timezone.now() - timedelta(days=31), tick=False):
        make_case(subject="Long ago")
    report = rule_selectors.rule_dry_run(
        trigger_kinds=["created"],
        match="all",
        conditions=[],
        actions=[{"type": "add_tag", "params": {"tag": "x"}}],
    )
    assert (report.events_examined, report.events_matched) == (0, 0)
    make_case(subject="Today")
    report = rule_selectors.rule_dry_run(
        trigger_kinds=["created"],
        match="all",
        conditions=[],
        actions=[{"type": "add_tag", "params": {"tag": "x"}}],
    )
    assert (report.events_matched, report.cases_matched) == (1, 1)


def test_a_saved_rule_is_dry_run_by_id_without_being_turned_on(api):
    rule = make_rule(
        triggers=["created"],
        conditions=[{"field": "subject", "op": "contains", "value": "refund"}],
        actions=[{"type": "set_priority", "params": {"priority": "high"}}],
        active=False,
    )
    refund = make_case(subject="Refund please")
    make_case(subject="Where is my order")
    run_effects()
    before = world_counts()
    response = api.post(
        f"/api/v1/rules/{rule.pk}/dry-run", headers=bearer(make_user(role=Role.MANAGER))
    )
    assert response.status_code == 200
    report = response.json()
    assert (report["events_matched"], report["cases_matched"]) == (1, 1)
    assert report["sample"][0]["case_id"] == refund.pk
    assert report["sample"][0]["actions"] == ["set the priority to high"]
    assert world_counts() == {**before, "audit": before["audit"]}
    refund.refresh_from_db()
    assert refund.priority != "high"
    assert (
        api.post(
            "/api/v1/rules/424242/dry-run", headers=bearer(make_user(role=Role.ADMIN))
        ).status_code
        == 404
    )


def test_the_dry_run_reads_a_fixed_number_of_queries(django_assert_num_queries):
    for n in range(3):
        make_case(subject=f"Case {n}")
    spec = {
        "trigger_kinds": ["created"],
        "match": "all",
        "conditions": [{"field": "subject", "op": "contains", "value": "case"}],
        "actions": [{"type": "add_tag", "params": {"tag": "x"}}],
    }
    # The events, the cases with their customers, their state events, their first messages
    # (events naming messages add one more).
    with django_assert_num_queries(4):
        report = rule_selectors.rule_dry_run(**spec)
    assert report.events_matched == 3
