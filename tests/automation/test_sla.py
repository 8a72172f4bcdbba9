"""SLA policies, clocks and checks on a Monday-to-Friday 09:00–17:00 UTC desk (the default
schedule), every expected time worked out by hand in the comments."""

from datetime import timedelta

import pytest
from django.core import mail

from caseloop.accounts.models import Role
from caseloop.automation.models import CaseSla, SlaPolicy
from caseloop.automation.selectors import case_first_response_due, case_sla_states
from caseloop.automation.services import case_sla_refresh, sla_check
from caseloop.cases.models import Case, CaseEvent
from caseloop.cases.services import case_transition, message_add
from caseloop.customers.models import Organization
from tests.automation.support import at, step
from tests.builders import make_agent, make_case, make_customer, make_user

pytestmark = pytest.mark.django_db

# 2026-11-27 is a Friday, 2026-11-30 a Monday.
FRIDAY, MONDAY, TUESDAY = (2026, 11, 27), (2026, 11, 30), (2026, 12, 1)


def policy(name: str, **fields) -> SlaPolicy:
    """A policy placed before the migrated per-priority ones (positions 10-40)."""
    fields.setdefault("first_response_minutes", 240)
    fields.setdefault("position", 1)
    return SlaPolicy.objects.create(name=name, **fields)


def sla_of(case: Case) -> CaseSla:
    return CaseSla.objects.get(case=case)


def customer_writes(case: Case, text: str = "Any news?") -> None:
    message_add(case=case, direction="inbound", text=text)


def agent_replies(case: Case, agent, text: str = "Here is what we found.") -> None:
    message_add(case=case, direction="outbound", text=text, actor=agent)


def events(case: Case, kind: str) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, kind=kind).order_by("id"))


def test_a_case_created_friday_1630_with_a_two_hour_target_is_due_monday_1030(settle):
    # The migrated "High priority" policy: 120 business minutes to the first response.
    with step(at(*FRIDAY, 16, 30)):
        case = make_case(priority="high")
        settle()
    # 30 minutes on Friday until 17:00, the weekend closed, 90 minutes from Monday 09:00.
    assert sla_of(case).first_response_due_at == at(*MONDAY, 10, 30)
    assert case_first_response_due(case=case) == at(*MONDAY, 10, 30)
    # 75 % of 120 minutes = 90 minutes: 30 on Friday, 60 on Monday.
    assert sla_of(case).first_response_warn_at == at(*MONDAY, 10)
    with step(at(*MONDAY, 9, 15)):
        state = case_sla_states(cases=[case])[case.pk]
    assert (state.state, state.target, state.due_at) == (
        "ok",
        "first_response",
        at(*MONDAY, 10, 30),
    )
    assert state.time_left == timedelta(hours=1, minutes=15)
    assert state.policy_name == "High priority"


def test_hours_waiting_on_the_customer_do_not_count(settle):
    policy("Standard", priority="normal", next_reply_minutes=120, resolution_minutes=480)
    agent = make_agent()
    with step(at(*MONDAY, 9)):
        case = make_case()
        settle()
    # Resolution: 8 business hours, due Monday 17:00 when nothing pauses it.
    assert sla_of(case).resolution_due_at == at(*MONDAY, 17)
    with step(at(*MONDAY, 10)):
        agent_replies(case, agent)
    with step(at(*MONDAY, 11)):
        case_transition(case=case, to="pending_customer", actor=agent)
        settle()
    sla = sla_of(case)
    # Two business hours used (09:00-11:00), six left, frozen while the customer is away.
    assert sla.resolution_paused_at == at(*MONDAY, 11) and sla.resolution_due_at is None
    assert sla.resolution_left_seconds == 6 * 3600
    with step(at(*MONDAY, 16)):
        state = case_sla_states(cases=[case])[case.pk]
    assert (state.state, state.target, state.time_left) == (
        "paused",
        "resolution",
        timedelta(hours=6),
    )
    assert state.summary == "Resolution paused, 6h 0m left"
    with step(at(*TUESDAY, 10)):
        customer_writes(case, "Here is the photo you asked for.")
        settle()
    sla = sla_of(case)
    # Resumed Tuesday 10:00 with six hours left: due 16:00. Paused Monday 11:00-17:00 and
    # Tuesday 09:00-10:00 in business time: 7 hours.
    assert sla.resolution_paused_at is None
    assert sla.resolution_due_at == at(*TUESDAY, 16)
    assert sla.resolution_paused_seconds == 7 * 3600
    # The customer's message after an agent reply starts the next-reply clock: 12:00.
    assert sla.next_reply_started_at == at(*TUESDAY, 10)
    assert sla.next_reply_due_at == at(*TUESDAY, 12)


