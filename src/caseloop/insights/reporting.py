"""Reports as people read them: slice names instead of ids, figures formatted by unit,
CSV files of every report and of the case-level facts behind it, and the JSON the API
returns."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from caseloop.accounts.models import Team, User
from caseloop.cases.models import Category, Channel, Priority
from caseloop.customers.models import Organization

from .metrics import (
    ALL_METRICS,
    BACKLOG,
    DEFLECTION_RATE,
    METRICS,
    MetricsQueryError,
    MetricValue,
    Period,
)
from .models import CaseFact
from .rollups import NO_KEY

LABELS: dict[str, str] = {name: metric.label for name, metric in METRICS.items()} | {
    DEFLECTION_RATE: "Deflected by the help centre",
    BACKLOG: "Open now (backlog)",
}
UNITS: dict[str, str] = {name: metric.unit for name, metric in METRICS.items()} | {
    DEFLECTION_RATE: "percent",
    BACKLOG: "count",
}
SLICE_LABELS = {
    "team": "Team",
    "owner": "Agent (owner)",
    "solver": "Agent (solver)",
    "category": "Category",
    "channel": "Channel",
    "priority": "Priority",
    "organization": "Organization",
}


def period_parse(start: str | None, end: str | None, *, default_days: int = 30) -> Period:
    """A Period from YYYY-MM-DD strings; missing ends default to the last `default_days`."""
    fallback = Period.last_days(default_days)
    try:
        first = date.fromisoformat(start) if start else None
        last = date.fromisoformat(end) if end else None
    except ValueError as exc:
        raise MetricsQueryError("dates are written YYYY-MM-DD") from exc
    if first and not last:
        last = max(first, fallback.end)
    if last and not first:
        first = last - (fallback.end - fallback.start)
    return Period(first or fallback.start, last or fallback.end)


def slice_labels(dimension: str, keys: Iterable[str]) -> dict[str, str]:
    """Names for the keys of one slice (ids of teams, agents, categories, organizations)."""
    keys = [key for key in keys if key != NO_KEY]
    names: dict[str, str] = {NO_KEY: "(none)"}
    ids = [int(key) for key in keys if key.isdigit()]
    if dimension == "team":
        names |= {
            str(pk): name for pk, name in Team.objects.filter(pk__in=ids).values_list("pk", "name")
        }
    elif dimension in ("owner", "solver"):
        names |= {str(user.pk): user.display_name for user in User.objects.filter(pk__in=ids)}
    elif dimension == "category":
        names |= {
            str(pk): name
            for pk, name in Category.objects.filter(pk__in=ids).values_list("pk", "name")
        }
    elif dimension == "organization":
        names |= {
            str(pk): name
            for pk, name in Organization.objects.filter(pk__in=ids).values_list("pk", "name")
        }
    elif dimension == "channel":
        names |= {str(value): str(label) for value, label in Channel.choices}
    elif dimension == "priority":
        names |= {str(value): str(label) for value, label in Priority.choices}
    return {key: names.get(key, key) for key in [*keys, NO_KEY]}


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"


def value_text(name: str, value: float | None) -> str:
    """A figure as the dashboard shows it: 87.5 %, 2h 5m, +12, 41."""
    if value is None:
        return "—"
    unit = UNITS.get(name, "count")
    if unit == "percent":
        return f"{value:.1f} %"
    if unit == "seconds":
        return duration_text(value)
    if unit == "score":
        return f"{value:+.0f}"
    return f"{value:.0f}"


def metrics_json(metrics: Mapping[str, MetricValue]) -> dict[str, dict[str, Any]]:
    return {
        name: {
            "label": LABELS.get(name, name),
            "unit": UNITS.get(name, metric.unit),
            "value": metric.value,
            "n": metric.n,
            "previous": metric.previous,
        }
        for name, metric in metrics.items()
    }


def _csv(rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return out.getvalue()


def report_csv(
    *,
    period: Period,
    overall: Mapping[str, MetricValue],
    groups: Sequence[tuple[str, Mapping[str, MetricValue]]] | None = None,
    group_by: str | None = None,
) -> str:
    """One row per slice (the whole desk first), a value and an n column per metric."""
    names = [name for name in ALL_METRICS if name in overall]
    header = ["period_start", "period_end", "slice", "key", "name"]
    for name in names:
        header += [name, f"{name}_n"]
    rows: list[list[Any]] = [header]

    def row(slice_name: str, key: str, label: str, metrics: Mapping[str, MetricValue]) -> None:
        cells: list[Any] = [period.start, period.end, slice_name, key, label]
        for name in names:
            metric = metrics.get(name)
            cells += [metric.value, metric.n] if metric else [None, None]
        rows.append(cells)

    row("all", "", "Whole desk", overall)
    if groups and group_by:
        labels = slice_labels(group_by, [key for key, _ in groups])
        for key, metrics in groups:
            row(group_by, key, labels.get(key, key), metrics)
    return _csv(rows)


FACT_COLUMNS = [
    "reference",
    "status",
    "channel",
    "priority",
    "team_id",
    "owner_id",
    "solver_id",
    "category_id",
    "organization_id",
    "created_at",
    "first_response_at",
    "first_response_seconds",
    "solved_at",
    "resolution_seconds",
    "agent_replies",
    "reopens",
    "escalated",
    "fcr",
    "handling_seconds",
    "sla_breaches",
    "rating",
    "nps",
    "problem_answer",
    "handoffs_refused",
    "plan_decision",
    "followup_answer",
]


def facts_csv(facts: Iterable[CaseFact]) -> str:
    """The case-level data behind a report: one row per case."""
    rows: list[list[Any]] = [FACT_COLUMNS]
    for fact in facts:
        cells: list[Any] = []
        for column in FACT_COLUMNS:
            value = getattr(fact, column)
            if column == "sla_breaches":
                value = " ".join(value)
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            cells.append(value)
        rows.append(cells)
    return _csv(rows)
