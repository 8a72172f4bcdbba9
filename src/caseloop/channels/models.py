from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class InboundReceipt(models.Model):
    """One row per external message id seen on a channel: a second delivery of the same
    message finds it and creates nothing new."""

    channel = models.CharField(max_length=16)
    external_id = models.CharField(max_length=500)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey("cases.Message", on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="inbound_receipt_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id}"


class QuarantinedMessage(models.Model):
    """Input that could not be parsed or placed, kept raw with the reason so nothing is lost.
    Admins see it, fix what is needed, and retry it."""

    class State(models.TextChoices):
        HELD = "held", _("Held")
        RETRIED = "retried", _("Retried into a case")
        DISCARDED = "discarded", _("Discarded")

    channel = models.CharField(max_length=16)
    source = models.CharField(max_length=200, blank=True, help_text="Mailbox, webhook, form…")
    reason = models.TextField()
    raw = models.BinaryField()
    metadata = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.HELD)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.channel} quarantine #{self.pk}: {self.reason[:60]}"
