"""Live chat: widgets embedded on customers' sites and the conversations they carry."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _


def widget_key_generate() -> str:
    return secrets.token_urlsafe(12)


class ChatWidget(models.Model):
    """One embeddable chat widget. Sockets are accepted only from `allowed_origins`."""

    key = models.SlugField(max_length=64, unique=True, default=widget_key_generate)
    name = models.CharField(max_length=100)
    allowed_origins = models.TextField(
        blank=True,
        help_text="Sites the widget runs on, one origin per line (https://shop.example); "
        "'*' allows any site. The desk's own address is always allowed.",
    )
    greeting = models.CharField(
        max_length=500, default="Hello! How can we help you today?", blank=True
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

    @property
    def origins(self) -> list[str]:
        return [
            line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()
        ]


class ChatConversation(models.Model):
    """One visitor's conversation through a widget; its messages live on `case`."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    widget = models.ForeignKey(ChatWidget, on_delete=models.CASCADE, related_name="conversations")
    visitor_id = models.CharField(max_length=64, help_text="Kept in the visitor's browser.")
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_conversations",
    )
    email = models.EmailField(max_length=320, blank=True, help_text="Given by the visitor.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    transcript_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["widget", "visitor_id", "-id"], name="chat_conv_visitor"),
            models.Index(fields=["case", "-id"], name="chat_conv_case"),
        ]

    def __str__(self) -> str:
        return f"chat {self.pk} ({self.visitor_id[:8]}…)"


class ChatEmailClaim(models.Model):
    """A visitor says an address that already belongs to a customer is theirs. Until they
    enter the code mailed to it, the chat stays apart from that customer's history."""

    widget = models.ForeignKey(ChatWidget, on_delete=models.CASCADE, related_name="email_claims")
    visitor_id = models.CharField(max_length=64)
    email = models.EmailField(max_length=320)
    name = models.CharField(max_length=200, blank=True)
    code_hash = models.CharField(max_length=128, help_text="Keyed hash; the code is never kept.")
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["widget", "visitor_id", "-id"], name="chat_claim_visitor"),
            models.Index(fields=["email", "created_at"], name="chat_claim_email"),
        ]

    def __str__(self) -> str:
        return f"claim of {self.email} by {self.visitor_id[:8]}…"
