from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .ratings import NpsResponse, SatisfactionRating


class SurveySettings(models.Model):
    """Desk-wide rules of the recommendation (NPS) survey, edited in the admin (one row;
    defaults when absent)."""

    nps_enabled = models.BooleanField(
        default=True, help_text="Ask customers how likely they are to recommend us."
    )
    nps_period_days = models.PositiveIntegerField(
        default=90,
        help_text="A customer is asked at most once in this many days, however many cases "
        "are solved meanwhile.",
    )
    nps_delay_hours = models.PositiveIntegerField(
        default=0, help_text="How long after a case is solved the survey goes out."
    )
    nps_link_days = models.PositiveIntegerField(
        default=30, help_text="How long the survey can be answered (emailed link and portal)."
    )

    class Meta:
        verbose_name = "survey settings"
        verbose_name_plural = "survey settings"

    def __str__(self) -> str:
        return "Survey settings"

    @classmethod
    def current(cls) -> SurveySettings:
        return cls.objects.order_by("pk").first() or cls()


def survey_nonce() -> str:
    return secrets.token_hex(8)


class SurveyInvitation(models.Model):
    """One recommendation survey offered to a customer after a case was solved: by email
    (a signed link) when the customer has an address, and always in the portal. At most one
    per case; the period rule counts every invitation not cancelled."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        SENT = "sent", _("Sent")
        ANSWERED = "answered", _("Answered")
        CANCELLED = "cancelled", _("Cancelled")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email and portal")
        PORTAL = "portal", _("Portal only")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="survey_invitations"
    )
    # Kept (as null) when the case goes, so the customer's period still counts it.
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_invitations",
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.SCHEDULED)
    channel = models.CharField(max_length=8, choices=Channel.choices, blank=True)
    send_at = models.DateTimeField(help_text="When it is (or was) due to go out.")
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        "cases.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    response = models.OneToOneField(
        NpsResponse,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitation",
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    # Signed links name the invitation and this nonce; a new nonce retires the old links.
    nonce = models.CharField(max_length=32, default=survey_nonce)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-send_at"]
        constraints = [
            models.UniqueConstraint(fields=["case"], name="surveyinvitation_one_per_case")
        ]
        indexes = [
            models.Index(fields=["customer", "send_at"], name="surveyinvitation_customer"),
        ]

    def __str__(self) -> str:
        return f"NPS survey for {self.customer_id} ({self.state})"


class CommentTheme(models.Model):
    """What a survey comment (CSAT or NPS) is about, in the desk's categories: the triage
    category model's guess and its confidence, so comments feed the recurring problems."""

    rating = models.OneToOneField(
        SatisfactionRating,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="theme",
    )
    nps_response = models.OneToOneField(
        NpsResponse, null=True, blank=True, on_delete=models.CASCADE, related_name="theme"
    )
    category = models.ForeignKey(
        "cases.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confidence = models.FloatField(default=0.0)
    source = models.CharField(max_length=16, help_text="model, rules or none")
    # The answer's own time, so reports over a period read this table alone.
    answered_at = models.DateTimeField(db_index=True)
    themed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-answered_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(rating__isnull=False, nps_response__isnull=True)
                    | models.Q(rating__isnull=True, nps_response__isnull=False)
                ),
                name="commenttheme_one_answer",
            )
        ]

    def __str__(self) -> str:
        return f"theme {self.category_id} ({self.confidence:.2f})"


class Recovery(models.Model):
    """A low score (CSAT 2 or less, NPS 6 or less) left for the case's owner to follow up:
    call or write to the customer, put things right, and note what was done."""

    class Source(models.TextChoices):
        CSAT = "csat", _("Satisfaction rating")
        NPS = "nps", _("Recommendation score")

    class State(models.TextChoices):
        OPEN = "open", _("To do")
        DONE = "done", _("Done")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="recoveries")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recoveries",
        help_text="The case's owner when the score came in.",
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    score = models.PositiveSmallIntegerField()
    rating = models.OneToOneField(
        SatisfactionRating,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="recovery",
    )
    nps_response = models.OneToOneField(
        NpsResponse, null=True, blank=True, on_delete=models.CASCADE, related_name="recovery"
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    note = models.TextField(blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "recoveries"
        indexes = [models.Index(fields=["state", "case"], name="recovery_state_case")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(rating__isnull=False, nps_response__isnull=True)
                    | models.Q(rating__isnull=True, nps_response__isnull=False)
                ),
                name="recovery_one_answer",
            )
        ]

    def __str__(self) -> str:
        return f"recovery of {self.case_id} ({self.get_source_display()} {self.score})"
