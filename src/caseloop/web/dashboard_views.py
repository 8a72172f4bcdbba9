"""The manager's dashboard: service metrics over a chosen period with trends, slices and
a drill-down from every figure to the cases behind it; CSV of every report."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from caseloop.insights import metrics as insights_metrics, reporting, trends
from caseloop.insights.metrics import BACKLOG, GROUPS, METRICS, MetricsQueryError, Period
from caseloop.lib.errors import http_status_for
from caseloop.triage.selectors import triage_overview
from caseloop.web.access import manager_required

from . import selectors

# The tiles at the top, in reading order; the loop's own measures get their own row.
SERVICE_TILES = [
    "csat",
    "nps",
    "fcr",
    "aht",
    "first_response_p50",
    "first_response_p90",
    "next_reply_p50",
    "resolution_p50",
    "resolution_p90",
    "sla_compliance",
    "reopen_rate",
    "escalation_rate",
    "deflection_rate",
    "created",
    "solved",
    "backlog",
]
LOOP_TILES = [
    "problem_confirmed_rate",
    "handoff_refusals",
    "plan_approved_rate",
    "followup_confirmed_rate",
]
TABLE_COLUMNS = [
    "created",
    "solved",
    "csat",
    "fcr",
    "aht",
    "first_response_p50",
    "resolution_p50",
    "sla_compliance",
    "reopen_rate",
]


class DashboardForm(forms.Form):
    start = forms.DateField(required=False, label=gettext_lazy("From"))
    end = forms.DateField(required=False, label=gettext_lazy("To"))
    interval = forms.ChoiceField(
        choices=[("day", "Day"), ("week", "Week"), ("month", "Month")], required=False
    )
    group_by = forms.ChoiceField(
        choices=list(reporting.SLICE_LABELS.items()),
        required=False,
        label=gettext_lazy("Break down by"),
    )


def _slice_from(params: Any) -> dict[str, str]:
    return {name: params[name] for name in GROUPS if params.get(name)}


def _drill_url(metric: str, period: Period, filters: dict[str, str]) -> str:
    query = {"metric": metric, "from": str(period.start), "to": str(period.end), **filters}
    return f"{reverse('web:metric_cases')}?{urlencode(query)}"


def _tile(name: str, value: insights_metrics.MetricValue, period: Period, filters: dict) -> dict:
    better = METRICS[name].higher_is_better if name in METRICS else True
    change = value.change
    trend = ""
    if change:
        trend = "better" if (change > 0) == better else "worse"
    return {
        "name": name,
        "label": reporting.LABELS.get(name, name),
        "text": reporting.value_text(name, value.value),
        "n": value.n,
        "previous": reporting.value_text(name, value.previous),
        "trend": trend,
        "url": _drill_url(name, period, filters) if name in METRICS or name == BACKLOG else "",
    }


@login_required
@require_GET
def manager(request: HttpRequest) -> HttpResponse:
    """The dashboard, with the desk's live queues below it."""
    manager_required(request)
    form = DashboardForm(
        {
            "start": request.GET.get("from", ""),
            "end": request.GET.get("to", ""),
            "interval": request.GET.get("interval", ""),
            "group_by": request.GET.get("group_by", ""),
        }
        if request.GET
        else None
    )
    try:
        if form.is_bound and not form.is_valid():
            raise MetricsQueryError("dates are written YYYY-MM-DD")
        data = form.cleaned_data if form.is_bound else {}
        period = reporting.period_parse(
            str(data["start"]) if data.get("start") else None,
            str(data["end"]) if data.get("end") else None,
        )
        interval = data.get("interval") or ("day" if period.days <= 62 else "week")
        group_by = data.get("group_by") or "team"
        filters = _slice_from(request.GET)
        current = insights_metrics.report(period=period, filters=filters)
        points = insights_metrics.trend(period=period, interval=interval, filters=filters)
        groups = (
            []
            if filters
            else insights_metrics.report_grouped(
                period=period, group_by=group_by, only=BREAKDOWN_FIGURES
            )
        )
        before = (
            []
            if filters
            else insights_metrics.report_grouped(
                period=period.previous(), group_by=group_by, only=BREAKDOWN_FIGURES
            )
        )
    except MetricsQueryError as error:
        return render(
            request,
            "web/dashboard_error.html",
            {"error": error.summary(), "form": form},
            status=http_status_for(error),
        )
    names = reporting.slice_labels(group_by, [key for key, _ in groups])
    query: dict[str, str] = {
        "from": str(period.start),
        "to": str(period.end),
        "interval": interval,
        **filters,
    }
    slice_name = ""
    if filters:
        ((dimension, key),) = filters.items()
        slice_name = (
            f"{reporting.SLICE_LABELS[dimension]}: "
            f"{reporting.slice_labels(dimension, [key]).get(key, key)}"
        )
    chart = {
        "labels": [start.isoformat() for start, _ in points],
        "created": [m["created"].n for _, m in points],
        "solved": [m["solved"].n for _, m in points],
        "csat": [m["csat"].value for _, m in points],
        "fcr": [m["fcr"].value for _, m in points],
        "sla": [m["sla_compliance"].value for _, m in points],
        "first_response_minutes": [
            None if m["first_response_p50"].value is None else m["first_response_p50"].value / 60
            for _, m in points
        ],
        "resolution_hours": [
            None if m["resolution_p50"].value is None else m["resolution_p50"].value / 3600
            for _, m in points
        ],
    }
    rows = [
        {
            "name": names.get(key, key),
            "cells": [
                {
                    "text": reporting.value_text(column, metrics[column].value),
                    "n": metrics[column].n,
                    "url": _drill_url(column, period, {group_by: key}),
                }
                for column in TABLE_COLUMNS
            ],
            "dashboard_url": f"{reverse('web:manager')}?{urlencode({**query, group_by: key})}",
        }
        for key, metrics in groups
    ]
    context = {
        "form": form,
        "period": period,
        "interval": interval,
        "slice_name": slice_name,
        "tiles": [
            _tile(n, current.metrics[n], period, filters)
            for n in SERVICE_TILES
            if n in current.metrics
        ],
        "loop_tiles": [_tile(n, current.metrics[n], period, filters) for n in LOOP_TILES],
        "backlog": insights_metrics.backlog_summary(filters=filters),
        "chart": chart,
        "group_by": group_by,
        "group_label": reporting.SLICE_LABELS[group_by],
        "columns": [reporting.LABELS[c] for c in TABLE_COLUMNS],
        "rows": rows,
        "worse": _going_wrong(groups, before, names, period, group_by),
        "csv_url": f"{reverse('web:metrics_csv')}?{urlencode({**query, 'group_by': group_by})}",
        "facts_csv_url": _drill_url("created", period, filters) + "&format=csv",
        "teams": selectors.team_health(),
        "agents": selectors.agent_load(),
        "escalations": selectors.escalations_waiting(),
        "near": selectors.cases_near_target(),
        "overrides": selectors.coach_overrides_recent(),
        "triage": triage_overview(),
        "trend_alerts_open": trends.trend_alerts_open_count(),
    }
    return render(request, "web/manager.html", context)


