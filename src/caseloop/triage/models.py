"""Triage: what a case is about, how urgent it is, how the customer feels, where it goes.

Stored per case (CaseTriage) and per message (MessageMood); the models it learns from are
versioned (ModelVersion) and fed by agents' decisions (TriageLabel).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TriagePolicy(models.Model):
    """The desk's triage settings, one row (pk=1), editable in the admin."""

    review_threshold = models.FloatField(
        default=0.5,
        help_text="Category predictions below this confidence are not applied: the case is "
        "marked 'needs review' instead.",
    )
    min_training_samples = models.PositiveIntegerField(
        default=30, help_text="Labelled cases needed before a learned model replaces the rules."
    )
    min_samples_per_category = models.PositiveIntegerField(
        default=3, help_text="Categories with fewer labelled cases are left out of training."
    )
    similar_candidates = models.PositiveIntegerField(
        default=2000, help_text="How many recent cases similar-case search compares against."
    )
    accuracy_window = models.PositiveIntegerField(
        default=200, help_text="Agent decisions the rolling accuracy is computed over."
    )

    class Meta:
        verbose_name_plural = "triage policy"

    def __str__(self) -> str:
        return "Triage policy"


class KeywordRule(models.Model):
    """Cold start: words that point to a category before there is history to learn from."""

    category = models.ForeignKey(
        "cases.Category", on_delete=models.CASCADE, related_name="keyword_rules"
    )
    keywords = models.TextField(
        help_text="One keyword or phrase per line (or comma-separated); matched as whole words."
    )
    weight = models.FloatField(default=1.0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category__name", "id"]

    def __str__(self) -> str:
        return f"rules for {self.category}"

    @property
    def keyword_list(self) -> list[str]:
        parts = self.keywords.replace(",", "\n").splitlines()
        return [p.strip().lower() for p in parts if p.strip()]


class ModelVersion(models.Model):
    class Kind(models.TextChoices):
        CATEGORY = "category", _("Category")
        PRIORITY = "priority", _("Priority")

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CATEGORY)
    version = models.PositiveIntegerField()
    trained_at = models.DateTimeField(auto_now_add=True)
    n_samples = models.PositiveIntegerField()
    labels = models.JSONField(default=list)
    metrics = models.JSONField(default=dict, blank=True)
    path = models.CharField(max_length=500, help_text="Relative to the data directory.")

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="modelversion_kind_version")
        ]

    def __str__(self) -> str:
        return f"{self.kind} model v{self.version}"


class CaseTriage(models.Model):
    """The stored triage of a case: category guess, priority with its factors, mood, route."""

    class Source(models.TextChoices):
        MODEL = "model", _("Learned model")
        RULES = "rules", _("Keyword rules")
        NONE = "none", _("No guess")

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="triage")
    category = models.ForeignKey(
        "cases.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confidence = models.FloatField(default=0.0)
    needs_review = models.BooleanField(default=False, db_index=True)
    category_source = models.CharField(max_length=10, choices=Source.choices, default="none")
    candidates = models.JSONField(default=list, blank=True)
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    priority = models.CharField(max_length=10, default="normal")
    priority_score = models.FloatField(default=0.0)
    priority_factors = models.JSONField(default=list, blank=True)
    priority_source = models.CharField(max_length=10, default="signals")
    mood = models.JSONField(default=dict, blank=True)
    routing = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"triage of case {self.case_id}"


class MessageMood(models.Model):
    """How the customer sounds in one message."""

    message = models.OneToOneField("cases.Message", on_delete=models.CASCADE, related_name="mood")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    compound = models.FloatField(help_text="VADER compound, -1..1.")
    score = models.FloatField(help_text="Compound corrected for distress and complaint cues.")
    label = models.CharField(max_length=16)
    frustrated = models.BooleanField(default=False)
    wants_to_be_heard = models.BooleanField(default=False)
    complaint_probability = models.FloatField(default=0.0)
    cues = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["case", "id"], name="messagemood_case_id")]

    def __str__(self) -> str:
        return f"mood of message {self.message_id}"


class TriageLabel(models.Model):
    """A decision an agent made about a case's category or priority: training data, and the
    yardstick the live model is measured against."""

    class Source(models.TextChoices):
        AGENT_SET = "agent_set", _("Set by an agent")
        AGENT_CONFIRMED = "agent_confirmed", _("Confirmed by an agent")
        IMPORTED = "imported", _("Imported")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="triage_labels")
    field = models.CharField(max_length=16)
    value = models.CharField(max_length=100, help_text="Category id or priority name.")
    predicted = models.CharField(max_length=100, blank=True)
    predicted_confidence = models.FloatField(null=True, blank=True)
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=20, choices=Source.choices, default="agent_set")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["field", "-id"], name="triagelabel_field_id")]

    def __str__(self) -> str:
        return f"{self.field}={self.value} on case {self.case_id}"

    @property
    def correct(self) -> bool:
        return self.predicted == self.value


class RoutingRule(models.Model):
    """Cases of a category go to a team; a rule without a category catches the rest."""

    category = models.ForeignKey(
        "cases.Category",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routing_rules",
    )
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    order = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.category or 'anything else'} → {self.team}"


class TeamRouting(models.Model):
    """How a team hands out cases, and where they go when nobody in it is free."""

    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("Round robin")
        LEAST_LOADED = "least_loaded", _("Least loaded")

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="routing")
    strategy = models.CharField(
        max_length=16, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )
    require_skill = models.BooleanField(
        default=True, help_text="Only agents with the case's category as a skill receive it."
    )
    auto_assign = models.BooleanField(default=True)
    overflow_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"routing of {self.team}"
