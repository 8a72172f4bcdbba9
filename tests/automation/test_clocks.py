"""The clock rules on their own (no database): an always-open schedule keeps the maths
plain, a 09:00–17:00 one checks that pauses are counted in business time."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from caseloop.automation.clocks import AGENT, CUSTOMER, STATUS, Moment, Targets, clocks_compute
from caseloop.automation.models import CaseSla
from caseloop.automation.selectors import Schedule
from caseloop.cases.models import CaseEvent, Message, OutboxEffect
from caseloop.channels.base import InboundMessage
from caseloop.channels.intake import inbound_receive

ALWAYS = Schedule(tz=ZoneInfo("UTC"), intervals={})
NINE_TO_FIVE = Schedule(
    tz=ZoneInfo("UTC"), intervals={day: ((time(9), time(17)),) for day in range(5)}
)
CREATED = datetime(2026, 11, 30, 9, tzinfo=UTC)  # a Monday


def later(minutes: int) -> datetime:
    return CREATED + timedelta(minutes=minutes)


def status(minutes: int, before: str, after: str) -> Moment:
    return Moment(at=later(minutes), kind=STATUS, before=before, after=after)


def compute(history, schedule=ALWAYS, **targets):
    targets.setdefault("first_response", 60)
    return clocks_compute(
        created_at=CREATED, history=history, targets=Targets(**targets), schedule=schedule
    )


def test_a_pause_after_the_due_time_keeps_the_breach():
    # Resolution 60 minutes, due 10:00; the case waits on the customer only from 10:30.
    cycles = compute(
        [
            Moment(later(10), AGENT),
            status(10, "new", "open"),
            status(90, "open", "pending_customer"),
        ],
        resolution=60,
    )
    (resolution,) = cycles["resolution"]
    assert resolution.due_at == later(60) and resolution.paused_at == later(90)
    assert resolution.missed and resolution.left_seconds is None


def test_solving_while_waiting_on_the_customer_stops_the_clock_in_time():
    # 20 minutes used, then 3 hours waiting on the customer, then solved: met.
    cycles = compute(
        [
            Moment(later(10), AGENT),
            status(10, "new", "open"),
            status(20, "open", "pending_customer"),
            status(200, "pending_customer", "solved"),
        ],
        resolution=60,
    )
    (resolution,) = cycles["resolution"]
    assert resolution.stopped_at == later(200) and not resolution.missed
    assert resolution.paused_seconds == 180 * 60


def test_a_pause_over_a_night_counts_only_business_hours_as_paused():
    # Paused Monday 16:00 to Tuesday 10:00: 1 hour on Monday, 1 on Tuesday.
    cycles = compute(
        [
            Moment(later(30), AGENT),
            status(30, "new", "open"),
            status(7 * 60, "open", "pending_customer"),
            status(25 * 60, "pending_customer", "open"),
        ],
        schedule=NINE_TO_FIVE,
        resolution=480,
    )
    (resolution,) = cycles["resolution"]
    # 7 business hours used on Monday, 1 left from Tuesday 10:00.
    assert resolution.paused_seconds == 2 * 3600
    assert resolution.due_at == later(26 * 60)


def test_customer_messages_before_the_first_reply_start_no_next_reply_clock():
    cycles = compute([Moment(later(5), CUSTOMER), Moment(later(30), CUSTOMER)], next_reply=30)
    assert "next_reply" not in cycles
    (first,) = cycles["first_response"]
    assert first.running and first.due_at == later(60) and first.warn_at == later(45)


def test_a_customer_writing_on_a_solved_case_gets_a_reply_clock_and_a_new_resolution():
    cycles = compute(
        [
            status(10, "new", "open"),
            status(20, "open", "solved"),
            Moment(later(100), CUSTOMER),
            status(100, "solved", "open"),
        ],
        next_reply=30,
        resolution=120,
    )
    # Solved without a reply: the first response clock stopped in time.
    assert cycles["first_response"][0].stopped_at == later(20)
    assert [c.started_at for c in cycles["resolution"]] == [CREATED, later(100)]
    (reply,) = cycles["next_reply"]
    assert reply.started_at == later(100) and reply.due_at == later(130)


@pytest.mark.django_db
def test_automatic_messages_neither_answer_nor_ask(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = inbound_receive(
            InboundMessage(
                channel="phone", phone="+14155550177", subject="Kettle", text="It sparks."
            )
        )
    case = result.case
    ack = case.messages.get(direction=Message.Direction.OUTBOUND)
    sla = CaseSla.objects.get(case=case)
    # The acknowledgement promised the clock's due time and did not stop the clock.
    assert ack.metadata["first_response_due"] == sla.first_response_due_at.isoformat()
    assert sla.first_response_stopped_at is None
    assert not CaseEvent.objects.filter(case=case, kind="sla_breached").exists()
    mine = OutboxEffect.objects.filter(case_id=case.pk, kind__contains="caseloop.automation.")
    assert mine.exists() and set(mine.values_list("state", flat=True)) == {"done"}
