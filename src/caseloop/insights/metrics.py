"""The desk's service metrics over any period, slice and interval, read from the daily
rollups (never from the history itself), and the cases behind each figure.

Every metric is defined in METRICS (and in the README): what it counts, its unit and which
cases a drill-down opens. Rates are percentages 0–100, times are seconds (business hours).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import IntegerField, Q, QuerySet, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from caseloop.cases.models import Case, CaseEvent
from caseloop.knowledge.models import Deflection
from caseloop.lib.errors import DomainError, ErrorKind

from .histograms import Histogram, histogram_add, histogram_count, histogram_percentile
from .models import CaseFact, DailyRollup
from .rollups import CUMULATIVE, DIMENSIONS, MONTHLY, NO_KEY


class MetricsQueryError(DomainError):
    """A period, slice or metric the reports cannot answer."""

    code = "metrics_query_invalid"
    kind = ErrorKind.INVALID


@dataclass(frozen=True)
class Period:
    """Whole local days from `start` to `end`, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise MetricsQueryError("the period ends before it starts")
        if (self.end - self.start).days > 3 * 366:
            raise MetricsQueryError("a period is at most three years")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def bounds(self) -> tuple[datetime, datetime]:
        """[start of the first day, start of the day after the last) in the desk's zone."""
        zone = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone),
        )

    @classmethod
    def last_days(cls, days: int, *, today: date | None = None) -> Period:
        today = today or timezone.localdate()
        return cls(today - timedelta(days=days - 1), today)


@dataclass
class Totals:
    """Summed counters and histograms of some rollup rows."""

    counts: dict[str, int] = field(default_factory=dict)
    hists: dict[str, Histogram] = field(default_factory=dict)

    def add(self, counts: Mapping[str, int], hists: Mapping[str, Histogram], sign: int = 1) -> None:
        for name, amount in counts.items():
            self.counts[name] = self.counts.get(name, 0) + sign * amount
        for name, histogram in hists.items():
            into = self.hists.setdefault(name, {})
            if sign == 1:
                # Adding rows (the common case: every bucket is positive, none empties) is
                # the inner loop of a report; it skips the check for emptied buckets.
                get = into.get
                for bucket, count in histogram.items():
                    into[bucket] = get(bucket, 0) + count
            else:
                histogram_add(into, histogram, sign)

    def get(self, name: str) -> int:
        return self.counts.get(name, 0)


@dataclass(frozen=True)
class MetricValue:
    value: float | None
    n: int
    unit: str
    previous: float | None = None

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


def _share(part: int, whole: int) -> tuple[float | None, int]:
    return (round(100 * part / whole, 1) if whole else None), whole


def _percentile(name: str, share: float) -> Callable[[Totals], tuple[float | None, int]]:
    def compute(totals: Totals) -> tuple[float | None, int]:
        histogram = totals.hists.get(name, {})
        value = histogram_percentile(histogram, share)
        return (float(value) if value is not None else None), histogram_count(histogram)

    return compute


def _nps(totals: Totals) -> tuple[float | None, int]:
    answers = totals.get("nps_answers")
    if not answers:
        return None, 0
    return round(100 * (totals.get("promoters") - totals.get("detractors")) / answers, 1), answers


def _aht(totals: Totals) -> tuple[float | None, int]:
    handled = totals.get("handled")
    return (round(totals.get("handling_seconds") / handled) if handled else None), handled


def _count(name: str) -> Callable[[Totals], tuple[float | None, int]]:
    return lambda totals: (float(totals.get(name)), totals.get(name))


@dataclass(frozen=True)
class Drill:
    """A drill-down: the facts behind a figure over a period, and the fact's day column
    they are listed by, newest first ("" lists them by case, newest first). Each day
    column has an index ending on the case, so a page is read off it without a sort."""

    select: Callable[[QuerySet[CaseFact], Period], QuerySet[CaseFact]]
    day: str = ""

    def __call__(self, facts: QuerySet[CaseFact], period: Period) -> QuerySet[CaseFact]:
        return self.select(facts, period)

    def ordering(self) -> list[str]:
        return [f"-{self.day}", "-case_id"] if self.day else ["-case_id"]


def _solved_select(facts: QuerySet[CaseFact], period: Period) -> QuerySet[CaseFact]:
    return facts.filter(solved_day__range=(period.start, period.end))


_solved = Drill(_solved_select, "solved_day")


