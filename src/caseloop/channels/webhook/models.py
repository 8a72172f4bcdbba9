"""Signed inbound webhooks: one endpoint per integration, each with its own secret."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from caseloop.cases.models import Channel


def secret_generate() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """An integration posting to /channels/webhooks/<slug>. The secret signs every request;
    it is kept (HMAC needs it), shown once when the endpoint is created, never logged."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.SOCIAL)
    network = models.CharField(
        max_length=32,
        blank=True,
        help_text="Prefix for sender handles (e.g. 'x' makes '@ann' the contact 'x:@ann'), so "
        "the same handle on two networks is two people. Empty: the slug.",
    )
    secret = models.CharField(max_length=100, default=secret_generate, editable=False)
    tolerance_seconds = models.PositiveIntegerField(
        default=300, help_text="How old a signed timestamp may be (replay window)."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def handle_prefix(self) -> str:
        return self.network or self.slug


class WebhookDelivery(models.Model):
    """One row per event id seen on an endpoint: a replayed or re-delivered event finds it
    and creates nothing new."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        QUARANTINED = "quarantined", _("Quarantined")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    event_id = models.CharField(max_length=200)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    quarantine = models.ForeignKey(
        "intake.QuarantinedMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_event_unique")
        ]

    def __str__(self) -> str:
        return f"{self.endpoint_id}:{self.event_id}"