def test_the_next_reply_clock_restarts_with_each_customer_message_after_a_reply(settle):
    policy("Standard", priority="normal", next_reply_minutes=60)
    agent = make_agent()
    with step(at(*MONDAY, 9)):
        case = make_case()
    with step(at(*MONDAY, 9, 30)):
        agent_replies(case, agent)
    with step(at(*MONDAY, 10)):
        customer_writes(case)
        settle()
    assert (sla_of(case).next_reply_started_at, sla_of(case).next_reply_due_at) == (
        at(*MONDAY, 10),
        at(*MONDAY, 11),
    )
    with step(at(*MONDAY, 10, 20)):
        customer_writes(case, "Also, the lid is cracked.")
        settle()
    # The oldest unanswered message counts: still due 11:00.
    assert sla_of(case).next_reply_due_at == at(*MONDAY, 11)
    with step(at(*MONDAY, 10, 45)):
        agent_replies(case, agent)
        settle()
        state = case_sla_states(cases=[case])[case.pk]
    assert sla_of(case).next_reply_stopped_at == at(*MONDAY, 10, 45)
    assert [(t.target, t.state) for t in state.targets] == [
        ("first_response", "met"),
        ("next_reply", "met"),
    ]
    with step(at(*MONDAY, 16, 30)):
        customer_writes(case, "It leaks again.")
        settle()
    # A new cycle: 30 minutes on Monday, 30 from Tuesday 09:00.
    sla = sla_of(case)
    assert (sla.next_reply_started_at, sla.next_reply_due_at, sla.next_reply_stopped_at) == (
        at(*MONDAY, 16, 30),
        at(*TUESDAY, 9, 30),
        None,
    )


def test_the_most_specific_policy_applies(settle):
    acme = Organization.objects.create(name="Acme", service_level="premium")
    globex = Organization.objects.create(name="Globex", service_level="premium")
    by_priority = policy("Urgent high", priority="high", first_response_minutes=90, position=1)
    by_level = policy("Premium", service_level="premium", first_response_minutes=60, position=90)
    by_org = policy("Acme contract", organization=acme, first_response_minutes=30, position=500)
    policy("Switched off", organization=acme, priority="high", is_active=False)

    def customer_of(organization):
        customer = make_customer()
        customer.organization = organization
        customer.save(update_fields=["organization"])
        return customer

    with step(at(*MONDAY, 9)):
        for_acme = make_case(customer=customer_of(acme), priority="high")
        for_globex = make_case(customer=customer_of(globex), priority="high")
        for_nobody = make_case(customer=customer_of(None), priority="high")
        settle()
    # Organization beats service level beats priority, whatever the positions; among
    # priority-only policies the lower position wins over the migrated "High priority".
    assert sla_of(for_acme).policy == by_org
    assert sla_of(for_acme).first_response_due_at == at(*MONDAY, 9, 30)
    assert sla_of(for_globex).policy == by_level
    assert sla_of(for_globex).first_response_due_at == at(*MONDAY, 10)
    assert sla_of(for_nobody).policy == by_priority
    assert sla_of(for_nobody).first_response_due_at == at(*MONDAY, 10, 30)
    # The acknowledgement's promise and the clock agree.
    assert case_first_response_due(case=for_acme) == at(*MONDAY, 9, 30)


def test_without_any_policy_the_built_in_first_response_targets_apply(settle):
    SlaPolicy.objects.all().delete()
    with step(at(*MONDAY, 9)):
        case = make_case(priority="urgent")
        settle()
    sla = sla_of(case)
    assert sla.policy is None and sla.first_response_due_at == at(*MONDAY, 10)
    assert sla.next_reply_started_at is None and sla.resolution_started_at is None
    assert case_sla_states(cases=[case])[case.pk].policy_name == "Default"


