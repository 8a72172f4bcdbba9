"""Writes for insights: satisfaction ratings and recommendation (NPS) answers."""

from __future__ import annotations

from django.db import transaction

from caseloop.cases.errors import CaseError, CaseValidationError
from caseloop.cases.models import Case
from caseloop.cases.services import event_record
from caseloop.lib.errors import ErrorKind

from .events import NPS_ANSWERED, SATISFACTION_RATED
from .models import NpsResponse, SatisfactionRating
from .surveys import (
    AlreadyAnswered,
    comment_theme_later,
    nps_invitation_answered,
    recovery_open_if_low,
)


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
    event; a recovery for the owner when the score is 2 or less (`recovery_opened`); the
    comment is themed by the worker (an outbox effect)."""
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
    recovery_open_if_low(case=case, answer=rating)
    comment_theme_later(answer=rating)
    return rating


@transaction.atomic
def nps_record(
    *, customer, score: int, comment: str = "", channel: str, case=None, actor=None
) -> NpsResponse:
    """Record a customer's answer to "how likely are you to recommend us?" (0–10), once
    per case; it answers the survey sent after that case. Side effects: an `nps_answered`
    case event (the metrics read the log) when there is a case; a recovery for the owner
    when the score is 6 or less (`recovery_opened`); the comment is themed by the worker
    (an outbox effect)."""
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise CaseValidationError("the score must be a whole number from 0 to 10", field="score")
    channel = (channel or "")[:16]
    if case is not None:
        # Locking the case serialises two answers sent at once.
        case = Case.objects.select_for_update().get(pk=case.pk)
        if NpsResponse.objects.filter(case=case).exists():
            raise AlreadyAnswered("this survey has already been answered; thank you")
    response = NpsResponse.objects.create(
        customer=customer, case=case, score=score, comment=comment.strip()[:5000], channel=channel
    )
    if case is not None:
        nps_invitation_answered(case=case, response=response)
        event_record(
            case=case,
            actor=actor,
            kind=NPS_ANSWERED,
            data={"response": response.pk, "score": score, "channel": channel},
        )
        recovery_open_if_low(case=case, answer=response)
    comment_theme_later(answer=response)
    return response
