"""Recurring problems: one root cause behind many cases, worked from a suggestion to a
published fix; the cases linked to it, who contributed, its history, and the "this keeps
happening" flags agents raise for managers to review."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class ProblemStatus(models.TextChoices):
    SUGGESTED = "suggested", _("Suggested")
    INVESTIGATING = "investigating", _("Investigating")
    KNOWN_ERROR = "known_error", _("Known error")
    FIXED = "fixed", _("Fixed")
    CLOSED = "closed", _("Closed")


class CauseType(models.TextChoices):
    PRODUCT_DEFECT = "product_defect", _("Product defect")
    PROCESS = "process", _("Process")
    POLICY = "policy", _("Policy")
    DOCUMENTATION = "documentation", _("Documentation")
    THIRD_PARTY = "third_party", _("Third party")
    CUSTOMER_EDUCATION = "customer_education", _("Customer education")
    OTHER = "other", _("Other")


class Problem(models.Model):
    """A recurring problem and its root cause. `why_chain` is the ordered list of answers to
    "why?", from the symptom down to the cause (its last answer)."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=ProblemStatus.choices, default=ProblemStatus.INVESTIGATING
    )
    category = models.ForeignKey(
        "cases.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    product = models.CharField(max_length=200, blank=True)
    why_chain = models.JSONField(default=list, blank=True)
    cause_type = models.CharField(max_length=24, choices=CauseType.choices, blank=True)
    workaround = models.TextField(blank=True)
    permanent_fix = models.TextField(blank=True)
    fix_notice = models.TextField(
        blank=True, help_text="The message sent to each affected customer when the fix is out."
    )
    # What customers see of a known issue: the help centre's and the web form's banner.
    public_title = models.CharField(max_length=200, blank=True)
    public_summary = models.TextField(blank=True)
    show_banner = models.BooleanField(default=False)
    owner = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="problems_owned"
    )
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    fixed_at = models.DateTimeField(null=True, blank=True)
    fix_published_at = models.DateTimeField(null=True, blank=True)
    fix_published_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "-id"], name="problem_status_idx")]

    def __str__(self) -> str:
        return f"{self.number}: {self.title}"

    @property
    def number(self) -> str:
        return f"PRB-{self.pk}"

    @property
    def root_cause(self) -> str:
        return str(self.why_chain[-1]) if self.why_chain else ""


class ProblemCase(models.Model):
    """A case linked to a problem: how, by whom and when; and the fix notice it was sent."""

    class Via(models.TextChoices):
        AGENT = "agent", _("By an agent")
        INTAKE = "intake", _("At intake")
        DETECTION = "detection", _("By detection")
        FLAG = "flag", _("From a flag")

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="links")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="problem_links")
    via = models.CharField(max_length=12, choices=Via.choices)
    linked_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_at = models.DateTimeField(auto_now_add=True)
    score = models.FloatField(null=True, blank=True, help_text="How closely the case matched.")
    fix_message = models.ForeignKey(
        "cases.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["problem", "case"], name="problem_case_once")
        ]

    def __str__(self) -> str:
        return f"{self.problem_id} ↔ {self.case_id}"


class ProblemContributor(models.Model):
    """Someone's part in a problem: who found the cause, the workaround, the fix…"""

    class Part(models.TextChoices):
        REPORTED = "reported", _("Reported it")
        INVESTIGATED = "investigated", _("Investigated")
        ROOT_CAUSE = "root_cause", _("Found the root cause")
        WORKAROUND = "workaround", _("Found the workaround")
        FIX = "fix", _("Made the fix")
        OTHER = "other", _("Other")

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="contributors")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="problem_contributions")
    part = models.CharField(max_length=16, choices=Part.choices)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["problem", "user", "part"], name="problem_contribution_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.part}"


class ProblemChange(models.Model):
    """The problem's own history (append-only): every change, who made it and when."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=40)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.problem_id}: {self.kind}"


class ProblemFlag(models.Model):
    """An agent's "this keeps happening" on a case, waiting for a manager's review."""

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for review")
        CONVERTED = "converted", _("Became a problem")
        LINKED = "linked", _("Linked to a problem")
        DISMISSED = "dismissed", _("Dismissed")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="problem_flags")
    flagged_by = models.ForeignKey(
        USER, null=True, on_delete=models.SET_NULL, related_name="problem_flags"
    )
    occurred_at = models.DateTimeField(help_text="When the problem happened.")
    problem_text = models.TextField(help_text="What keeps happening.")
    solution_text = models.TextField(blank=True, help_text="The solution the agent used.")
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    problem = models.ForeignKey(
        Problem, null=True, blank=True, on_delete=models.SET_NULL, related_name="flags"
    )
    reviewed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["state", "-id"], name="problem_flag_state_idx")]

    def __str__(self) -> str:
        return f"flag {self.pk} on {self.case_id}"


class ProblemNotice(models.Model):
    """A proactive notice: a customer likely to be affected (a purchase of the product, or
    in the manager's segment) who has not written, told of the problem before they do.
    `wrote_after` is set when they open a case about it anyway."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    class Reason(models.TextChoices):
        PURCHASE = "purchase", _("Bought the product")
        SEGMENT = "segment", _("In the chosen segment")

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="notices")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="problem_notices"
    )
    reason = models.CharField(max_length=12, choices=Reason.choices)
    address = models.CharField(max_length=320)
    text = models.TextField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    error = models.CharField(max_length=500, blank=True)
    sent_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    wrote_after = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["problem", "customer"], name="problem_notice_once")
        ]

    def __str__(self) -> str:
        return f"notice {self.pk} of {self.problem_id} to {self.customer_id}"


class ProblemFollower(models.Model):
    """A customer who attached to a known issue from its banner (the help centre or the web
    form) instead of opening a duplicate case: one contact prevented. They are told when the
    fix is out."""

    class Via(models.TextChoices):
        HELP_CENTRE = "help_centre", _("Help centre")
        WEB_FORM = "web_form", _("Web form")
        PORTAL = "portal", _("Portal")

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="followers")
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="problems_followed",
    )
    email = models.EmailField(max_length=320)
    via = models.CharField(max_length=12, choices=Via.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    fix_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["problem", "email"], name="problem_follower_once")
        ]

    def __str__(self) -> str:
        return f"{self.email} follows {self.problem_id}"
