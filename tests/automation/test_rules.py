"""Automation rules fire on case events: each condition, each action (every one writing a
`rule_applied` event naming the rule), the loop's own events, and the guards that keep
rules from firing each other forever."""

from __future__ import annotations

import http.server
import json
import threading

import pytest
from django.core import mail
from django.db import transaction

from caseloop.accounts.models import Role
from caseloop.accounts.services import desk_identity_set
from caseloop.automation import rules
from caseloop.automation.models import RuleRun
from caseloop.cases.events import event_lines
from caseloop.cases.loop.plans import plan_consent_record, plan_create
from caseloop.cases.models import Case, CaseEvent, Message, OutboxEffect
from caseloop.cases.services import case_update, event_record, message_add
from caseloop.customers.models import Organization
from caseloop.knowledge.services import macro_create
from caseloop.lib.signing import SIGNATURE_HEADER, signature_verify
from caseloop.notifications.models import Notification
from tests.automation.rules_support import (
    _rule_kinds_cache,  # noqa: F401 - autouse
    applied,
    make_rule,
    run_effects,
)
from tests.builders import make_agent, make_case, make_category, make_customer, make_team, make_user

pytestmark = pytest.mark.django_db


def tag(case: Case, *names: str) -> None:
    case_update(case=case, actor=None, tags=[*case.tags.values_list("name", flat=True), *names])


def tags_of(case: Case) -> set[str]:
    return set(case.tags.values_list("name", flat=True))


def settled_case(**overrides) -> Case:
    """A case whose opening reactions (triage, acknowledgement) have all run."""
    case = make_case(**overrides)
    run_effects()
    return case


def mark(name: str) -> list[dict]:
    return [{"type": "add_tag", "params": {"tag": name}}]


# --- conditions -------------------------------------------------------------------------------


def test_each_condition_fires_only_when_it_holds():
    category, team = make_category(name="Billing"), make_team(name="Payments")
    organization = Organization.objects.create(name="Acme")
    vip = make_customer(name="Vera Vip")
    vip.is_vip, vip.organization, vip.language = True, organization, "de"
    vip.save()
    case = settled_case(
        customer=vip, subject="Refund for order 77", text="Please refund me", channel="chat"
    )
    case_update(case=case, actor=None, category=category, team=team, priority="high")
    holding = [
        {"field": "status", "op": "is", "value": "new"},
        {"field": "priority", "op": "is", "value": "high"},
        {"field": "channel", "op": "is", "value": "chat"},
        {"field": "category", "op": "is", "value": category.pk},
        {"field": "team", "op": "is", "value": team.pk},
        {"field": "tags", "op": "contains", "value": "go"},
        {"field": "tags", "op": "not_contains", "value": "spam"},
        {"field": "customer_vip", "op": "is", "value": True},
        {"field": "customer_organization", "op": "is", "value": organization.pk},
        {"field": "customer_language", "op": "is", "value": "DE"},
        {"field": "subject", "op": "contains", "value": "refund"},
        {"field": "message_text", "op": "not_contains", "value": "kettle"},
        {"field": "hours_since_created", "op": "less_than", "value": 1},
        {"field": "hours_since_customer_message", "op": "less_than", "value": 1},
        {"field": "hours_since_update", "op": "less_than", "value": 1},
        {"field": "event.after", "op": "contains", "value": "go"},
    ]
    failing = [
        {"field": "status", "op": "is_not", "value": "new"},
        {"field": "priority", "op": "is", "value": "low"},
        {"field": "channel", "op": "is", "value": "email"},
        {"field": "category", "op": "is", "value": None},
        {"field": "team", "op": "is_not", "value": team.pk},
        {"field": "tags", "op": "contains", "value": "spam"},
        {"field": "customer_vip", "op": "is", "value": False},
        {"field": "customer_organization", "op": "is_not", "value": organization.pk},
        {"field": "customer_language", "op": "is", "value": "en"},
        {"field": "subject", "op": "not_contains", "value": "refund"},
        {"field": "message_text", "op": "contains", "value": "kettle"},
        {"field": "hours_since_created", "op": "more_than", "value": 1},
        {"field": "event.after", "op": "is", "value": "nothing"},
    ]
    yes = [
        make_rule(triggers=["tags_changed"], conditions=[c], actions=mark(f"y{i}"))
        for i, c in enumerate(holding)
    ]
    no = [
        make_rule(triggers=["tags_changed"], conditions=[c], actions=mark(f"n{i}"))
        for i, c in enumerate(failing)
    ]
    tag(case, "go")
    run_effects()
    got = tags_of(case)
    assert {f"y{i}" for i in range(len(yes))} <= got
    assert not {f"n{i}" for i in range(len(no))} & got


