"""Trend alerts: a slice of new cases (a category, a product, a keyword, a mood) that grew
well above its seasonal baseline, raised once per slice and day for managers to look at."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class TrendAlert(models.Model):
    class Dimension(models.TextChoices):
        CATEGORY = "category", _("Category")
        PRODUCT = "product", _("Product")
        KEYWORD = "keyword", _("Keyword")
        MOOD = "mood", _("Mood")

    class State(models.TextChoices):
        OPEN = "open", _("New")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        DISMISSED = "dismissed", _("Dismissed")

    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    key = models.CharField(max_length=200, help_text="The slice: a category id, a product…")
    label = models.CharField(max_length=200)
    day = models.DateField(help_text="The day the spike was seen (one alert a slice a day).")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    count = models.PositiveIntegerField()
    expected = models.FloatField(help_text="What the seasonal baseline expected in the window.")
    case_ids = models.JSONField(default=list, blank=True)
    summary = models.CharField(max_length=500)
    state = models.CharField(max_length=14, choices=State.choices, default=State.OPEN)
    problem = models.ForeignKey(
        "insights.Problem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "key", "day"], name="trend_alert_once_a_day"
            )
        ]
        indexes = [models.Index(fields=["state", "-id"], name="trend_alert_state_idx")]

    def __str__(self) -> str:
        return f"{self.dimension} {self.label}: {self.count} vs {self.expected:.1f}"
