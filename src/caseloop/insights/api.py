"""API endpoints of the insights app, mounted under /api/v1/: a case's satisfaction rating
(customers rate their own solved cases; agents record a rating given by phone, mail or
chat, or by a survey tool) and the desk's service metrics."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.core.exceptions import PermissionDenied
from ninja import Field, Query, Router, Schema, Status as Reply

from caseloop.accounts.auth import ApiRequest
from caseloop.accounts.models import Role
from caseloop.cases import selectors as case_selectors

from .metrics import MetricValue, report, report_grouped
from .models import SatisfactionRating
from .reporting import metrics_json, period_parse, slice_labels
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


GroupBy = Literal["team", "agent", "solver", "category", "channel", "priority", "organization"]


class MetricOut(Schema):
    label: str
    unit: str = Field(..., description="percent (0–100), seconds, score or count")
    value: float | None
    n: int
    previous: float | None = Field(None, description="Over the period just before")


class MetricsGroupOut(Schema):
    key: str
    name: str
    metrics: dict[str, MetricOut]


class MetricsOut(Schema):
    start: date
    end: date
    metrics: dict[str, MetricOut]
    group_by: str | None = None
    groups: list[MetricsGroupOut] = []


def _metrics_out(metrics: dict[str, MetricValue]) -> dict[str, MetricOut]:
    return {name: MetricOut(**fields) for name, fields in metrics_json(metrics).items()}


@router.get(
    "/insights/metrics",
    response=MetricsOut,
    summary="Service metrics over a period",
    operation_id="insights_metrics",
)
def metrics_get(
    request: ApiRequest,
    start: str | None = Query(None, alias="from", description="YYYY-MM-DD, included"),
    end: str | None = Query(None, alias="to", description="YYYY-MM-DD, included"),
    group_by: GroupBy | None = None,
):
    """Every metric (defined in the README) over the period, each with its value, its n
    and its value over the previous period of the same length; with `group_by`, the same
    per team, agent (as owner; `solver` as solver), category, channel, priority or
    organization. Rates are percentages 0–100, times seconds in business hours. Managers
    and admins only."""
    if request.auth.role not in (Role.MANAGER, Role.ADMIN):
        raise PermissionDenied("managers only")
    period = period_parse(start, end)
    overall = report(period=period)
    out = MetricsOut(start=period.start, end=period.end, metrics=_metrics_out(overall.metrics))
    if group_by:
        dimension = "owner" if group_by == "agent" else group_by
        groups = report_grouped(period=period, group_by=dimension)
        names = slice_labels(dimension, [key for key, _ in groups])
        out.group_by = group_by
        out.groups = [
            MetricsGroupOut(key=key, name=names.get(key, key), metrics=_metrics_out(metrics))
            for key, metrics in groups
        ]
    return out
