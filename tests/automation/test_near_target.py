"""Cases near or past an SLA target: which are, in what order, read from the stored clocks
(Monday to Friday 09:00–17:00 UTC, the default schedule)."""

import importlib

import pytest
from django.apps import apps

from caseloop.automation.models import CaseSla, SlaPolicy
from caseloop.automation.selectors import (
    case_sla_states,
    cases_sla_attention,
    sla_attention_page,
)
from caseloop.automation.services import sla_check
from caseloop.cases.models import Case
from caseloop.cases.selectors import InvalidCursor
from caseloop.cases.services import case_transition, message_add
from tests.automation.support import at, step
from tests.builders import make_agent, make_case

pytestmark = pytest.mark.django_db

MONDAY = (2026, 11, 30)


def near() -> list[Case]:
    return list(cases_sla_attention(Case.objects.all()).order_by("id"))


def urgent_first() -> list[Case]:
    return sla_attention_page(cases_sla_attention(Case.objects.all()))[0]


def summaries(cases: list[Case]) -> list[str]:
    states = case_sla_states(cases=cases)
    return [states[case.pk].summary for case in cases]


def test_a_case_is_near_target_from_its_warning_time_until_it_is_answered(settle):
    agent = make_agent()
    with step(at(*MONDAY, 9)):
        case = make_case()  # normal priority: due 13:00, the warning from 12:00
        settle()
    sla = CaseSla.objects.get(case=case)
    assert (sla.attention_at, sla.attention_due_at) == (at(*MONDAY, 12), at(*MONDAY, 13))
    with step(at(*MONDAY, 11, 59)):
        assert near() == []
    with step(at(*MONDAY, 12)):
        assert near() == [case]
    with step(at(*MONDAY, 14)):
        assert near() == [case]  # past its target, and still waiting
    with step(at(*MONDAY, 14, 5)):
        message_add(case=case, direction="outbound", text="Sorry for the wait.", actor=agent)
        settle()
        assert near() == []
    assert CaseSla.objects.get(case=case).attention_at is None


def test_next_reply_and_resolution_count_too_but_not_while_paused(settle):
    SlaPolicy.objects.create(
        name="Standard",
        priority="normal",
        position=1,
        first_response_minutes=30,
        next_reply_minutes=60,
        resolution_minutes=240,
    )
    agent = make_agent()
    with step(at(*MONDAY, 9)):
        asks_again, waits_long = make_case(), make_case()
    with step(at(*MONDAY, 9, 10)):
        for case in (asks_again, waits_long):
            message_add(case=case, direction="outbound", text="Looking into it.", actor=agent)
    with step(at(*MONDAY, 9, 20)):
        message_add(case=asks_again, direction="inbound", text="Any news?")
        settle()
    # Next reply due 10:20, its warning at 10:05; resolution due 13:00, its warning at 12:00.
    with step(at(*MONDAY, 10, 5)):
        assert near() == [asks_again]
        assert summaries(near()) == ["Next reply due in 15m"]
    with step(at(*MONDAY, 10, 10)):
        message_add(case=asks_again, direction="outbound", text="Here it is.", actor=agent)
        settle()
    with step(at(*MONDAY, 12)):
        assert near() == [asks_again, waits_long]
        assert summaries(near()) == ["Resolution due in 1h 0m", "Resolution due in 1h 0m"]
    with step(at(*MONDAY, 12, 10)):
        case_transition(case=waits_long, to="pending_customer", actor=agent)
        settle()
        # Waiting on the customer pauses the resolution clock: nothing runs late.
        assert near() == [asks_again]


def test_the_most_urgent_come_first_as_their_badges_read_and_page_by_keyset(settle):
    SlaPolicy.objects.create(
        name="Standard",
        priority="normal",
        position=1,
        first_response_minutes=30,
        next_reply_minutes=40,
        resolution_minutes=240,
    )
    agent = make_agent()
    with step(at(*MONDAY, 9)):
        asked = make_case()  # resolution due 13:00, the warning from 12:00
        overdue = make_case(priority="urgent")  # first response due 10:00
        make_case(priority="low")  # first response due 17:00, the warning from 15:00
    with step(at(*MONDAY, 9, 10)):
        message_add(case=asked, direction="outbound", text="Looking into it.", actor=agent)
    with step(at(*MONDAY, 10, 55)):
        soon = make_case(priority="high")  # first response due 12:55, the warning from 12:25
    with step(at(*MONDAY, 12, 10)):
        # Next reply due 12:50, the warning from 12:40.
        message_add(case=asked, direction="inbound", text="Any news?")
        settle()
    with step(at(*MONDAY, 12, 30)):
        # Its next reply is due sooner, but only its resolution is near its target yet.
        assert urgent_first() == [overdue, soon, asked]
        assert summaries(urgent_first()) == [
            "First response overdue by 2h 30m",
            "First response due in 25m",
            "Resolution due in 30m",
        ]
        first, cursor = sla_attention_page(cases_sla_attention(Case.objects.all()), limit=2)
        rest, end = sla_attention_page(
            cases_sla_attention(Case.objects.all()), cursor=cursor or "", limit=2
        )
        assert (first, rest, end) == ([overdue, soon], [asked], None)
        with pytest.raises(InvalidCursor):
            sla_attention_page(Case.objects.all(), cursor="not-a-cursor")
    with step(at(*MONDAY, 12, 40)):
        sla_check()  # the next reply's warning
    with step(at(*MONDAY, 12, 41)):
        assert urgent_first() == [overdue, asked, soon]
        assert summaries(urgent_first())[1] == "Next reply due in 9m"


def test_the_migration_puts_cases_already_near_their_target_in_the_list(settle):
    with step(at(*MONDAY, 9)):
        urgent, low = make_case(priority="urgent"), make_case(priority="low")
        settle()
    CaseSla.objects.update(attention_at=None, attention_due_at=None)
    migration = importlib.import_module("caseloop.automation.migrations.0006_case_sla_attention")
    with step(at(*MONDAY, 9, 50)):
        migration.attention_fill(apps, None)
        assert near() == [urgent]
    filled = {
        sla.case_id: (sla.attention_at, sla.attention_due_at) for sla in CaseSla.objects.all()
    }
    assert filled == {
        urgent.pk: (at(*MONDAY, 9, 45), at(*MONDAY, 10)),
        low.pk: (at(*MONDAY, 15), at(*MONDAY, 17)),
    }
