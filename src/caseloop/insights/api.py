"""API endpoints of the insights app, mounted under /api/v1/: a case's satisfaction rating.
Customers rate their own solved cases; agents record a rating given by phone, mail or chat,
or by a survey tool."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Router, Schema, Status as Reply

from caseloop.accounts.auth import ApiRequest
from caseloop.cases import selectors as case_selectors

from .models import SatisfactionRating
from .services import rating_record

router = Router(tags=["insights"])


class RatingIn(Schema):
    score: int = Field(..., ge=1, le=5)
    comment: str = Field("", max_length=5000)
    channel: Literal["portal", "phone", "email", "chat", "survey"] = "portal"


class RatingOut(Schema):
    id: int
    case: str
    score: int
    comment: str
    channel: str
    created_at: datetime

    @staticmethod
    def of(rating: SatisfactionRating) -> RatingOut:
        return RatingOut(
            id=rating.pk,
            case=rating.case.reference or "",
            score=rating.score,
            comment=rating.comment,
            channel=rating.channel,
            created_at=rating.created_at,
        )


@router.get("/cases/{case_id}/rating", response=list[RatingOut], summary="The case's rating")
def rating_list(request: ApiRequest, case_id: str):
    """The customer's rating of the case, when there is one (a list of at most one)."""
    case = case_selectors.case_get_for_user(user=request.auth, case_id=case_id)
    return [RatingOut.of(r) for r in SatisfactionRating.objects.filter(case=case)]


@router.post("/cases/{case_id}/rating", response={201: RatingOut}, summary="Rate the case")
def rating_create(request: ApiRequest, case_id: str, payload: RatingIn):
    """Once per case, after it is solved (409 otherwise). A customer's own rating is
    recorded as given in the portal; an agent names the channel it was given on."""
    user = request.auth
    case = case_selectors.case_get_for_user(user=user, case_id=case_id)
    rating = rating_record(
        case=case,
        customer=case.customer,
        score=payload.score,
        comment=payload.comment,
        channel=payload.channel if user.is_agent_like else "portal",
        actor=user,
    )
    return Reply(201, RatingOut.of(rating))
