"""Business hours, SLA policies, each case's SLA clocks and the acknowledgement text.

Admins edit the hours, policies and texts; the selectors fall back to working defaults when
none are configured, so a fresh desk acknowledges with a sensible expected response time.
`CaseSla` is derived state, kept by `services.case_sla_refresh` and the minute check.
"""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from caseloop.cases.models import Case, Channel, Priority
from caseloop.customers.models import Organization

from .templating import ACK_PLACEHOLDERS, DEFAULT_ACK_SUBJECT, ack_render_check


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"'{value}' is not a known time zone (e.g. Europe/Berlin)") from exc


class BusinessHours(models.Model):
    """A weekly schedule in one time zone, with holidays. The default one is used for every
    SLA policy that names none."""

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


class SlaTarget(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_REPLY = "next_reply", _("Next reply")
    RESOLUTION = "resolution", _("Resolution")


class SlaPolicy(models.Model):
    """Service-level targets for the cases it matches, in business minutes.

    A policy matches a case when every condition it sets holds (an empty one matches
    anything). The most specific matching policy applies: one naming the organization beats
    one naming the service level, which beats one naming only the priority; among equally
    specific ones the lower position wins."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(
        default=100, help_text="Breaks ties between equally specific policies: lower first."
    )
    is_active = models.BooleanField(default=True)
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_policies",
        help_text="Empty: any organization.",
    )
    service_level = models.CharField(
        max_length=32,
        blank=True,
        help_text="The organization's contracted service level (e.g. premium); empty: any.",
    )
    priority = models.CharField(
        max_length=10, choices=Priority.choices, blank=True, help_text="Empty: any priority."
    )
    first_response_minutes = models.PositiveIntegerField(
        help_text="Business minutes from the case's creation to the first agent reply."
    )
    next_reply_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Business minutes from a customer's message after an agent reply to the "
        "next agent reply. Empty: no target.",
    )
    resolution_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Business minutes from the case's creation (or its reopening) to solved, "
        "not counting time waiting on the customer. Empty: no target.",
    )
    warn_percent = models.PositiveSmallIntegerField(
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text="A warning is recorded once this share of a target has been used.",
    )
    business_hours = models.ForeignKey(
        BusinessHours,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sla_policies",
        help_text="Leave empty to use the default schedule.",
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(warn_percent__gte=1, warn_percent__lte=99),
                name="sla_policy_warn_percent_range",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CaseSla(models.Model):
    """A case's SLA clocks as they stand: for each target, the current cycle (the first
    response; the latest next reply; the resolution since creation or the last reopening).

    `started_at` empty: no clock (no target, or nothing to answer yet). `due_at` empty while
    paused before the due time. `stopped_at`: answered or solved (met when not after
    `due_at`). `paused_at`: waiting on the customer since then, with `left_seconds` of
    business time left. `warned_at`/`breached_at`: when the check recorded the events, kept
    for as long as the cycle lasts so each is recorded once. `next_check_at` is the earliest
    moment the check has something to record.

    `attention_at` is when the first running target reached its warning share (or had a
    warning or breach recorded): from then on the case is near or past its target, until no
    target in that state runs any more. `attention_due_at` is the due time of the most
    pressing such target, the order of the "near target" queue. Both are empty while no
    clock runs."""

    case = models.OneToOneField(
        Case, on_delete=models.CASCADE, primary_key=True, related_name="sla"
    )
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attention_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attention_due_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    first_response_started_at = models.DateTimeField(null=True, blank=True)
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    first_response_warn_at = models.DateTimeField(null=True, blank=True)
    first_response_stopped_at = models.DateTimeField(null=True, blank=True)
    first_response_paused_at = models.DateTimeField(null=True, blank=True)
    first_response_paused_seconds = models.PositiveIntegerField(default=0)
    first_response_left_seconds = models.PositiveIntegerField(null=True, blank=True)
    first_response_warned_at = models.DateTimeField(null=True, blank=True)
    first_response_breached_at = models.DateTimeField(null=True, blank=True)

    next_reply_started_at = models.DateTimeField(null=True, blank=True)
    next_reply_due_at = models.DateTimeField(null=True, blank=True)
    next_reply_warn_at = models.DateTimeField(null=True, blank=True)
    next_reply_stopped_at = models.DateTimeField(null=True, blank=True)
    next_reply_paused_at = models.DateTimeField(null=True, blank=True)
    next_reply_paused_seconds = models.PositiveIntegerField(default=0)
    next_reply_left_seconds = models.PositiveIntegerField(null=True, blank=True)
    next_reply_warned_at = models.DateTimeField(null=True, blank=True)
    next_reply_breached_at = models.DateTimeField(null=True, blank=True)

    resolution_started_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    resolution_stopped_at = models.DateTimeField(null=True, blank=True)
    resolution_paused_at = models.DateTimeField(null=True, blank=True)
    resolution_paused_seconds = models.PositiveIntegerField(default=0)
    resolution_left_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_warned_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "case SLA"
        verbose_name_plural = "case SLAs"

    def __str__(self) -> str:
        return f"SLA of case {self.case_id}"


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


class WebhookSubscription(models.Model):
    """An integration told of the desk's case events as they happen: a signed POST of each
    event of the kinds it chose (all kinds when none) to its URL."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(
        max_length=100, help_text="Signs each delivery (X-Caseloop-Signature, HMAC-SHA256)."
    )
    event_kinds = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, kind: str) -> bool:
        return self.is_active and (not self.event_kinds or kind in self.event_kinds)


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one subscription: the delivery log."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.BigIntegerField()
    kind = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["subscription", "-id"], name="webhook_delivery_sub")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.event_id} → {self.subscription_id}: {self.state}"


class EventCursor(models.Model):
    """How far a reader of the case-event log has read (by event id)."""

    name = models.CharField(max_length=40, unique=True)
    last_event_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at {self.last_event_id}"


class Rule(models.Model):
    """An automation rule: when an event of one of `trigger_kinds` is recorded on a case
    and its conditions hold, its actions run (see `automation.rules`). Conditions and
    actions are kept as checked JSON (`rules.rule_spec_check`)."""

    class Match(models.TextChoices):
        ALL = "all", _("All conditions")
        ANY = "any", _("Any condition")

    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=100, help_text="Lower runs first.")
    trigger_kinds = models.JSONField(default=list)
    match = models.CharField(max_length=3, choices=Match.choices, default=Match.ALL)
    conditions = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class RuleRun(models.Model):
    """A rule that ran for one event: a rule runs at most once per event it reacts to."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    event_id = models.BigIntegerField()
    depth = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "event_id"], name="rule_run_once_per_event")
        ]
        indexes = [models.Index(fields=["rule", "case", "created_at"], name="rule_run_case")]

    def __str__(self) -> str:
        return f"rule {self.rule_id} on event {self.event_id}"


class RuleCausedEvent(models.Model):
    """A case event a rule's action wrote, with the rules that led to it: none of them
    reacts to it again, so rules cannot fire each other in a circle."""

    event_id = models.BigIntegerField(unique=True)
    rule_ids = models.JSONField(default=list)
    depth = models.PositiveSmallIntegerField(default=1)

    def __str__(self) -> str:
        return f"event {self.event_id} by rules {self.rule_ids}"