def _with_event(*kinds: str, only: Q | None = None) -> Drill:
    def select(facts: QuerySet[CaseFact], period: Period) -> QuerySet[CaseFact]:
        start, end = period.bounds()
        case_ids = CaseEvent.objects.filter(
            kind__in=kinds, created_at__gte=start, created_at__lt=end
        ).values("case_id")
        facts = facts.filter(case_id__in=case_ids)
        return facts.filter(only) if only is not None else facts

    return Drill(select)


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    unit: str  # "percent", "seconds", "count", "score"
    compute: Callable[[Totals], tuple[float | None, int]]
    drill: Drill
    # Which facts a drill-down marks as "counting against" the figure.
    against: Q | None = None
    higher_is_better: bool = True
    # The time histogram a percentile reads ("" for figures made of counters only).
    histogram: str = ""


def _by_day(column: str) -> Drill:
    return Drill(
        lambda facts, period: facts.filter(**{f"{column}__range": (period.start, period.end)}),
        column,
    )


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in [
        Metric("created", "Cases created", "count", _count("created"), _by_day("created_day")),
        Metric("solved", "Cases solved", "count", _count("solved"), _solved),
        Metric(
            "csat",
            "Customer satisfaction (CSAT)",
            "percent",
            lambda t: _share(t.get("ratings_positive"), t.get("ratings")),
            _by_day("rated_day"),
            against=Q(rating__lte=3),
        ),
        Metric("nps", "Net Promoter Score", "score", _nps, _by_day("nps_day"), Q(nps__lte=6)),
        Metric(
            "fcr",
            "First-contact resolution",
            "percent",
            lambda t: _share(t.get("fcr"), t.get("solved")),
            _solved,
            against=Q(fcr=False),
        ),
        Metric(
            "aht",
            "Average handling time",
            "seconds",
            _aht,
            Drill(
                lambda facts, period: _solved(facts, period).filter(handling_seconds__gt=0),
                "solved_day",
            ),
            higher_is_better=False,
        ),
        Metric(
            "first_response_p50",
            "First response, median",
            "seconds",
            _percentile("first_response", 0.5),
            _by_day("first_response_day"),
            higher_is_better=False,
            histogram="first_response",
        ),
        Metric(
            "first_response_p90",
            "First response, 90th percentile",
            "seconds",
            _percentile("first_response", 0.9),
            _by_day("first_response_day"),
            higher_is_better=False,
            histogram="first_response",
        ),
        Metric(
            "next_reply_p50",
            "Next reply, median",
            "seconds",
            _percentile("next_reply", 0.5),
            _with_event(CaseEvent.Kind.MESSAGE_ADDED, only=Q(next_reply_count__gt=0)),
            higher_is_better=False,
            histogram="next_reply",
        ),
        Metric(
            "next_reply_p90",
            "Next reply, 90th percentile",
            "seconds",
            _percentile("next_reply", 0.9),
            _with_event(CaseEvent.Kind.MESSAGE_ADDED, only=Q(next_reply_count__gt=0)),
            higher_is_better=False,
            histogram="next_reply",
        ),
        Metric(
            "resolution_p50",
            "Resolution time, median",
            "seconds",
            _percentile("resolution", 0.5),
            _solved,
            higher_is_better=False,
            histogram="resolution",
        ),
        Metric(
            "resolution_p90",
            "Resolution time, 90th percentile",
            "seconds",
            _percentile("resolution", 0.9),
            _solved,
            higher_is_better=False,
            histogram="resolution",
        ),
        Metric(
            "reopen_rate",
            "Reopened",
            "percent",
            lambda t: _share(t.get("solved_reopened"), t.get("solved")),
            _solved,
            against=Q(reopens__gt=0),
            higher_is_better=False,
        ),
        Metric(
            "escalation_rate",
            "Escalated",
            "percent",
            lambda t: _share(t.get("solved_escalated"), t.get("solved")),
            _solved,
            against=Q(escalated=True),
            higher_is_better=False,
        ),
        Metric(
            "sla_compliance",
            "SLA compliance",
            "percent",
            lambda t: _share(t.get("sla_met"), t.get("solved")),
            _solved,
            against=~Q(sla_breaches=[]),
        ),
        Metric(
            "problem_confirmed_rate",
            "Problem statements the customer confirmed",
            "percent",
            lambda t: _share(t.get("problems_confirmed"), t.get("problems_answered")),
            _with_event("problem_answered"),
            against=~Q(problem_answer="confirmed"),
        ),
        Metric(
            "handoff_refusals",
            "Hand-offs refused for missing facts",
            "count",
            _count("handoffs_refused"),
            _with_event("handoff_refused", "escalation_returned"),
            higher_is_better=False,
        ),
        Metric(
            "plan_approved_rate",
            "Plans the customer approved",
            "percent",
            lambda t: _share(t.get("plans_approved"), t.get("plans_decided")),
            _with_event("plan_consent"),
            against=~Q(plan_decision="approved"),
        ),
        Metric(
            "followup_confirmed_rate",
            "Follow-ups the customer confirmed solved",
            "percent",
            lambda t: _share(t.get("followups_confirmed"), t.get("followups_answered")),
            _with_event("followup_answered"),
            against=~Q(followup_answer="confirmed"),
        ),
    ]
}
# Figures that are not sums of case contributions.
DEFLECTION_RATE = "deflection_rate"
BACKLOG = "backlog"
ALL_METRICS = [*METRICS, DEFLECTION_RATE, BACKLOG]
GROUPS = [name for name in DIMENSIONS if name != "all"]
INTERVALS = ("day", "week", "month")


