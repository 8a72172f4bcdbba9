from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scale(models.TextChoices):
    ZERO_TWO = "0-2", _("0–2 (not done, partly, done)")
    YES_NO = "yes-no", _("Yes / no")
    ONE_FIVE = "1-5", _("1–5")


# The values each scale accepts, lowest first, with the words a reviewer picks from.
SCALE_VALUES: dict[str, list[tuple[int, str]]] = {
    Scale.ZERO_TWO: [(0, "0 — not done"), (1, "1 — partly"), (2, "2 — done")],
    Scale.YES_NO: [(0, "No"), (1, "Yes")],
    Scale.ONE_FIVE: [(1, "1"), (2, "2"), (3, "3"), (4, "4"), (5, "5")],
}


class Scorecard(models.Model):
    """What a quality-assurance review checks: an ordered list of weighted criteria.
    Admins edit it; the review form and the score follow the active default card."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(
        default=False, help_text="The card new reviews use. One card at most is the default."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="scorecard_one_default",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Criterion(models.Model):
    """One thing a reviewer scores on a case. Its share of the review's score is its weight
    over the weights of the criteria that applied (n.a. leaves it out)."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="criteria")
    label = models.CharField(max_length=120)
    guidance = models.TextField(blank=True, help_text="What the reviewer looks for.")
    weight = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    scale = models.CharField(max_length=10, choices=Scale.choices, default=Scale.ZERO_TWO)
    allows_na = models.BooleanField(
        default=True, help_text="The reviewer may mark it 'not applicable' on a case."
    )
    order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(
        default=True, help_text="Retire a criterion instead of deleting it: old reviews keep it."
    )

    class Meta:
        ordering = ["order", "id"]
        verbose_name_plural = "criteria"
        constraints = [
            models.CheckConstraint(condition=models.Q(weight__gte=1), name="criterion_weight_1_up")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def values(self) -> list[tuple[int, str]]:
        return SCALE_VALUES[self.scale]

    def percent(self, value: int) -> float:
        """`value` on this criterion's scale as 0–100 (the lowest value is 0)."""
        numbers = [number for number, _ in self.values]
        low, high = numbers[0], numbers[-1]
        return (value - low) * 100 / (high - low)


class QaReview(models.Model):
    """A reviewer's quality-assurance review of one agent's work on one case. `score` is
    fixed when it is recorded, so later edits to the card do not rewrite the trend."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="qa_reviews")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="qa_reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="qa_reviews_given"
    )
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="reviews")
    score = models.FloatField(help_text="0–100: the weighted mean of the criteria that applied.")
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["agent", "created_at"], name="qareview_agent_created")]
        constraints = [
            # A case counts once in an agent's QA trend.
            models.UniqueConstraint(fields=["case", "agent"], name="qareview_one_per_case_agent"),
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=100), name="qareview_score_0_to_100"
            ),
        ]

    def __str__(self) -> str:
        return f"QA {self.score:.0f} for {self.agent_id} on {self.case_id}"


class QaScore(models.Model):
    """One criterion's score in a review; `value` is empty when it did not apply (n.a.).
    The weight and the 0–100 `percent` are kept as they were at review time."""

    review = models.ForeignKey(QaReview, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="scores")
    value = models.SmallIntegerField(null=True, blank=True)
    percent = models.FloatField(null=True, blank=True)
    weight = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["criterion__order", "criterion_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "criterion"], name="qascore_one_per_criterion"
            )
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {'n.a.' if self.value is None else self.value}"
