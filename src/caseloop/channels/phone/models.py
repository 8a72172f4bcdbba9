"""Phone calls logged by agents or reported by a telephony provider."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CallLog(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound (customer called)")
        OUTBOUND = "outbound", _("Outbound (we called)")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="calls")
    message = models.OneToOneField("cases.Message", on_delete=models.CASCADE, related_name="call")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    phone = models.CharField(max_length=32, help_text="The customer's number, E.164.")
    duration_seconds = models.PositiveIntegerField(default=0)
    notes = models.TextField(blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls_logged",
    )
    started_at = models.DateTimeField()
    provider = models.CharField(max_length=64, blank=True, help_text="Telephony webhook slug.")
    external_id = models.CharField(max_length=200, blank=True, help_text="Provider's call id.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["phone", "-started_at"], name="call_phone_started")]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"],
                condition=~models.Q(external_id=""),
                name="call_unique_provider_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.direction} call {self.phone} ({self.duration_seconds}s)"