# Measures watched for "where it is going wrong", and the least n that makes a change news.
WATCHED = ["csat", "fcr", "sla_compliance", "reopen_rate", "resolution_p50", "first_response_p50"]
MIN_N = 5
# What the breakdown table and "where it is going wrong" read of each slice.
BREAKDOWN_FIGURES = list(dict.fromkeys([*TABLE_COLUMNS, *WATCHED]))


def _going_wrong(
    groups: list[tuple[str, dict[str, insights_metrics.MetricValue]]],
    before: list[tuple[str, dict[str, insights_metrics.MetricValue]]],
    names: dict[str, str],
    period: Period,
    group_by: str,
    limit: int = 6,
) -> list[dict[str, Any]]:
    """The slices whose watched measures got most worse against the period before (with
    enough cases on both sides to mean something), worst first."""
    previous = dict(before)
    changes: list[dict[str, Any]] = []
    for key, metrics in groups:
        for name in WATCHED:
            now, then = metrics[name], previous.get(key, {}).get(name)
            if then is None or now.value is None or then.value is None:
                continue
            if now.n < MIN_N or then.n < MIN_N:
                continue
            change = now.value - then.value
            better = METRICS[name].higher_is_better
            if change == 0 or (change > 0) == better:
                continue
            # Rates compare in points; times relative to where they were.
            size = (
                abs(change) if METRICS[name].unit == "percent" else abs(change) / then.value * 100
            )
            changes.append(
                {
                    "size": size,
                    "slice": names.get(key, key),
                    "label": reporting.LABELS[name],
                    "now": reporting.value_text(name, now.value),
                    "then": reporting.value_text(name, then.value),
                    "n": now.n,
                    "url": _drill_url(name, period, {group_by: key}) + "&against=1",
                }
            )
    changes.sort(key=lambda change: -change["size"])
    return changes[:limit]


