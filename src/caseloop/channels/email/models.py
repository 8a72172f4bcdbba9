"""Mailboxes the desk receives mail for, and the mailbox each email case belongs to."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.db import models
from django.utils.translation import gettext_lazy as _


class Mailbox(models.Model):
    """An address the desk answers for. Mail arrives by the SMTP/LMTP gateway, a provider
    webhook, or IMAP polling when `imap_url` is set; replies go out from this address."""

    class AfterProcessing(models.TextChoices):
        FLAG = "flag", _("Flag as seen and processed")
        MOVE = "move", _("Move to the processed folder")

    address = models.EmailField(unique=True, help_text="Lower-cased, e.g. support@example.com.")
    display_name = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True)
    imap_url = models.CharField(
        max_length=500,
        blank=True,
        help_text="imaps://user:password@host[:port]/FOLDER, or imap:// on a trusted network. "
        "Holds a password: never shown in lists or logs.",
    )
    imap_folder = models.CharField(max_length=200, default="INBOX")
    after_processing = models.CharField(
        max_length=8, choices=AfterProcessing.choices, default=AfterProcessing.FLAG
    )
    processed_folder = models.CharField(max_length=200, default="Caseloop/Processed", blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_poll_ok_at = models.DateTimeField(null=True, blank=True)
    last_poll_count = models.PositiveIntegerField(default=0)
    last_poll_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["address"]
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return self.address

    @property
    def imap_url_redacted(self) -> str:
        """The IMAP URL with the password replaced, safe for lists and logs."""
        return url_redact(self.imap_url)

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


def url_redact(url: str) -> str:
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unreadable URL)"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class EmailThread(models.Model):
    """The mailbox an email case came in on: replies go out from it. Kept beside the case
    rather than on it, so the case model stays channel-neutral."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="email_thread")
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="threads"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"case {self.case_id} via {self.mailbox_id}"