def test_all_needs_every_condition_and_any_needs_one():
    case = settled_case(subject="Broken kettle")
    conditions = [
        {"field": "subject", "op": "contains", "value": "kettle"},
        {"field": "priority", "op": "is", "value": "urgent"},
    ]
    make_rule(triggers=["tags_changed"], conditions=conditions, match="all", actions=mark("all"))
    make_rule(triggers=["tags_changed"], conditions=conditions, match="any", actions=mark("any"))
    tag(case, "go")
    run_effects()
    assert "any" in tags_of(case) and "all" not in tags_of(case)


def test_a_rule_that_is_off_does_nothing():
    case = settled_case()
    make_rule(triggers=["tags_changed"], actions=mark("never"), active=False)
    tag(case, "go")
    run_effects()
    assert "never" not in tags_of(case) and not applied(case)


# --- actions ----------------------------------------------------------------------------------


def test_assign_sets_the_agent_and_team_and_names_the_rule():
    agent, team = make_agent(first_name="Ana", last_name="Lopez"), make_team(name="Returns")
    rule = make_rule(
        name="Returns go to Ana",
        triggers=["created"],
        actions=[{"type": "assign", "params": {"agent": agent.pk, "team": team.pk}}],
    )
    case = make_case(subject="Return a kettle")
    run_effects()
    case.refresh_from_db()
    assert (case.assignee_id, case.team_id) == (agent.pk, team.pk)
    [event] = applied(case, rule)
    assert event.data["name"] == "Returns go to Ana" and event.data["action"] == "assign"
    line = event_lines(events=[event])[event.pk].text
    assert line == "Rule “Returns go to Ana”: assigned to Ana Lopez; team set to Returns"
    changed = CaseEvent.objects.get(case=case, kind="assignee_changed")
    assert changed.data["reason"] == "rule “Returns go to Ana”"


def test_add_and_remove_tag():
    rule = make_rule(
        triggers=["created"],
        actions=[
            {"type": "add_tag", "params": {"tag": "Needs-Review"}},
            {"type": "remove_tag", "params": {"tag": "legacy"}},
        ],
    )
    case = make_case()
    tag(case, "legacy")
    run_effects()
    assert tags_of(case) == {"needs-review"}
    assert [e.data["summary"] for e in applied(case, rule)] == [
        "tagged needs-review",
        "untagged legacy",
    ]


def test_set_priority_to_a_value_and_one_step_up():
    make_rule(
        triggers=["created"], actions=[{"type": "set_priority", "params": {"priority": "high"}}]
    )
    case = settled_case()
    case.refresh_from_db()
    assert case.priority == "high"
    make_rule(
        triggers=["tags_changed"],
        actions=[{"type": "set_priority", "params": {"priority": "raise"}}],
    )
    tag(case, "go")
    run_effects()
    case.refresh_from_db()
    assert case.priority == "urgent"


def test_notify_tells_people_a_team_and_the_owner_through_notifications():
    owner, named, member, outsider = make_agent(), make_agent(), make_agent(), make_agent()
    team = make_team(members=[member])
    case = settled_case(actor=owner)
    rule = make_rule(
        name="Tell people",
        triggers=["tags_changed"],
        actions=[
            {
                "type": "notify",
                "params": {"users": [named.pk], "teams": [team.pk], "owner": True, "text": "Look"},
            }
        ],
    )
    tag(case, "go")
    run_effects()
    told = set(Notification.objects.filter(case=case).values_list("user_id", flat=True))
    assert told == {owner.pk, named.pk, member.pk}
    assert outsider.pk not in told
    text = Notification.objects.filter(case=case).first().text
    assert text.startswith(f"{case.reference}: Look")
    assert applied(case, rule)[0].data["summary"].startswith("notified ")


