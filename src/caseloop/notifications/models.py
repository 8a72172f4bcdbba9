"""A notification for one person, the people following a case, and each person's choice of
an email digest."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class Notification(models.Model):
    class Kind(models.TextChoices):
        ESCALATED = "escalated", _("Escalated to you")
        RETURNED = "returned", _("A question came back")
        SOLVED_BY_SOLVER = "solver_solved", _("The solver reported it solved")
        ASSIGNED = "assigned", _("Given to you")
        CUSTOMER_REPLIED = "customer_replied", _("The customer replied")
        MENTIONED = "mentioned", _("Mentioned in a note")
        NOTE = "note", _("A note on a case you follow")
        SLA_WARNING = "sla_warning", _("SLA target close")
        SLA_BREACHED = "sla_breached", _("SLA target missed")
        REQUEST_ANSWERED = "request_answered", _("Another department answered")
        RULE = "rule", _("An automation rule")

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.CharField(max_length=500)
    # What caused it ("event:<id>", "message:<id>"): one notification per person and cause,
    # however often the reaction runs.
    source = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["user", "source"], name="notification_once")]
        indexes = [
            models.Index(
                fields=["user", "-id"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(
                fields=["id"],
                condition=models.Q(emailed_at__isnull=True, read_at__isnull=True),
                name="notification_undigested",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.text}"


class CaseFollower(models.Model):
    """Someone who is told of a case's customer replies, notes and escalations without
    owning it."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="cases_followed")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="case_follower_once")]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.case_id}"


class NotificationPreference(models.Model):
    """Whether a person gets the email digest of what they have not read in the desk."""

    user = models.OneToOneField(
        USER, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_digest = models.BooleanField(default=True)
    last_digest_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user_id}: digest {'on' if self.email_digest else 'off'}"
