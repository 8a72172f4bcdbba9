"""Business hours, first-response targets and the acknowledgement text.

All three are edited by admins; the selectors fall back to working defaults when none are
configured, so a fresh desk acknowledges with a sensible expected response time.
"""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models

from caseloop.cases.models import Channel, Priority

from .templating import ACK_PLACEHOLDERS, DEFAULT_ACK_SUBJECT, ack_render_check


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"'{value}' is not a known time zone (e.g. Europe/Berlin)") from exc


class BusinessHours(models.Model):
    """A weekly schedule in one time zone, with holidays. The default one is used for every
    response target that names none."""

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    is_default = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "business hours"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="business_hours_one_default",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.timezone})"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class BusinessHoursInterval(models.Model):
    """One open period on one weekday, in the schedule's local time."""

    hours = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="intervals")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="bh_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class Holiday(models.Model):
    """A closed day in a schedule (local date)."""

    hours = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["hours", "date"], name="holiday_unique_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class ResponseTarget(models.Model):
    """The first-response target for one priority, counted in business minutes."""

    priority = models.CharField(max_length=10, choices=Priority.choices, unique=True)
    first_response_minutes = models.PositiveIntegerField(
        help_text="Business minutes from the case's creation to the first agent reply."
    )
    near_percent = models.PositiveSmallIntegerField(
        default=75, help_text="A case is 'near' its target once this share of it has elapsed."
    )
    business_hours = models.ForeignKey(
        BusinessHours,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="targets",
        help_text="Leave empty to use the default schedule.",
    )

    class Meta:
        ordering = ["first_response_minutes"]

    def __str__(self) -> str:
        return f"{self.get_priority_display()}: {self.first_response_minutes} business minutes"


class AcknowledgementTemplate(models.Model):
    """The automatic acknowledgement's text. Placeholders: {reference}, {expected_response},
    {customer_name}, {subject}. A template for a channel wins over the one for all channels."""

    channel = models.CharField(
        max_length=16,
        choices=Channel.choices,
        blank=True,
        unique=True,
        help_text="Empty: every channel without its own template.",
    )
    subject = models.CharField(max_length=200, default=DEFAULT_ACK_SUBJECT)
    text = models.TextField()
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"Acknowledgement ({self.get_channel_display() or 'all channels'})"

    def clean(self) -> None:
        for field in ("subject", "text"):
            problem = ack_render_check(getattr(self, field))
            if problem:
                raise ValidationError(
                    {field: f"{problem}; placeholders: {', '.join(ACK_PLACEHOLDERS)}"}
                )
