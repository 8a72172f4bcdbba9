from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkInterval(models.Model):
    """A stretch of time an agent actively worked a case: tracked in the workspace (runs
    while the case is open and the agent active), a logged call, or entered by hand. The
    agent can correct `seconds`; handling time is the sum over a case's intervals."""

    class Source(models.TextChoices):
        TRACKER = "tracker", _("Tracked in the workspace")
        CALL = "call", _("Logged call")
        MANUAL = "manual", _("Entered by hand")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="work_intervals")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="work_intervals"
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.TRACKER)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    seconds = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=200, blank=True)
    edited = models.BooleanField(default=False)
    # A tracker interval still being extended by the workspace's heartbeats; closed when
    # the agent goes idle or away. At most one per agent and case.
    is_open = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["case", "agent"], name="workinterval_case_agent")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__gte=models.F("started_at")),
                name="workinterval_end_after_start",
            ),
            models.UniqueConstraint(
                fields=["case", "agent"],
                condition=models.Q(is_open=True),
                name="workinterval_one_open_per_agent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seconds}s by {self.agent_id} on {self.case_id}"
