"""The desk's communication guidelines as data: admins edit them, the coach applies them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Guideline(models.Model):
    class Kind(models.TextChoices):
        PHRASE = "phrase", _("Flag a phrase (any pattern matches)")
        COMPLAINT_REQUIRES = "complaint_requires", _("On complaints, require a phrase")
        TRIGGER_REQUIRES = "trigger_requires", _("When a trigger appears, require a phrase")
        LENGTH = "length", _("Length limits")
        JARGON = "jargon", _("Internal jargon (from the jargon list)")

    class Severity(models.TextChoices):
        INFO = "info", _("Info")
        WARNING = "warning", _("Warning")
        ERROR = "error", _("Error")

    rule_id = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    patterns = models.JSONField(
        default=list,
        blank=True,
        help_text="Regular expressions, matched case-insensitively. For 'phrase' the phrases "
        "to flag; for 'trigger_requires' the triggers; for 'complaint_requires' the phrases "
        "that satisfy the rule.",
    )
    params = models.JSONField(
        default=dict,
        blank=True,
        help_text="Kind-specific settings: 'requires' (list of regexes) and 'scope' "
        "('sentence' or 'draft') for trigger rules; 'max_words' and 'max_sentence_words' "
        "for length; 'complaint_cues' for complaint rules; 'rewrites' {regex: text}; "
        "'confirm' (regexes of flagged words that count only when the sentence's meaning "
        "leans towards the rule, e.g. 'never').",
    )
    message = models.CharField(max_length=300)
    suggestion = models.TextField(blank=True, help_text="A suggested rewrite or addition.")
    severity = models.CharField(
        max_length=10,
        choices=Severity.choices,
        default=Severity.WARNING,
        help_text="Error holds the reply until the agent revises it or sends it anyway; "
        "warning and info are advice shown with the reply, which goes.",
    )
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["order", "rule_id"]

    def __str__(self) -> str:
        return self.rule_id


class JargonTerm(models.Model):
    term = models.CharField(max_length=100, unique=True)
    plain = models.CharField(max_length=200, blank=True, help_text="What to say instead.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["term"]

    def __str__(self) -> str:
        return self.term


class CoachOverride(models.Model):
    """An agent sent a reply the coach held (findings of a holding severity): "send anyway".
    `rule_ids` are the holding findings' rules; advice alone is not an override."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    message = models.ForeignKey(
        "cases.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"override by {self.user_id}: {', '.join(self.rule_ids)}"


class GuidelineExample(models.Model):
    """A sentence that shows what a guideline means, so the coach can match the rule by
    meaning as well as by phrase: a *breach* says what the rule forbids in other words; a
    *fine* example is a near miss that must not be flagged (ownership, an honest limit
    with an alternative). Admins add both as they see the coach miss or over-flag."""

    guideline = models.ForeignKey(Guideline, on_delete=models.CASCADE, related_name="examples")
    text = models.CharField(max_length=500)
    breach = models.BooleanField(
        default=True, help_text="Breaches the guideline (on) or a near miss that is fine (off)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["guideline", "-breach", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["guideline", "text"], name="guidelineexample_unique_text"
            )
        ]

    def __str__(self) -> str:
        return self.text[:60]