def test_a_prepared_response_reaches_the_customer_through_the_outbox():
    desk_identity_set(name="Northwind Home")
    macro = macro_create(
        name="Got it", body="Hello {customer_first_name}, we have {case_reference}.", actor=None
    )
    rule = make_rule(
        name="Auto answer",
        triggers=["created"],
        actions=[{"type": "send_response", "params": {"macro": macro.pk}}],
    )
    customer = make_customer(name="Maria Gomez", email="maria@example.com")
    case = make_case(customer=customer)
    run_effects()
    message = Message.objects.get(case=case, direction="outbound", metadata__rule=rule.pk)
    assert message.text == f"Hello Maria, we have {case.reference}."
    assert message.delivery_status == Message.Delivery.SENT
    [sent] = [m for m in mail.outbox if f"we have {case.reference}" in m.body]
    assert sent.to == ["maria@example.com"]
    assert "Got it" in applied(case, rule)[0].data["summary"]


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/rule"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_the_webhook_action_posts_the_event_signed_through_the_outbox():
    receiver = Receiver()
    secret = "rule-secret-0123456789"
    try:
        case = settled_case()
        rule = make_rule(
            name="Tell the ERP",
            triggers=["tags_changed"],
            actions=[{"type": "webhook", "params": {"url": receiver.url, "secret": secret}}],
        )
        tag(case, "go")
        run_effects()
        effect_kinds = list(
            OutboxEffect.objects.filter(kind=rules.WEBHOOK_EFFECT).values_list("state", flat=True)
        )
    finally:
        receiver.server.shutdown()
    assert effect_kinds == ["done"]
    [(headers, body)] = receiver.received
    signature_verify(secret=secret, header=headers[SIGNATURE_HEADER], body=body, tolerance=300)
    sent = json.loads(body)
    assert sent["rule"] == {"id": rule.pk, "name": "Tell the ERP"}
    assert sent["event"]["kind"] == "tags_changed" and sent["event"]["case_id"] == case.pk
    assert headers["X-Caseloop-Event"] == "tags_changed"
    assert applied(case, rule)[0].data["params"]["secret"] == rules.SECRET_MASK


def test_an_action_that_can_no_longer_run_is_said_on_the_case_and_the_rest_run():
    agent, case = make_agent(), settled_case()
    rule = make_rule(
        triggers=["tags_changed"],
        actions=[{"type": "assign", "params": {"agent": agent.pk}}, *mark("after")],
    )
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    tag(case, "go")
    run_effects()
    first, second = applied(case, rule)
    assert first.data["error"] and first.data["summary"].startswith("could not assign")
    assert "after" in tags_of(case)


# --- the loop's events ------------------------------------------------------------------------


def test_an_sla_warning_raises_the_priority():
    rule = make_rule(
        name="Warned means urgent",
        triggers=["sla_warning"],
        conditions=[{"field": "event.target", "op": "is", "value": "first_response"}],
        actions=[{"type": "set_priority", "params": {"priority": "urgent"}}],
    )
    case = make_case()
    with transaction.atomic():
        event_record(
            case=case,
            kind="sla_warning",
            data={"target": "first_response", "due": "2026-12-04T10:00:00+00:00", "policy": None},
        )
    run_effects()
    case.refresh_from_db()
    assert case.priority == "urgent"
    assert applied(case, rule)[0].data["trigger"] == CaseEvent.objects.get(kind="sla_warning").pk


def test_a_declined_plan_notifies_the_managers():
    manager, agent = make_user(role=Role.MANAGER), make_agent()
    make_rule(
        name="Declined plans to managers",
        triggers=["plan_consent"],
        conditions=[{"field": "event.decision", "op": "is", "value": "declined"}],
        actions=[{"type": "notify", "params": {"managers": True, "text": "Plan declined"}}],
    )
    case = make_case(actor=agent)
    plan = plan_create(case=case, summary="Replace the kettle", actor=agent, steps=["Ship it"])
    plan_consent_record(plan=plan, decision="declined", channel="phone", actor=agent)
    run_effects()
    [note] = Notification.objects.filter(case=case, user=manager)
    assert "Plan declined" in note.text


def test_authority_saying_escalate_assigns_the_specialists():
    specialists = make_team(name="Specialists")
    make_rule(
        triggers=["authority_checked"],
        conditions=[{"field": "event.solve_now", "op": "is", "value": "false"}],
        actions=[{"type": "assign", "params": {"team": specialists.pk}}],
    )
    case = make_case()
    with transaction.atomic():
        event_record(case=case, kind="authority_checked", data={"solve_now": True})
    run_effects()
    case.refresh_from_db()
    assert case.team_id is None
    with transaction.atomic():
        event_record(case=case, kind="authority_checked", data={"solve_now": False})
    run_effects()
    case.refresh_from_db()
    assert case.team_id == specialists.pk


