"""The rules API: admins change rules, managers read and dry-run them, everyone else is
refused; a bad condition or action is a clear 422 naming it; every change is audited."""

from __future__ import annotations

import pytest

from caseloop.accounts.models import Role
from caseloop.automation.models import Rule
from caseloop.knowledge.services import macro_create
from caseloop.web.models import SettingsChange
from tests.automation.rules_support import _rule_kinds_cache  # noqa: F401 - autouse
from tests.builders import bearer, make_agent, make_team, make_user

pytestmark = pytest.mark.django_db

SECRET = "a-secret-of-enough-length"


def body(**overrides):
    return {
        "name": "VIP first",
        "trigger_kinds": ["created"],
        "conditions": [{"field": "customer_vip", "op": "is", "value": True}],
        "actions": [{"type": "set_priority", "params": {"priority": "high"}}],
        **overrides,
    }


@pytest.fixture
def admin_headers():
    return bearer(make_user(role=Role.ADMIN))


def test_an_admin_creates_reads_changes_and_deletes_a_rule_and_each_change_is_audited(
    api, admin_headers
):
    created = api.post("/api/v1/rules", body(), headers=admin_headers)
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["is_active"] is False and rule["match"] == "all"
    assert api.get("/api/v1/rules", headers=admin_headers).json()[0]["id"] == rule["id"]
    path = f"/api/v1/rules/{rule['id']}"
    assert api.get(path, headers=admin_headers).json()["name"] == "VIP first"
    changed = api.patch(path, {"is_active": True, "name": "VIPs first"}, headers=admin_headers)
    assert changed.status_code == 200
    assert (
        changed.json()["is_active"] is True and changed.json()["conditions"] == rule["conditions"]
    )
    assert api.client.delete(path, headers=admin_headers).status_code == 204
    assert not Rule.objects.exists()
    audit = list(SettingsChange.objects.filter(kind="automation-rules").order_by("id"))
    assert [c.action for c in audit] == ["created", "updated", "deleted"]
    assert audit[1].before["name"] == "VIP first" and audit[1].after["name"] == "VIPs first"
    assert audit[1].after["is_active"] is True


def test_managers_read_and_dry_run_but_only_admins_change(api):
    manager, agent = bearer(make_user(role=Role.MANAGER)), bearer(make_agent())
    assert api.post("/api/v1/rules", body(), headers=manager).status_code == 403
    assert api.get("/api/v1/rules", headers=agent).status_code == 403
    assert api.post("/api/v1/rules/dry-run", body(), headers=agent).status_code == 403
    assert api.get("/api/v1/rules", headers=manager).status_code == 200
    assert api.post("/api/v1/rules/dry-run", body(), headers=manager).status_code == 200
    rule = Rule.objects.create(name="r", trigger_kinds=["created"], actions=[])
    assert (
        api.patch(f"/api/v1/rules/{rule.pk}", {"is_active": True}, headers=manager).status_code
        == 403
    )
    assert api.client.delete(f"/api/v1/rules/{rule.pk}", headers=manager).status_code == 403
    assert api.get("/api/v1/rules", headers={}).status_code == 401
    assert not SettingsChange.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"conditions": [{"field": "colour", "op": "is", "value": "red"}]}, "conditions[0].field"),
        (
            {"conditions": [{"field": "priority", "op": "above", "value": "high"}]},
            "conditions[0].op",
        ),
        (
            {"conditions": [{"field": "priority", "op": "is", "value": "huge"}]},
            "conditions[0].value",
        ),
        ({"conditions": [{"field": "team", "op": "is", "value": 999999}]}, "conditions[0].value"),
        (
            {"conditions": [{"field": "hours_since_created", "op": "more_than", "value": "x"}]},
            "conditions[0].value",
        ),
        (
            {"conditions": [{"field": "event.Bad Key", "op": "is", "value": "x"}]},
            "conditions[0].field",
        ),
        ({"trigger_kinds": ["no_such_kind"]}, "trigger_kinds"),
        ({"trigger_kinds": ["rule_applied"]}, "trigger_kinds"),
        ({"match": "most"}, "match"),
        ({"actions": [{"type": "explode", "params": {}}]}, "actions[0].type"),
        (
            {"actions": [{"type": "send_response", "params": {"macro": 999999}}]},
            "actions[0].params.macro",
        ),
        ({"actions": [{"type": "assign", "params": {"agent": 999999}}]}, "actions[0].params.agent"),
        ({"actions": [{"type": "assign", "params": {"team": 999999}}]}, "actions[0].params.team"),
        ({"actions": [{"type": "assign", "params": {}}]}, "actions[0].params.agent"),
        (
            {"actions": [{"type": "notify", "params": {"users": [999999]}}]},
            "actions[0].params.users",
        ),
        (
            {"actions": [{"type": "set_priority", "params": {"priority": "max"}}]},
            "actions[0].params.priority",
        ),
        (
            {"actions": [{"type": "webhook", "params": {"url": "ftp://x", "secret": SECRET}}]},
            "actions[0].params.url",
        ),
        (
            {
                "actions": [
                    {"type": "webhook", "params": {"url": "https://x.test", "secret": "short"}}
                ]
            },
            "actions[0].params.secret",
        ),
        ({"actions": [{"type": "add_tag", "params": {"tag": ""}}]}, "actions[0].params.tag"),
    ],
)
def test_a_bad_condition_or_action_is_a_422_naming_it(api, admin_headers, overrides, field):
    for path in ("/api/v1/rules", "/api/v1/rules/dry-run"):
        response = api.post(path, body(**overrides), headers=admin_headers)
        assert response.status_code == 422, response.content
        assert response.json()["code"] == "rule_invalid"
        assert response.json()["field"] == field
    assert not Rule.objects.exists()


