"""Business-time maths: weekly schedules with holidays, adding open time to a moment and
measuring the open time between two moments. Pure: no database.

Calendars (weekdays, holidays, opening hours) are read in the schedule's local time and
durations in UTC, so daylight-saving changes count real minutes.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

# Searching further than this for an open minute means the schedule has no open time.
_MAX_DAYS = 800


@dataclass(frozen=True)
class Schedule:
    """A weekly schedule in a time zone; an empty week means always open."""

    tz: zoneinfo.ZoneInfo
    intervals: dict[int, tuple[tuple[time, time], ...]]
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def always_open(self) -> bool:
        return not any(self.intervals.values())

    def windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open periods of a local calendar day, as UTC datetimes."""
        if day in self.holidays:
            return []
        periods = []
        for start, end in self.intervals.get(day.weekday(), ()):
            opens = datetime.combine(day, start, tzinfo=self.tz).astimezone(UTC)
            closes = datetime.combine(day, end, tzinfo=self.tz).astimezone(UTC)
            if closes > opens:
                periods.append((opens, closes))
        return periods


def business_time_after(*, start: datetime, span: timedelta, schedule: Schedule) -> datetime:
    """The moment `span` of open business time after `start` has passed (the first open
    moment at or after `start` when `span` is zero)."""
    if schedule.always_open:
        return start + span
    remaining = span
    start = start.astimezone(UTC)
    day = start.astimezone(schedule.tz).date() - timedelta(days=1)
    for _ in range(_MAX_DAYS):
        for opens, closes in schedule.windows(day):
            if closes <= start:
                continue
            begin = max(opens, start)
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        day += timedelta(days=1)
    raise ValueError("the business hours have no open time in the next two years")


def business_time_add(*, start: datetime, minutes: int, schedule: Schedule) -> datetime:
    """The moment `minutes` of open business time after `start` have passed."""
    return business_time_after(start=start, span=timedelta(minutes=minutes), schedule=schedule)


def business_time_between(*, start: datetime, end: datetime, schedule: Schedule) -> timedelta:
    """Open business time between two moments (zero when end is before start)."""
    if end <= start:
        return timedelta(0)
    if schedule.always_open:
        return end - start
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta(0)
    day = start.astimezone(schedule.tz).date() - timedelta(days=1)
    last = end.astimezone(schedule.tz).date() + timedelta(days=1)
    while day <= last:
        for opens, closes in schedule.windows(day):
            begin, finish = max(opens, start), min(closes, end)
            if finish > begin:
                total += finish - begin
        day += timedelta(days=1)
    return total
