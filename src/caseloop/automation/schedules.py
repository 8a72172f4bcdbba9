"""Writes for business-hours schedules as admins edit them in the workspace: a schedule with
its weekly open periods and holidays saved as one, and at most one default."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time

from django.db import transaction

from .models import BusinessHours, BusinessHoursInterval, Holiday


@transaction.atomic
def business_hours_save(
    *,
    hours: BusinessHours,
    intervals: Iterable[tuple[int, time, time]],
    holidays: Iterable[tuple[date, str]],
) -> BusinessHours:
    """Save `hours` (new or changed) with exactly these open periods (weekday, start, end)
    and holidays (date, name), replacing the ones it had. A schedule made the default takes
    that place from the former default. Side effects: none; each case's clocks pick the new
    hours up at its next change."""
    if hours.is_default:
        BusinessHours.objects.filter(is_default=True).exclude(pk=hours.pk).update(is_default=False)
    hours.save()
    hours.intervals.all().delete()
    BusinessHoursInterval.objects.bulk_create(
        BusinessHoursInterval(hours=hours, weekday=day, start=start, end=end)
        for day, start, end in intervals
    )
    hours.holidays.all().delete()
    Holiday.objects.bulk_create(Holiday(hours=hours, date=day, name=name) for day, name in holidays)
    return hours
