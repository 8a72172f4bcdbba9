from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class SatisfactionRating(models.Model):
    """A customer's rating of the service on a case (CSAT, 1–5) with an optional comment."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="ratings")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="ratings"
    )
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(blank=True)
    channel = models.CharField(max_length=16, default="portal")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.score}/5 on {self.case_id}"


class NpsResponse(models.Model):
    """A customer's answer to "How likely are you to recommend us?" (0–10), usually asked
    after a case is solved; the case it followed is kept so the answer can be sliced."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="nps_responses"
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="nps_responses"
    )
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    comment = models.TextField(blank=True)
    channel = models.CharField(max_length=16, default="portal")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=10), name="nps_score_0_to_10"
            )
        ]

    def __str__(self) -> str:
        return f"NPS {self.score} from {self.customer_id}"
