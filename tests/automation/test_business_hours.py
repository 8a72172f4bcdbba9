from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from caseloop.automation.models import BusinessHours, Holiday, SlaPolicy
from caseloop.automation.selectors import (
    Schedule,
    business_time_add,
    business_time_between,
    case_first_response_due,
)
from caseloop.cases.models import Case
from tests.builders import make_case

NINE_TO_FIVE = {day: ((time(9), time(17)),) for day in range(5)}
UTC_WEEK = Schedule(tz=ZoneInfo("UTC"), intervals=NINE_TO_FIVE)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_time_inside_business_hours_is_added_the_same_day():
    # Tuesday 10:00 + 4h = Tuesday 14:00
    assert business_time_add(start=at(2026, 11, 24, 10), minutes=240, schedule=UTC_WEEK) == at(
        2026, 11, 24, 14
    )


def test_after_hours_time_rolls_over_to_the_next_morning():
    # Tuesday 15:00 + 4h = 2h on Tuesday, 2h from Wednesday 09:00
    assert business_time_add(start=at(2026, 11, 24, 15), minutes=240, schedule=UTC_WEEK) == at(
        2026, 11, 25, 11
    )
    # Tuesday 20:00 (closed) + 4h = Wednesday 13:00
    assert business_time_add(start=at(2026, 11, 24, 20), minutes=240, schedule=UTC_WEEK) == at(
        2026, 11, 25, 13
    )


def test_weekend_counts_nothing():
    # Friday 16:00 + 4h = 1h on Friday, 3h on Monday
    assert business_time_add(start=at(2026, 11, 27, 16), minutes=240, schedule=UTC_WEEK) == at(
        2026, 11, 30, 12
    )
    # Saturday noon + 1h = Monday 10:00
    assert business_time_add(start=at(2026, 11, 28, 12), minutes=60, schedule=UTC_WEEK) == at(
        2026, 11, 30, 10
    )


def test_holidays_are_closed_days():
    schedule = Schedule(
        tz=ZoneInfo("UTC"), intervals=NINE_TO_FIVE, holidays=frozenset({date(2026, 11, 30)})
    )
    # Friday 16:00 + 4h: Monday is a holiday, so Tuesday 12:00
    assert business_time_add(start=at(2026, 11, 27, 16), minutes=240, schedule=schedule) == at(
        2026, 12, 1, 12
    )


def test_schedule_time_zone_decides_the_opening_hours():
    berlin = Schedule(tz=ZoneInfo("Europe/Berlin"), intervals=NINE_TO_FIVE)
    # 07:00 UTC on a winter Tuesday is 08:00 in Berlin: opens 08:00 UTC, +1h = 09:00 UTC
    assert business_time_add(start=at(2026, 11, 24, 7), minutes=60, schedule=berlin) == at(
        2026, 11, 24, 9
    )


def test_daylight_saving_change_counts_real_minutes():
    new_york = ZoneInfo("America/New_York")
    always = Schedule(tz=new_york, intervals={day: ((time(0), time(23, 59)),) for day in range(7)})
    # Clocks spring forward on 8 March 2026 at 02:00 local; 01:30 local + 60 min = 03:30 local
    start = datetime(2026, 3, 8, 1, 30, tzinfo=new_york)
    due = business_time_add(start=start, minutes=60, schedule=always)
    assert due.astimezone(new_york).hour == 3 and due.astimezone(new_york).minute == 30


def test_business_time_between_skips_nights_and_weekends():
    # Friday 16:00 → Monday 10:00 = 1h + 1h
    assert business_time_between(
        start=at(2026, 11, 27, 16), end=at(2026, 11, 30, 10), schedule=UTC_WEEK
    ) == timedelta(hours=2)


def test_an_empty_week_is_always_open():
    schedule = Schedule(tz=ZoneInfo("UTC"), intervals={})
    assert business_time_add(start=at(2026, 11, 28, 12), minutes=90, schedule=schedule) == at(
        2026, 11, 28, 13, 30
    )


@pytest.mark.django_db
def test_first_response_due_follows_the_configured_schedule_target_and_holidays():
    hours = BusinessHours.objects.get(is_default=True)
    hours.timezone = "Europe/Berlin"
    hours.save()
    Holiday.objects.create(hours=hours, date=date(2026, 11, 30), name="Closed")
    SlaPolicy.objects.filter(priority="high").update(first_response_minutes=60)
    case = make_case(priority="high")
    Case.objects.filter(pk=case.pk).update(created_at=at(2026, 11, 27, 15, 30))  # Fri 16:30 CET
    case.refresh_from_db()
    # 30 min on Friday until 17:00 CET; Monday is a holiday; 30 min on Tuesday from 09:00 CET
    assert case_first_response_due(case=case) == at(2026, 12, 1, 8, 30)