def test_a_customer_message_fires_message_received_but_a_reply_does_not():
    agent = make_agent()
    rule = make_rule(
        triggers=["message_received"],
        conditions=[{"field": "message_text", "op": "contains", "value": "still broken"}],
        actions=mark("chased"),
    )
    case = make_case(text="My kettle is broken")
    run_effects()
    message_add(case=case, direction="outbound", text="It is still broken? Sorry!", actor=agent)
    run_effects()
    assert not applied(case, rule)
    message_add(case=case, direction="inbound", text="It is still broken.")
    run_effects()
    assert "chased" in tags_of(case)


# --- guards -----------------------------------------------------------------------------------


def test_rules_that_undo_each_other_stop():
    case = settled_case()
    ping = make_rule(
        name="Ping",
        triggers=["tags_changed"],
        conditions=[{"field": "tags", "op": "contains", "value": "a"}],
        actions=[
            {"type": "remove_tag", "params": {"tag": "a"}},
            {"type": "add_tag", "params": {"tag": "b"}},
        ],
    )
    pong = make_rule(
        name="Pong",
        triggers=["tags_changed"],
        conditions=[{"field": "tags", "op": "contains", "value": "b"}],
        actions=[
            {"type": "remove_tag", "params": {"tag": "b"}},
            {"type": "add_tag", "params": {"tag": "a"}},
        ],
    )
    tag(case, "a")
    run_effects()  # fails if the rules keep firing each other
    assert RuleRun.objects.filter(rule=ping).count() == 1
    assert RuleRun.objects.filter(rule=pong).count() == 1
    assert tags_of(case) - {"needs-review"} == {"a"}


def test_a_rule_never_fires_on_its_own_events():
    case = settled_case()
    rule = make_rule(
        triggers=["priority_changed"],
        actions=[{"type": "set_priority", "params": {"priority": "raise"}}],
    )
    case_update(case=case, actor=None, priority="low")
    run_effects()
    case.refresh_from_db()
    assert case.priority == "normal"  # low, raised once to normal, and no further
    assert RuleRun.objects.filter(rule=rule).count() == 1


def test_chains_of_rules_stop_at_the_depth_limit():
    case = settled_case()
    for step in range(rules.MAX_DEPTH + 2):
        make_rule(
            name=f"Step {step}",
            # Later steps run first, so each runs only on the event of the step before it.
            position=100 - step,
            triggers=["tags_changed"],
            conditions=[{"field": "tags", "op": "contains", "value": f"t{step}"}],
            actions=mark(f"t{step + 1}"),
        )
    tag(case, "t0")
    run_effects()
    assert f"t{rules.MAX_DEPTH}" in tags_of(case)
    assert f"t{rules.MAX_DEPTH + 1}" not in tags_of(case)


def test_a_rule_runs_once_per_event_and_at_most_its_daily_limit_per_case(monkeypatch):
    monkeypatch.setattr(rules, "MAX_RUNS_PER_CASE_PER_DAY", 2)
    case = settled_case(actor=make_agent())
    rule = make_rule(
        triggers=["authority_checked"],
        actions=[{"type": "notify", "params": {"owner": True}}],
    )
    events = []
    for _ in range(3):
        with transaction.atomic():
            events.append(event_record(case=case, kind="authority_checked", data={}))
    run_effects()
    assert rules.rules_run_for_event(events[0].pk) == 0
    assert RuleRun.objects.filter(rule=rule, case=case).count() == 2


def test_events_no_rule_wants_record_no_reaction():
    make_rule(triggers=["sla_breached"], actions=mark("x"))
    case = make_case()
    before = OutboxEffect.objects.filter(kind__startswith="event_recorded:any").count()
    tag(case, "go")
    assert OutboxEffect.objects.filter(kind__startswith="event_recorded:any").count() == before


def test_with_no_rule_on_new_cases_or_messages_their_creation_records_no_rule_effects():
    def rule_effects() -> int:
        return (
            OutboxEffect.objects.filter(kind__contains="rules_on_case_created").count()
            + OutboxEffect.objects.filter(kind__contains="rules_on_message_added").count()
        )

    make_rule(triggers=["tags_changed"], actions=[{"type": "add_tag", "params": {"tag": "x"}}])
    case = make_case()
    message_add(case=case, text="One more thing.", direction="inbound", actor=None)
    assert rule_effects() == 0
    make_rule(
        triggers=["created", "message_received"],
        actions=[{"type": "add_tag", "params": {"tag": "seen"}}],
    )
    case = make_case()
    message_add(case=case, text="One more thing.", direction="inbound", actor=None)
    assert rule_effects() >= 2
    run_effects()
    assert "seen" in set(case.tags.values_list("name", flat=True))
