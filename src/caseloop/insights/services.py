"""Writes for insights: satisfaction ratings."""

from __future__ import annotations

from django.db import transaction

from caseloop.cases.errors import CaseValidationError
from caseloop.cases.services import event_record

from .models import SatisfactionRating


@transaction.atomic
def rating_record(
    *, case, customer, score: int, comment: str = "", channel: str = "portal", actor=None
) -> SatisfactionRating:
    """Record the customer's rating of the service on a case.
    Side effects: a `satisfaction_rated` case event."""
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise CaseValidationError("the rating must be a whole number from 1 to 5", field="score")
    rating = SatisfactionRating.objects.create(
        case=case, customer=customer, score=score, comment=comment.strip()[:5000], channel=channel
    )
    event_record(
        case=case,
        actor=actor,
        kind="satisfaction_rated",
        data={"rating": rating.pk, "score": score, "channel": channel},
    )
    return rating