def _slice(filters: Mapping[str, Any] | None) -> tuple[str, str]:
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    unknown = set(filters) - set(GROUPS)
    if unknown:
        raise MetricsQueryError(f"cannot slice by {', '.join(sorted(unknown))}")
    if len(filters) > 1:
        raise MetricsQueryError("slice by one of team, agent, category, channel, priority, org")
    if not filters:
        return "all", ""
    ((dimension, key),) = filters.items()
    return dimension, str(key)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


Rows = Iterable[tuple[int, str, dict[str, int], dict[str, Histogram]]]


def _read(rows: QuerySet[DailyRollup], histograms: list[str] | None) -> Rows:
    """(id, key, counters, histograms) of each row; only the named histograms when
    given, so the others are never decoded."""
    if histograms is None:
        yield from rows.values_list("pk", "key", "counts", "hists")
        return
    for pk, key, counts, *hists in rows.values_list(
        "pk", "key", "counts", *[f"hists__{name}" for name in histograms]
    ):
        yield pk, key, counts, {name: h for name, h in zip(histograms, hists, strict=True) if h}


def _period_totals(
    period: Period,
    dimension: str,
    keys: list[str] | None,
    histograms: list[str] | None = None,
) -> dict[str, Totals]:
    """The summed rollups of the period per key of one dimension (all keys when `keys` is
    None): daily rows for the days outside whole months, and for the whole months the
    difference between two running totals (see rollups.CUMULATIVE)."""
    first_month = period.start if period.start.day == 1 else _next_month(period.start)
    after_months = (period.end + timedelta(days=1)).replace(day=1)
    totals: dict[str, Totals] = defaultdict(Totals)
    only_keys = Q() if keys is None else Q(key__in=keys)
    if first_month >= after_months:
        days = Q(day__range=(period.start, period.end))
    else:
        days = Q(day__gte=period.start, day__lt=first_month) | Q(
            day__gte=after_months, day__lte=period.end
        )
        # Whole months: the running total at the last of them less the one before them;
        # a slice's latest row at or before a month is its total then.
        last_month, month_before = _previous_month(after_months), _previous_month(first_month)
        ends: dict[str, tuple[date, int]] = {}
        starts: dict[str, tuple[date, int]] = {}
        for pk, key, day in DailyRollup.objects.filter(
            only_keys, dimension=CUMULATIVE + dimension, day__lte=last_month
        ).values_list("pk", "key", "day"):
            if key not in ends or ends[key][0] < day:
                ends[key] = (day, pk)
            if day <= month_before and (key not in starts or starts[key][0] < day):
                starts[key] = (day, pk)
        sign = {pk: 1 for _, pk in ends.values()}
        for _, pk in starts.values():
            sign[pk] = sign.get(pk, 0) - 1
        wanted = [pk for pk, s in sign.items() if s]
        for pk, key, counts, hists in _read(DailyRollup.objects.filter(pk__in=wanted), histograms):
            totals[key].add(counts, hists, sign[pk])
    for _, key, counts, hists in _read(
        DailyRollup.objects.filter(only_keys, days, dimension=dimension), histograms
    ):
        totals[key].add(counts, hists)
    return totals


def _totals(period: Period, dimension: str, key: str) -> Totals:
    return _period_totals(period, dimension, [key]).get(key) or Totals()


def _deflection(period: Period, created_on_web: int) -> tuple[float | None, int]:
    start, end = period.bounds()
    deflected = Deflection.objects.filter(created_at__gte=start, created_at__lt=end).count()
    return _share(deflected, deflected + created_on_web)


