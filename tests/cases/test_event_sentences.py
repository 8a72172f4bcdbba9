"""How case events read in the timeline: sentences with names, never ids or Python lists,
the names of a whole page of events read together, a shared reason given once."""

import pytest

from caseloop.cases.events import _kinds, event_kind, event_lines
from caseloop.cases.models import CaseEvent
from caseloop.cases.services import case_transition, case_update, event_record
from caseloop.insights.services import nps_record, rating_record
from tests.builders import make_agent, make_case, make_category, make_customer, make_team

pytestmark = pytest.mark.django_db


def lines_of(case, **kwargs):
    events = list(CaseEvent.objects.filter(case=case).select_related("actor").order_by("id"))
    lines = event_lines(events=events, **kwargs)
    return [lines[event.pk] for event in events]


def texts_of(case):
    return [line.text for line in lines_of(case)]


def test_changes_to_a_case_read_as_sentences_naming_people_teams_and_categories():
    agent = make_agent(first_name="Sam", last_name="Lee")
    alex = make_agent(first_name="Alex", last_name="Kim")
    priya = make_agent(first_name="Priya", last_name="Shah")
    returns, billing = make_team(name="Returns"), make_team(name="Billing")
    case = make_case(actor=agent)
    case_update(case=case, actor=agent, assignee=alex, team=returns)
    case_update(case=case, actor=agent, assignee=priya, team=billing)
    case_update(case=case, actor=agent, assignee=None)
    case_update(case=case, actor=agent, tags=["complaint"])
    case_update(case=case, actor=agent, tags=["refund"])
    case_update(case=case, actor=agent, category=make_category(name="Refunds"))
    case_update(case=case, actor=agent, priority="high")
    case_transition(case=case, to="open", actor=agent)
    case_transition(case=case, to="pending_internal", actor=agent)

    texts = texts_of(case)
    assert "Assigned to Alex Kim" in texts
    assert "Assigned to Priya Shah (was Alex Kim)" in texts
    assert "Unassigned (was Priya Shah)" in texts
    assert "Team: Billing (was Returns)" in texts
    assert "Tagged complaint" in texts
    assert "Tagged refund; untagged complaint" in texts
    assert "Category: Refunds" in texts
    assert "Priority: Normal → High" in texts
    assert "Status: Open → Pending internal" in texts
    assert "Became the owner" in texts
    assert not [text for text in texts if "[" in text or "_" in text]
    assert not [text for text in texts if any(str(u.pk) in text.split() for u in (alex, priya))]


def test_what_customers_said_and_the_clocks_read_with_their_scores_and_words():
    agent = make_agent()
    customer = make_customer(name="Dana Reyes")
    case = make_case(customer=customer, actor=agent)
    case_transition(case=case, to="open", actor=agent)
    case_transition(case=case, to="solved", actor=agent)
    rating_record(case=case, customer=customer, score=4, comment="Quick and friendly")
    nps_record(customer=customer, score=9, channel="email", case=case)
    event_record(
        case=case,
        kind="sla_breached",
        data={"target": "first_response", "due": "2026-11-24T11:00:00+00:00", "policy": None},
    )
    event_record(
        case=case,
        actor=agent,
        kind="work_time_logged",
        data={"interval": 1, "agent": agent.pk, "seconds": 720, "source": "tracker"},
    )

    texts = texts_of(case)
    assert "Rated the service 4/5: “Quick and friendly”" in texts
    assert "Recommendation score 9/10" in texts
    assert "SLA: first response breached" in texts
    assert "Work time logged: 12 min" in texts


def test_a_triage_pass_gives_its_explanation_once_on_its_last_event():
    case = make_case()
    why = "category Refunds at 82% (model); priority high (score 3: complaint +2)"
    case_update(
        case=case,
        actor=None,
        category=make_category(name="Refunds"),
        priority="high",
        tags=["complaint"],
        reason="triage: " + why,
    )
    event_record(
        case=case,
        kind="triaged",
        data={
            "category": None,
            "confidence": 0.82,
            "priority": {"priority": "high"},
            "reason": why,
        },
    )
    shown = [line.reason for line in lines_of(case) if line.reason]
    assert shown == [why]


def test_the_rows_a_page_of_events_names_are_read_in_one_query_per_model(
    django_assert_num_queries,
):
    agent = make_agent()
    agents = [make_agent(first_name=f"Agent {n}") for n in range(10)]
    case = make_case(actor=agent)
    for few in (agents[:3], agents):
        for other in few:
            case_update(case=case, actor=agent, assignee=other)
        events = list(CaseEvent.objects.filter(case=case).select_related("actor"))
        # The assignees: one query for all of them, however many.
        with django_assert_num_queries(1):
            event_lines(events=events)
        # None when the page already holds them (its list of agents).
        with django_assert_num_queries(0):
            lines = event_lines(events=events, known=agents)
    assert "Assigned to Agent 9 (was Agent 8)" in {line.text for line in lines.values()}


def test_an_app_says_how_its_kind_reads_and_a_kind_that_does_not_reads_as_its_label():
    agent = make_agent(first_name="Rosa", last_name="Diaz")
    event_kind(
        "test_handed_over",
        "Handed over",
        describe=lambda event, names: f"Handed over to {names.name(event, 'to')}",
        refs={"to": "accounts.User"},
    )
    event_kind("test_plain", "Something plain")
    try:
        case = make_case()
        event_record(case=case, kind="test_handed_over", data={"to": agent.pk})
        event_record(case=case, kind="test_plain", data={"before": None, "after": 7})
        texts = texts_of(case)
        assert "Handed over to Rosa Diaz" in texts
        assert "Something plain" in texts
    finally:
        _kinds.pop("test_handed_over", None)
        _kinds.pop("test_plain", None)


def test_an_event_whose_data_lacks_what_its_sentence_needs_still_reads():
    case = make_case()
    event_record(case=case, kind="status_changed", data={})
    event_record(case=case, kind="assignee_changed", data={"before": None, "after": 999999})
    texts = texts_of(case)
    assert "Status changed" in texts
    assert "Assigned to a deleted user" in texts