def _csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def metrics_csv(request: HttpRequest) -> HttpResponse:
    """The dashboard's report as CSV: the whole desk, then one row per slice key."""
    manager_required(request)
    try:
        period = reporting.period_parse(request.GET.get("from"), request.GET.get("to"))
        group_by = request.GET.get("group_by") or "team"
        if group_by not in GROUPS:
            raise MetricsQueryError(f"group_by is one of {', '.join(GROUPS)}")
        overall = insights_metrics.report(period=period)
        groups = insights_metrics.report_grouped(period=period, group_by=group_by)
    except MetricsQueryError as error:
        return HttpResponse(
            error.summary(), status=http_status_for(error), content_type="text/plain"
        )
    text = reporting.report_csv(
        period=period, overall=overall.metrics, groups=groups, group_by=group_by
    )
    return _csv_response(text, f"caseloop-metrics-{period.start}-{period.end}-{group_by}.csv")


@login_required
@require_GET
def metric_cases(request: HttpRequest) -> HttpResponse:
    """The cases behind one figure (a drill-down), as a page or as CSV."""
    manager_required(request)
    metric = request.GET.get("metric", "")
    filters = _slice_from(request.GET)
    against = request.GET.get("against") == "1"
    after = request.GET.get("after", "")
    try:
        period = reporting.period_parse(request.GET.get("from"), request.GET.get("to"))
        if request.GET.get("format") == "csv" and metric != BACKLOG:
            facts = insights_metrics.drilldown(
                metric=metric, period=period, filters=filters, against_only=against
            )
            return _csv_response(
                reporting.facts_csv(facts.iterator(chunk_size=2000)),
                f"caseloop-cases-{metric}-{period.start}-{period.end}.csv",
            )
        if metric == BACKLOG:
            page = insights_metrics.backlog_page(filters=filters, after=after)
            rows = [{"case": case, "fact": None} for case in page.items]
        else:
            page = insights_metrics.drilldown_page(
                metric=metric, period=period, filters=filters, against_only=against, after=after
            )
            rows = [{"case": fact.case, "fact": fact} for fact in page.items]
    except MetricsQueryError as error:
        return render(
            request,
            "web/dashboard_error.html",
            {"error": error.summary(), "form": DashboardForm()},
            status=http_status_for(error),
        )
    base: dict[str, str] = {
        k: str(v) for k, v in request.GET.items() if k not in ("after", "against", "format")
    }
    this_list = {**base, "against": "1"} if against else base
    slice_name = ""
    if filters:
        ((dimension, key),) = filters.items()
        slice_name = (
            f"{reporting.SLICE_LABELS[dimension]}: "
            f"{reporting.slice_labels(dimension, [key]).get(key, key)}"
        )
    return render(
        request,
        "web/metric_cases.html",
        {
            "metric": metric,
            "label": reporting.LABELS.get(metric, metric),
            "period": period,
            "slice_name": slice_name,
            "rows": rows,
            "first_page": bool(after),
            "next_url": f"?{urlencode({**this_list, 'after': page.after})}" if page.after else "",
            "against": against,
            "has_against": metric in METRICS and METRICS[metric].against is not None,
            "all_url": f"?{urlencode(base)}",
            "against_url": f"?{urlencode({**base, 'against': '1'})}",
            "csv_url": f"?{urlencode({**base, 'format': 'csv'})}" if metric != BACKLOG else "",
            "dashboard_url": f"{reverse('web:manager')}?"
            + urlencode({"from": str(period.start), "to": str(period.end), **filters}),
        },
    )
