from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.utils.translation import gettext_lazy as _

# The loop's models live with the loop and belong to this app: imported (and re-exported)
# here, where Django registers the app's models.
from .loop.models import (
    Alternative as Alternative,
    AuthorityCheck as AuthorityCheck,
    AuthorityRule as AuthorityRule,
    CaseLink as CaseLink,
    Consent as Consent,
    Escalation as Escalation,
    Fact as Fact,
    FactRequirement as FactRequirement,
    FollowUp as FollowUp,
    Lesson as Lesson,
    LoopSettings as LoopSettings,
    NeedsDecision as NeedsDecision,
    Outcome as Outcome,
    Plan as Plan,
    PlanStep as PlanStep,
    Policy as Policy,
    PolicyCheck as PolicyCheck,
    ProblemStatement as ProblemStatement,
    RemedyType as RemedyType,
    Reminder as Reminder,
    RepeatComplaint as RepeatComplaint,
)
from .loop.request_models import DepartmentRequest as DepartmentRequest


class Category(models.Model):
    """The nature of a case (billing, delivery, technical…); routing and skills hang on it."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEB = "web", _("Web form")
    CHAT = "chat", _("Live chat")
    PHONE = "phone", _("Phone")
    SOCIAL = "social", _("Social")
    API = "api", _("API")


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING_CUSTOMER = "pending_customer", _("Pending customer")
    PENDING_INTERNAL = "pending_internal", _("Pending internal")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


# A solved or closed case needs nothing more from the desk (until it reopens).
FINISHED_STATUSES = (Status.SOLVED, Status.CLOSED)
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING_CUSTOMER, Status.PENDING_INTERNAL)


class CaseQuerySet(models.QuerySet["Case"]):
    def open(self) -> CaseQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def finished(self) -> CaseQuerySet:
        return self.filter(status__in=FINISHED_STATUSES)


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_RANK: dict[str, int] = {
    Priority.LOW: 0,
    Priority.NORMAL: 1,
    Priority.HIGH: 2,
    Priority.URGENT: 3,
}


# A case's reference: "CL-" and its id, six digits at least. Written by the database, so a
# new case is one INSERT (the value comes back with it).
_REFERENCE_SQL = (
    "CASE WHEN id < 1000000"
    " THEN 'CL-' || substr('00000' || CAST(id AS text), length('00000' || CAST(id AS text)) - 5)"
    " ELSE 'CL-' || CAST(id AS text) END"
)


class Case(models.Model):
    reference = models.GeneratedField(
        expression=RawSQL(_REFERENCE_SQL, ()),
        output_field=models.CharField(max_length=20),
        db_persist=True,
        unique=True,
    )
    subject = models.CharField(max_length=300)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="cases"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_cases",
        help_text="The one person answerable for the case until the customer confirms it solved.",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        help_text="Who is solving it now (the owner, or a solver it was escalated to).",
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="cases")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    awaiting_reply_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the customer's oldest message still without an answer arrived; "
        "empty once an agent replies or the case no longer waits on the desk.",
    )

    objects = CaseQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["status", "-id"], name="case_status_id"),
            models.Index(fields=["owner", "status", "-id"], name="case_owner_status_id"),
            models.Index(fields=["team", "status", "-id"], name="case_team_status_id"),
            models.Index(fields=["assignee", "status", "-id"], name="case_assignee_status_id"),
            models.Index(fields=["customer", "-id"], name="case_customer_id"),
            # The inbox's highest-priority-first order walks one priority at a time.
            models.Index(fields=["priority", "-id"], name="case_priority_id"),
            # The inbox's waiting-longest order walks this, oldest wait first.
            models.Index(fields=["awaiting_reply_since", "id"], name="case_awaiting_id"),
            # The manager's live queues (open cases per team, owner and assignee, and the
            # oldest wait) are counted from this index alone, never from the table.
            models.Index(
                fields=["status", "team", "owner", "assignee", "awaiting_reply_since"],
                name="case_queue_counts",
            ),
            # The most recently solved cases, newest first (triage's rolling accuracy).
            models.Index(fields=["solved_at"], name="case_solved_at"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @staticmethod
    def reference_for(pk: int) -> str:
        return f"CL-{pk:06d}"

    @staticmethod
    def pk_from_reference(reference: str) -> int | None:
        reference = (reference or "").strip().upper()
        if reference.startswith("CL-") and reference[3:].isascii() and reference[3:].isdigit():
            return int(reference[3:])
        return None

    @property
    def is_open(self) -> bool:
        return self.status not in FINISHED_STATUSES


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")
        NOTE = "note", _("Internal note")

    class Delivery(models.TextChoices):
        NOT_APPLICABLE = "n/a", _("Not applicable")
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author_customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(blank=True, help_text="Plain text; for email, the new part of a reply.")
    html = models.TextField(blank=True, help_text="Sanitized HTML.")
    raw = models.TextField(blank=True, help_text="The source exactly as received or sent.")
    external_id = models.CharField(
        max_length=998, blank=True, db_index=True, help_text="e.g. the email Message-ID."
    )
    metadata = models.JSONField(default=dict, blank=True)
    # The conversation thread id a webhook channel sent with the message, kept by the
    # database beside the metadata and indexed: channels thread replies by it.
    thread_key = models.GeneratedField(
        expression=KT("metadata__thread"),
        output_field=models.CharField(max_length=300, null=True),
        db_persist=True,
        db_index=True,
    )
    delivery_status = models.CharField(
        max_length=10, choices=Delivery.choices, default=Delivery.NOT_APPLICABLE
    )
    delivery_error = models.TextField(blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["case", "created_at"], name="message_case_created"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} on {self.case_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.case_id}/{filename}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=500)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=200, default="application/octet-stream")
    size = models.PositiveBigIntegerField()
    content_id = models.CharField(max_length=255, blank=True, help_text="For inline images.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.filename


class AppendOnlyQuerySet(models.QuerySet["CaseEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("case events are append-only; they cannot be updated")

    def delete(self) -> NoReturn:
        raise TypeError("case events are append-only; they cannot be deleted")


class CaseEvent(models.Model):
    """Append-only log of every change to a case, written in the change's transaction.

    Updates and deletes are refused here and, on PostgreSQL, by a trigger.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        MESSAGE_ADDED = "message_added", _("Message added")
        STATUS_CHANGED = "status_changed", _("Status changed")
        OWNER_ASSIGNED = "owner_assigned", _("Owner assigned")
        OWNER_TRANSFERRED = "owner_transferred", _("Ownership transferred")
        CATEGORY_CHANGED = "category_changed", _("Category changed")
        PRIORITY_CHANGED = "priority_changed", _("Priority changed")
        TEAM_CHANGED = "team_changed", _("Team changed")
        ASSIGNEE_CHANGED = "assignee_changed", _("Assignee changed")
        TAGS_CHANGED = "tags_changed", _("Tags changed")
        SUBJECT_CHANGED = "subject_changed", _("Subject changed")
        CUSTOMER_CHANGED = "customer_changed", _("Customer changed")
        ATTACHMENT_ADDED = "attachment_added", _("Attachment added")
        DELIVERY_CHANGED = "delivery_changed", _("Delivery status changed")
        MERGED_INTO = "merged_into", _("Merged into another case")
        MERGED_FROM = "merged_from", _("Another case merged in")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(max_length=40, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "id"], name="caseevent_case_id")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.case_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("case events are append-only; they cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("case events are append-only; they cannot be deleted")


class IdempotencyKey(models.Model):
    """Remembers the case an `Idempotency-Key` created, so a retried create returns it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")
        ]

    def __str__(self) -> str:
        return self.key


class OutboxEffect(models.Model):
    """A side effect of a change (acknowledge, triage, deliver a message…), recorded in the
    change's own transaction and carried out at least once by the dispatcher
    (`cases.outbox`), so a process that dies after the commit loses nothing."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=255)
    # One effect per key: recording the same effect twice keeps the first.
    key = models.CharField(max_length=320, unique=True)
    payload = models.JSONField(default=dict, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField()
    # A dispatcher running the effect holds it until then; once passed (the process died),
    # the sweep runs it again.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "available_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.kind} ({self.state})"
