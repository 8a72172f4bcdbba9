"""Reads for response targets: business-hours maths, when a case's first response is due,
and whether it is on track.

The schedule maths works in the schedule's local time for the calendar (weekdays, holidays,
opening hours) and in UTC for durations, so daylight-saving changes count real minutes.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from caseloop.cases.models import Priority

from .models import AcknowledgementTemplate, BusinessHours, ResponseTarget
from .templating import DEFAULT_ACK_SUBJECT, DEFAULT_ACK_TEXT

# Working defaults for a desk nobody has configured yet.
DEFAULT_INTERVALS: dict[int, tuple[tuple[time, time], ...]] = {
    day: ((time(9), time(17)),) for day in range(5)
}
DEFAULT_TARGET_MINUTES: dict[str, int] = {
    Priority.URGENT: 60,
    Priority.HIGH: 120,
    Priority.NORMAL: 240,
    Priority.LOW: 480,
}
DEFAULT_NEAR_PERCENT = 75
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


@dataclass(frozen=True)
class ResponsePolicy:
    """Everything needed to compute due times: loaded once, used for many cases."""

    schedules: dict[int | None, Schedule]
    targets: dict[str, tuple[int, int, int | None]]  # priority -> (minutes, near %, hours id)

    def schedule_for(self, priority: str) -> Schedule:
        hours_id = self.targets.get(priority, (0, 0, None))[2]
        return self.schedules.get(hours_id) or self.schedules[None]

    def minutes_for(self, priority: str) -> int:
        if priority in self.targets:
            return self.targets[priority][0]
        return DEFAULT_TARGET_MINUTES.get(priority, DEFAULT_TARGET_MINUTES[Priority.NORMAL])

    def near_percent_for(self, priority: str) -> int:
        if priority in self.targets:
            return self.targets[priority][1]
        return DEFAULT_NEAR_PERCENT


def schedule_from(hours: BusinessHours) -> Schedule:
    """A Schedule from a BusinessHours row with its intervals and holidays prefetched."""
    intervals: dict[int, list[tuple[time, time]]] = {}
    for interval in hours.intervals.all():
        intervals.setdefault(interval.weekday, []).append((interval.start, interval.end))
    return Schedule(
        tz=zoneinfo.ZoneInfo(hours.timezone),
        intervals={day: tuple(sorted(spans)) for day, spans in intervals.items()},
        holidays=frozenset(holiday.date for holiday in hours.holidays.all()),
    )


def default_schedule() -> Schedule:
    return Schedule(tz=zoneinfo.ZoneInfo("UTC"), intervals=DEFAULT_INTERVALS)


def response_policy_load() -> ResponsePolicy:
    """Business hours and targets as configured in the admin (three queries)."""
    schedules: dict[int | None, Schedule] = {}
    for hours in BusinessHours.objects.prefetch_related("intervals", "holidays"):
        schedules[hours.pk] = schedule_from(hours)
        if hours.is_default:
            schedules[None] = schedules[hours.pk]
    schedules.setdefault(None, default_schedule())
    targets = {
        target.priority: (
            target.first_response_minutes,
            target.near_percent,
            target.business_hours_id,
        )
        for target in ResponseTarget.objects.all()
    }
    return ResponsePolicy(schedules=schedules, targets=targets)


def business_time_add(*, start: datetime, minutes: int, schedule: Schedule) -> datetime:
    """The moment `minutes` of open business time after `start` have passed."""
    if schedule.always_open:
        return start + timedelta(minutes=minutes)
    remaining = timedelta(minutes=minutes)
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


def case_first_response_due(*, case, policy: ResponsePolicy | None = None) -> datetime:
    """When the first agent reply on `case` is due, counted in business hours from its
    creation according to the target for its priority."""
    policy = policy or response_policy_load()
    return business_time_add(
        start=case.created_at,
        minutes=policy.minutes_for(case.priority),
        schedule=policy.schedule_for(case.priority),
    )


def case_response_state(
    *, case, policy: ResponsePolicy | None = None, now: datetime | None = None
) -> str:
    """ "ok", "near" (most of the target used up) or "breached" for the first response."""
    policy = policy or response_policy_load()
    due = case_first_response_due(case=case, policy=policy)
    if case.first_response_at is not None:
        return "breached" if case.first_response_at > due else "ok"
    now = now or timezone.now()
    if now >= due:
        return "breached"
    target = timedelta(minutes=policy.minutes_for(case.priority))
    used = business_time_between(
        start=case.created_at, end=now, schedule=policy.schedule_for(case.priority)
    )
    near = target * policy.near_percent_for(case.priority) / 100
    return "near" if used >= near else "ok"


def cases_response_states(*, cases: Iterable, now: datetime | None = None) -> dict[int, str]:
    """`case_response_state` for many cases with one policy load: {case id: state}."""
    policy = response_policy_load()
    now = now or timezone.now()
    return {case.pk: case_response_state(case=case, policy=policy, now=now) for case in cases}


def expected_response_text(*, due: datetime, policy: ResponsePolicy, priority: str) -> str:
    """ "by Tuesday 25 November 2026, 13:00 UTC" in the schedule's time zone."""
    tz = policy.schedule_for(priority).tz
    local = due.astimezone(tz)
    return f"by {local:%A} {local.day} {local:%B %Y, %H:%M} {local.tzname()}"


def ack_template_for(*, channel: str) -> tuple[str, str] | None:
    """(subject, text) of the acknowledgement for `channel`; None when acknowledgements
    are switched off for it."""
    templates = {
        t.channel: t for t in AcknowledgementTemplate.objects.filter(channel__in=[channel, ""])
    }
    template = templates.get(channel) or templates.get("")
    if template is None:
        return DEFAULT_ACK_SUBJECT, DEFAULT_ACK_TEXT
    if not template.is_active:
        return None
    return template.subject, template.text