def _values(totals: Totals) -> dict[str, tuple[float | None, int]]:
    return {name: metric.compute(totals) for name, metric in METRICS.items()}


@dataclass
class Report:
    period: Period
    dimension: str
    key: str
    metrics: dict[str, MetricValue]
    groups: list[tuple[str, dict[str, MetricValue]]] = field(default_factory=list)


def _web_created(period: Period) -> int:
    return _totals(period, "channel", "web").get("created")


def report(
    *, period: Period, filters: Mapping[str, Any] | None = None, compare: bool = True
) -> Report:
    """Every metric over the period for one slice (or the whole desk), with the value
    over the previous period of the same length."""
    dimension, key = _slice(filters)
    now = _values(_totals(period, dimension, key))
    before = _values(_totals(period.previous(), dimension, key)) if compare else {}
    metrics = {
        name: MetricValue(
            value=value,
            n=n,
            unit=METRICS[name].unit,
            previous=before[name][0] if name in before else None,
        )
        for name, (value, n) in now.items()
    }
    if dimension == "all":
        value, n = _deflection(period, _web_created(period))
        previous = _deflection(period.previous(), _web_created(period.previous()))[0]
        metrics[DEFLECTION_RATE] = MetricValue(value, n, "percent", previous if compare else None)
    backlog = backlog_summary(filters=filters)
    metrics[BACKLOG] = MetricValue(float(backlog["open"]), backlog["open"], "count")
    return Report(period=period, dimension=dimension, key=key, metrics=metrics)


def report_grouped(
    *, period: Period, group_by: str, only: Iterable[str] | None = None
) -> list[tuple[str, dict[str, MetricValue]]]:
    """Every metric (or `only` these, with the counts they are sorted by) per key of one
    dimension ("-" stands for none), largest first. Naming the figures needed saves
    reading the histograms of the others, most of a grouped report's time."""
    if group_by not in GROUPS:
        raise MetricsQueryError(f"group_by is one of {', '.join(GROUPS)}")
    names = list(METRICS) if only is None else list(dict.fromkeys(["created", "solved", *only]))
    unknown = set(names) - set(METRICS)
    if unknown:
        raise MetricsQueryError(f"no such metric: {', '.join(sorted(unknown))}")
    histograms = sorted({METRICS[n].histogram for n in names} - {""})
    totals = _period_totals(period, group_by, None, None if only is None else histograms)
    groups = []
    for key, total in totals.items():
        groups.append(
            (key, {n: MetricValue(*METRICS[n].compute(total), METRICS[n].unit) for n in names})
        )
    groups.sort(key=lambda group: (-group[1]["created"].n - group[1]["solved"].n, group[0]))
    return groups


def _interval_start(day: date, interval: str) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def trend(
    *, period: Period, interval: str = "day", filters: Mapping[str, Any] | None = None
) -> list[tuple[date, dict[str, MetricValue]]]:
    """Every metric per day, week (from Monday) or month within the period, oldest first;
    intervals without activity are included so a chart's axis is even."""
    if interval not in INTERVALS:
        raise MetricsQueryError("interval is day, week or month")
    dimension, key = _slice(filters)
    buckets: dict[date, Totals] = {}
    day = period.start
    while day <= period.end:
        buckets.setdefault(_interval_start(day, interval), Totals())
        day += timedelta(days=1)
    daily = DailyRollup.objects.filter(
        dimension=dimension, key=key, day__range=(period.start, period.end)
    )
    for day, counts, hists in daily.values_list("day", "counts", "hists"):
        buckets[_interval_start(day, interval)].add(counts, hists)
    return [
        (start, {n: MetricValue(v, c, METRICS[n].unit) for n, (v, c) in _values(t).items()})
        for start, t in sorted(buckets.items())
    ]


def _fact_filter(filters: Mapping[str, Any] | None) -> Q:
    dimension, key = _slice(filters)
    if dimension == "all":
        return Q()
    column = DIMENSIONS[dimension]
    return Q(**{f"{column}__isnull": True}) if key == NO_KEY else Q(**{column: key})


def drilldown(
    *,
    metric: str,
    period: Period,
    filters: Mapping[str, Any] | None = None,
    against_only: bool = False,
) -> QuerySet[CaseFact]:
    """The case facts behind a figure, newest first by the figure's own day; `against_only`
    keeps the ones that count against it (e.g. the ratings of 3 or less behind a CSAT)."""
    if metric not in METRICS:
        raise MetricsQueryError(f"no drill-down for {metric!r}")
    spec = METRICS[metric]
    facts = CaseFact.objects.filter(_fact_filter(filters))
    facts = spec.drill(facts, period)
    if against_only and spec.against is not None:
        facts = facts.filter(spec.against)
    return facts.order_by(*spec.drill.ordering())


