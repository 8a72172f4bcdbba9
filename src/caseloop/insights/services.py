"""Writes for insights: satisfaction ratings."""

from __future__ import annotations

from django.db import transaction

from caseloop.cases.errors import CaseError, CaseValidationError
from caseloop.cases.models import Case
from caseloop.cases.services import event_record
from caseloop.lib.errors import ErrorKind

from .events import SATISFACTION_RATED
from .models import SatisfactionRating


class AlreadyRated(CaseError):
    code = "already_rated"
    kind = ErrorKind.CONFLICT


def case_can_be_rated(case) -> bool:
    return not case.is_open and not SatisfactionRating.objects.filter(case=case).exists()


@transaction.atomic
def rating_record(
    *, case, customer, score: int, comment: str = "", channel: str = "portal", actor=None
) -> SatisfactionRating:
    """Record the customer's rating of the service on a case: once per case, after it is
    solved, so each case counts once in CSAT. Side effects: a `satisfaction_rated` case
    event."""
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise CaseValidationError("the rating must be a whole number from 1 to 5", field="score")
    # Locking the case serialises two ratings sent at once.
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.is_open:
        raise AlreadyRated("a case can be rated once it is solved")
    if SatisfactionRating.objects.filter(case=case).exists():
        raise AlreadyRated("this case has already been rated; thank you")
    rating = SatisfactionRating.objects.create(
        case=case, customer=customer, score=score, comment=comment.strip()[:5000], channel=channel
    )
    event_record(
        case=case,
        actor=actor,
        kind=SATISFACTION_RATED,
        data={"rating": rating.pk, "score": score, "channel": channel},
    )
    return rating
