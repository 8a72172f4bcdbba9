"""API endpoints for trend alerts, mounted under /api/v1/: the alerts (by state, each with
its case ids), a run of the detection now, and what managers do with an alert —
acknowledge, dismiss, open a recurring problem from its cases. Managers only."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Query, Router, Schema, Status as Reply

from caseloop.accounts.auth import ApiRequest, require_role

from . import problems, trends
from .models import TrendAlert

router = Router(tags=["trends"])


class TrendAlertOut(Schema):
    id: int
    dimension: str = Field(..., description="category, product, keyword or mood")
    key: str = Field(..., description="The slice: a category id, a product, a term, a mood.")
    label: str
    day: date = Field(..., description="The day the spike was seen (one alert a slice a day).")
    window_start: datetime
    window_end: datetime
    count: int = Field(..., description="New cases of the slice in the window.")
    expected: float = Field(..., description="What the same hours of past weeks saw on average.")
    summary: str
    case_ids: list[int] = Field(..., description="The cases, newest first (at most 200).")
    state: str = Field(..., description="open, acknowledged or dismissed")
    problem_id: int | None
    handled_by_id: int | None
    handled_at: datetime | None
    emailed_at: datetime | None
    created_at: datetime

    @staticmethod
    def of(alert: TrendAlert) -> TrendAlertOut:
        return TrendAlertOut(
            id=alert.pk,
            dimension=alert.dimension,
            key=alert.key,
            label=alert.label,
            day=alert.day,
            window_start=alert.window_start,
            window_end=alert.window_end,
            count=alert.count,
            expected=round(alert.expected, 3),
            summary=alert.summary,
            case_ids=[int(case_id) for case_id in alert.case_ids],
            state=alert.state,
            problem_id=alert.problem_id,
            handled_by_id=alert.handled_by_id,
            handled_at=alert.handled_at,
            emailed_at=alert.emailed_at,
            created_at=alert.created_at,
        )


class ListFilter(Schema):
    state: TrendAlert.State | None = None
    limit: int = Field(100, ge=1, le=500)


def _managers_only(request: ApiRequest) -> None:
    require_role(request, *problems.MANAGER_ROLES)


@router.get("/trends", response=list[TrendAlertOut], summary="Trend alerts")
def trend_list(request: ApiRequest, filters: Query[ListFilter]):
    """Alerts, open ones first, then newest first; `state` narrows."""
    _managers_only(request)
    alerts = trends.trend_alerts_list(state=filters.state or "")[: filters.limit]
    return [TrendAlertOut.of(alert) for alert in alerts]


@router.post("/trends/detect", response=list[TrendAlertOut], summary="Detect spikes now")
def trend_detect(request: ApiRequest):
    """Compare the last day's new cases with the same hours of the weeks before and return
    the alerts raised or brought up to date (the hourly job does the same)."""
    _managers_only(request)
    return [TrendAlertOut.of(alert) for alert in trends.trends_detect()]


@router.post(
    "/trends/{alert_id}/acknowledge", response=TrendAlertOut, summary="Acknowledge an alert"
)
def trend_acknowledge(request: ApiRequest, alert_id: int):
    _managers_only(request)
    alert = trends.trend_alert_get(alert_id=alert_id)
    return TrendAlertOut.of(trends.trend_alert_acknowledge(alert=alert, actor=request.auth))


@router.post("/trends/{alert_id}/dismiss", response=TrendAlertOut, summary="Dismiss an alert")
def trend_dismiss(request: ApiRequest, alert_id: int):
    """409 once a problem was opened from the alert."""
    _managers_only(request)
    alert = trends.trend_alert_get(alert_id=alert_id)
    return TrendAlertOut.of(trends.trend_alert_dismiss(alert=alert, actor=request.auth))


class ProblemIn(Schema):
    title: str = Field("", max_length=200, description="Made from the alert when empty.")


@router.post(
    "/trends/{alert_id}/problem",
    response={201: TrendAlertOut},
    summary="Open a problem from an alert",
)
def trend_problem(request: ApiRequest, alert_id: int, payload: ProblemIn | None = None):
    """A recurring problem under investigation holding the alert's cases (the one already
    opened from it, when there is one); the alert is acknowledged and names it."""
    _managers_only(request)
    alert = trends.trend_alert_get(alert_id=alert_id)
    trends.trend_alert_problem_open(
        alert=alert, actor=request.auth, title=payload.title if payload else ""
    )
    alert.refresh_from_db()
    return Reply(201, TrendAlertOut.of(alert))