def test_a_warning_then_a_breach_are_recorded_once_each_however_often_the_check_runs(settle):
    # Normal priority: 240 minutes, due 13:00; the warning at 75 %, 180 minutes: 12:00.
    with step(at(*MONDAY, 9)):
        case = make_case()
        settle()
    normal = SlaPolicy.objects.get(priority="normal")
    for minute in range(11 * 60 + 58, 13 * 60 + 3):
        with step(at(*MONDAY, minute // 60, minute % 60)):
            sla_check()
    warnings, breaches = events(case, "sla_warning"), events(case, "sla_breached")
    assert [
        (e.created_at, e.data["target"], e.data["due"], e.data["policy"]) for e in warnings
    ] == [(at(*MONDAY, 12), "first_response", "2026-11-30T13:00:00+00:00", normal.pk)]
    assert [(e.created_at, e.data["target"], e.data["policy"]) for e in breaches] == [
        (at(*MONDAY, 13), "first_response", normal.pk)
    ]


def test_a_breach_raises_the_priority_one_step_and_tells_the_managers(
    settle, monkeypatch, django_capture_on_commit_callbacks
):
    pushed = []
    monkeypatch.setattr(
        "caseloop.automation.services.publish",
        lambda group, payload: pushed.append((group, payload)),
    )
    manager = make_user(role=Role.MANAGER)
    admin = make_user(role=Role.ADMIN)
    gone, unreachable = make_user(role=Role.MANAGER), make_user(role=Role.MANAGER)
    gone.is_active, unreachable.email = False, ""  # neither is mailed
    gone.save(update_fields=["is_active"])
    unreachable.save(update_fields=["email"])
    make_agent()  # agents are not mailed
    with step(at(*MONDAY, 9)):
        case = make_case()
        settle()
    with step(at(*MONDAY, 13)):
        with django_capture_on_commit_callbacks(execute=True):
            sla_check()
        settle()
    case.refresh_from_db()
    assert case.priority == "high"
    raised = events(case, "priority_changed")[-1]
    assert raised.data["before"] == "normal" and raised.data["after"] == "high"
    assert raised.data["reason"] == "SLA first response target missed (Normal priority)"
    notices = [
        m for m in mail.outbox if m.subject == f"[{case.reference}] First response target missed"
    ]
    assert sorted(m.to[0] for m in notices) == sorted([manager.email, admin.email])
    assert "due 2026-11-30 13:00 UTC" in notices[0].body and "raised to High" in notices[0].body
    assert f"/cases/{case.pk}/" in notices[0].body
    breach_push = [p for group, p in pushed if group == "desk" and p.get("fields") == ["sla"]]
    assert breach_push[0]["sla"] == {
        "state": "breached",
        "target": "first_response",
        "due": "2026-11-30T13:00:00+00:00",
    }
    # The new priority moved the due time (high: 120 minutes, 11:00) but the cycle's breach
    # is already recorded: no second breach, no second raise.
    assert sla_of(case).first_response_due_at == at(*MONDAY, 11)
    with step(at(*MONDAY, 13, 5)):
        assert sla_check() == []
    case.refresh_from_db()
    assert case.priority == "high" and len(events(case, "sla_breached")) == 1


def test_a_reply_after_the_due_time_is_a_breach_without_escalation(settle):
    agent = make_agent()
    with step(at(*MONDAY, 9)):
        case = make_case()
        settle()
    with step(at(*MONDAY, 12, 59)):
        sla_check()  # the warning
    with step(at(*MONDAY, 13, 0, 30)):
        agent_replies(case, agent)
        settle()
        assert sla_check() == []
        state = case_sla_states(cases=[case])[case.pk]
    breach = events(case, "sla_breached")
    assert len(breach) == 1 and breach[0].data["target"] == "first_response"
    case.refresh_from_db()
    assert case.priority == "normal"
    assert (state.state, state.summary) == ("breached", "First response target missed")


def test_a_reopened_case_starts_a_new_resolution_clock(settle):
    policy("Standard", priority="normal", resolution_minutes=120)
    agent = make_agent()
    with step(at(*MONDAY, 9)):
        case = make_case()
    with step(at(*MONDAY, 10)):
        agent_replies(case, agent)
        case_transition(case=case, to="solved", actor=agent)
        settle()
    sla = sla_of(case)
    assert (sla.resolution_stopped_at, sla.resolution_due_at) == (at(*MONDAY, 10), at(*MONDAY, 11))
    assert case_sla_states(cases=[case])[case.pk].state == "met"
    with step(at(*MONDAY, 15)):
        customer_writes(case, "It broke again.")
        settle()
    sla = sla_of(case)
    # Counted afresh from the reopening: 2 hours from Monday 15:00 is 17:00.
    assert (sla.resolution_started_at, sla.resolution_due_at, sla.resolution_stopped_at) == (
        at(*MONDAY, 15),
        at(*MONDAY, 17),
        None,
    )


def test_the_states_of_many_cases_take_one_query(settle, django_assert_num_queries):
    with step(at(*MONDAY, 9)):
        cases = [make_case(priority=p) for p in ("low", "normal", "high", "urgent")]
        settle()
    with step(at(*MONDAY, 10, 30)), django_assert_num_queries(1):
        states = case_sla_states(cases=cases)
    # Due 17:00, 13:00, 11:00 and 10:00; the warnings at 15:00, 12:00, 10:30 and 09:45.
    assert [states[c.pk].state for c in cases] == ["ok", "ok", "warning", "breached"]
    assert [states[c.pk].time_left for c in cases] == [
        timedelta(hours=6, minutes=30),
        timedelta(hours=2, minutes=30),
        timedelta(minutes=30),
        timedelta(minutes=-30),
    ]
    assert states[cases[3].pk].summary == "First response overdue by 30m"


def test_a_refresh_of_a_case_that_is_gone_does_nothing():
    assert case_sla_refresh(case_id=987654) is None
