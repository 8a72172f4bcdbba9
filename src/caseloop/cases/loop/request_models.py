"""Requests to other departments: a question or a job for another team, or for someone
outside the desk, asked on a case whose owner stays its owner.

Imported by `cases.models` so the model belongs to the cases app. Writes go through
`caseloop.cases.loop.requests`; nothing here has side effects.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["DepartmentRequest"]

USER = settings.AUTH_USER_MODEL


class DepartmentRequest(models.Model):
    """A request for information or action sent to a team of the desk (`to_team`) or to a
    person without a desk login (`to_email`, answered through a signed link). It carries a
    snapshot of the hand-off facts the asker chose; its answer lands on the case."""

    class Kind(models.TextChoices):
        INFORMATION = "information", _("Information")
        ACTION = "action", _("Action")

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for an answer")
        ANSWERED = "answered", _("Answered")
        CANCELLED = "cancelled", _("Cancelled")

    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="department_requests"
    )
    asked_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INFORMATION)
    to_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_email = models.EmailField(blank=True)
    question = models.TextField()
    # [{"key", "label", "value"}] as they stood when the request was sent.
    facts = models.JSONField(default=list, blank=True)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_fact_key = models.CharField(max_length=64, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reminder_count = models.PositiveIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # "Requests to my teams", and the reminder job's overdue scan.
            models.Index(fields=["state", "to_team"], name="dept_request_team"),
            models.Index(fields=["state", "due_at"], name="dept_request_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(to_team__isnull=False) & ~models.Q(to_email="")),
                name="dept_request_one_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"Request {self.pk} on case {self.case_id}"

    @property
    def recipient(self) -> str:
        if self.to_email:
            return self.to_email
        return self.to_team.name if self.to_team else "a deleted team"

    def is_overdue(self, now: datetime | None = None) -> bool:
        return self.state == self.State.OPEN and self.due_at < (now or timezone.now())

    @property
    def overdue(self) -> bool:
        return self.is_overdue()

    @property
    def status_label(self) -> str:
        return "Overdue" if self.is_overdue() else self.get_state_display()