@dataclass(frozen=True)
class Page:
    """One page of a drill-down, newest first, and where the next one starts ("" when
    this is the last). Pages are read from a position, not counted: a million facts
    cost no more than fifty."""

    items: list[Any]
    after: str


def _after_parse(after: str) -> tuple[date | None, int] | None:
    if not after:
        return None
    day_text, _, case_text = after.rpartition("~")
    try:
        return (date.fromisoformat(day_text) if day_text else None, int(case_text))
    except ValueError as error:
        raise MetricsQueryError("the page position is not one this list wrote") from error


def drilldown_page(
    *,
    metric: str,
    period: Period,
    filters: Mapping[str, Any] | None = None,
    against_only: bool = False,
    after: str = "",
    size: int = 50,
) -> Page:
    """A page of the facts behind a figure, starting after the position `after` that the
    previous page returned."""
    facts = drilldown(metric=metric, period=period, filters=filters, against_only=against_only)
    column = METRICS[metric].drill.day
    position = _after_parse(after)
    if position is not None:
        day, case_id = position
        if column and day is not None:
            facts = facts.filter(
                Q(**{f"{column}__lt": day}) | Q(**{column: day, "case_id__lt": case_id})
            )
        else:
            facts = facts.filter(case_id__lt=case_id)
    items = list(facts.select_related("case", "case__owner")[: size + 1])
    if len(items) <= size:
        return Page(items, "")
    last = items[size - 1]
    day_value = getattr(last, column) if column else None
    return Page(items[:size], f"{day_value.isoformat() if day_value else ''}~{last.case_id}")


def backlog_cases(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Case]:
    """The open cases now, on one slice of the desk, newest first."""
    dimension, key = _slice(filters)
    cases = Case.objects.open().order_by("-pk")
    if dimension == "all":
        return cases
    column = {
        "team": "team_id",
        "owner": "owner_id",
        "solver": "owner_id",
        "category": "category_id",
        "channel": "channel",
        "priority": "priority",
        "organization": "customer__organization_id",
    }[dimension]
    return cases.filter(**({f"{column}__isnull": True} if key == NO_KEY else {column: key}))


def backlog_page(
    *, filters: Mapping[str, Any] | None = None, after: str = "", size: int = 50
) -> Page:
    """A page of the open cases, newest first, after the position the previous page gave."""
    cases = backlog_cases(filters=filters)
    position = _after_parse(after)
    if position is not None:
        cases = cases.filter(pk__lt=position[1])
    items = list(cases.select_related("owner")[: size + 1])
    if len(items) <= size:
        return Page(items, "")
    return Page(items[:size], f"~{items[size - 1].pk}")


# Ages of the open cases, in whole days since the day each was created: [low, high).
BACKLOG_AGES = (
    ("today", 0, 1),
    ("1–2 days", 1, 3),
    ("3–6 days", 3, 7),
    ("a week or more", 7, None),
)


def backlog_summary(
    *, filters: Mapping[str, Any] | None = None, today: date | None = None
) -> dict[str, Any]:
    """How many cases are open, and how old they are, from the rollups: an open case
    counts on the day it was created, so this reads the slice's monthly rows up to the
    month before last week and the daily rows since (one query, flat with the desk's
    size). It is as fresh as the last catch-up, a minute at most."""
    dimension, key = _slice(filters)
    today = today or timezone.localdate()
    week_ago = today - timedelta(days=7)
    daily_from = week_ago.replace(day=1)
    rows = DailyRollup.objects.filter(
        Q(dimension=MONTHLY + dimension, day__lt=daily_from)
        | Q(dimension=dimension, day__gte=daily_from, day__lte=today),
        key=key,
    )
    open_count = Cast(KT("counts__open"), IntegerField())
    buckets = {}
    for index, (_, low, high) in enumerate(BACKLOG_AGES):
        condition = Q(day__lte=today - timedelta(days=low))
        if high is not None:
            condition &= Q(day__gt=today - timedelta(days=high))
        buckets[f"age{index}"] = Sum(open_count, filter=condition)
    counts = rows.aggregate(**buckets)
    ages = {label: counts[f"age{i}"] or 0 for i, (label, _, _) in enumerate(BACKLOG_AGES)}
    return {"open": sum(ages.values()), "ages": ages}
