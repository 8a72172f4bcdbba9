"""Automation rules in the desk: an admin writes a rule with conditions and actions, dry-runs
it before saving (nothing changes), saves it, turns it on and off and deletes it, every
change in the settings audit; others are refused."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from caseloop.accounts.models import Role
from caseloop.automation import rules
from caseloop.automation.models import Rule
from caseloop.cases.models import CaseEvent
from caseloop.cases.services import case_update
from caseloop.web.models import SettingsChange
from tests.automation.rules_support import run_effects
from tests.builders import make_agent, make_case, make_team, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rule_kinds_cache():
    cache.delete(rules.KINDS_CACHE_KEY)
    yield
    cache.set(rules.KINDS_CACHE_KEY, [], None)


def form(**overrides):
    data = {
        "name": "Refunds to billing",
        "position": "10",
        "trigger_kinds": ["created", "message_received"],
        "match": "all",
        "cond-0-field": "subject",
        "cond-0-op": "contains",
        "cond-0-value": "refund",
        "cond-1-field": "event",
        "cond-1-key": "direction",
        "cond-1-op": "is",
        "cond-1-value": "inbound",
        "cond-2-field": "",
        "act-0-type": "assign",
        "act-0-target": "ana, team:Billing",
        "act-1-type": "notify",
        "act-1-target": "owner, managers",
        "act-2-type": "",
    }
    data.update(overrides)
    return data


def test_an_admin_dry_runs_then_saves_toggles_and_deletes_a_rule(client):
    ana, billing = make_agent(username="ana"), make_team(name="Billing")
    client.force_login(make_user(role=Role.ADMIN))
    assert client.get(reverse("web:rules")).status_code == 200
    assert client.get(reverse("web:rule_new")).status_code == 200
    make_case(subject="A refund, please")
    make_case(subject="Where is my parcel")
    events = CaseEvent.objects.count()

    tried = client.post(reverse("web:rule_new"), {**form(), "dry_run": "1"})
    assert tried.status_code == 200
    page = tried.content.decode()
    assert 'data-matched-cases="1"' in page and "A refund, please" in page
    assert not Rule.objects.exists() and CaseEvent.objects.count() == events

    saved = client.post(reverse("web:rule_new"), form())
    assert saved.status_code == 302
    rule = Rule.objects.get()
    assert not rule.is_active and rule.position == 10
    assert rule.trigger_kinds == ["created", "message_received"]
    assert rule.conditions == [
        {"field": "subject", "op": "contains", "value": "refund"},
        {"field": "event.direction", "op": "is", "value": "inbound"},
    ]
    assert rule.actions[0] == {"type": "assign", "params": {"agent": ana.pk, "team": billing.pk}}
    assert rule.actions[1]["params"]["owner"] and rule.actions[1]["params"]["managers"]
    edit = client.get(reverse("web:rule_edit", args=[rule.pk])).content.decode()
    assert "ana, team:Billing" in edit

    dry = client.get(reverse("web:rule_dry_run", args=[rule.pk]))
    assert 'data-matched-events="1"' in dry.content.decode()

    client.post(reverse("web:rule_toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert rule.is_active
    listing = client.get(reverse("web:rules")).content.decode()
    assert 'data-active="on"' in listing
    client.post(reverse("web:rule_delete", args=[rule.pk]))
    assert not Rule.objects.exists()
    actions = list(
        SettingsChange.objects.filter(kind="automation-rules")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["created", "updated", "deleted"]


def test_a_bad_rule_comes_back_with_the_reason(client):
    make_agent(username="ana"), make_team(name="Billing")
    client.force_login(make_user(role=Role.ADMIN))
    unknown_person = client.post(reverse("web:rule_new"), form(**{"act-0-target": "nobody"}))
    assert unknown_person.status_code == 422
    assert "nobody" in unknown_person.content.decode()
    bad_value = client.post(
        reverse("web:rule_new"),
        form(**{"cond-0-field": "priority", "cond-0-op": "is", "cond-0-value": "huge"}),
    )
    assert bad_value.status_code == 422
    assert "priority is one of" in bad_value.content.decode()
    assert not Rule.objects.exists() and not SettingsChange.objects.exists()


def test_only_admins_reach_the_rule_pages(client):
    rule = Rule.objects.create(name="r", trigger_kinds=["created"], actions=[])
    client.force_login(make_user(role=Role.MANAGER))
    assert client.get(reverse("web:rules")).status_code == 403
    assert client.post(reverse("web:rule_new"), form()).status_code == 403
    assert client.post(reverse("web:rule_toggle", args=[rule.pk])).status_code == 403
    assert client.post(reverse("web:rule_delete", args=[rule.pk])).status_code == 403
    assert Rule.objects.count() == 1


def test_the_case_timeline_says_which_rule_acted(client):
    admin = make_user(role=Role.ADMIN)
    case = make_case(subject="Refund for a kettle")
    run_effects()
    rules.rule_save(
        actor=admin,
        name="Refunds are urgent",
        trigger_kinds=["tags_changed"],
        conditions=[],
        actions=[{"type": "set_priority", "params": {"priority": "urgent"}}],
        is_active=True,
    )
    case_update(case=case, actor=None, tags=["refund"])
    run_effects()
    client.force_login(admin)
    page = client.get(reverse("web:case", args=[case.pk])).content.decode()
    assert "Rule “Refunds are urgent”: priority set to urgent" in page