def test_a_body_that_does_not_fit_the_schema_is_a_422_not_a_500(api, admin_headers):
    for bad in (
        {"name": "x"},
        body(actions=[]),
        body(conditions=[{"op": "is"}]),
        body(actions=["assign"]),
        body(conditions="everything"),
    ):
        assert api.post("/api/v1/rules", bad, headers=admin_headers).status_code == 422
    rule = api.post("/api/v1/rules", body(), headers=admin_headers).json()
    response = api.patch(
        f"/api/v1/rules/{rule['id']}", {"actions": [{"type": "nope"}]}, headers=admin_headers
    )
    assert response.status_code == 422
    assert api.get("/api/v1/rules/99999999999999999999", headers=admin_headers).status_code in (
        404,
        422,
    )
    assert api.get("/api/v1/rules/424242", headers=admin_headers).status_code == 404


def test_references_that_exist_are_accepted_and_a_webhook_secret_is_never_shown(api, admin_headers):
    agent, team = make_agent(), make_team()
    macro = macro_create(name="Thanks", body="Thanks {customer_name}", actor=None)
    actions = [
        {"type": "assign", "params": {"agent": agent.pk, "team": team.pk}},
        {"type": "send_response", "params": {"macro": macro.pk}},
        {"type": "notify", "params": {"teams": [team.pk], "managers": True}},
        {"type": "webhook", "params": {"url": "https://erp.example.com/hook", "secret": SECRET}},
    ]
    created = api.post("/api/v1/rules", body(actions=actions), headers=admin_headers)
    assert created.status_code == 201, created.content
    shown = created.json()["actions"][3]["params"]
    assert shown == {"url": "https://erp.example.com/hook", "secret": "********"}
    # Sent back masked, as a client that read it would, the secret stays.
    rule_id = created.json()["id"]
    again = api.patch(
        f"/api/v1/rules/{rule_id}", {"actions": created.json()["actions"]}, headers=admin_headers
    )
    assert again.status_code == 200
    assert Rule.objects.get(pk=rule_id).actions[3]["params"]["secret"] == SECRET
    audit = SettingsChange.objects.filter(kind="automation-rules").order_by("id").last()
    assert SECRET not in str(audit.before) + str(audit.after)
