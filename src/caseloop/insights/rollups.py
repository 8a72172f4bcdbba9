"""Keeping the reports' figures: per-case facts recomputed from the event log, and daily
rollups per slice that the reports sum.

`rollups_catch_up` reads the case-event log from where it last stopped, recomputes the
facts of every case with new events (idempotent: a fact is a function of the case's whole
history) and moves the difference between a case's old and new contributions into the
daily rollups. It runs every minute in the job consumer and holds a row lock, so there is
one writer. Events written less than `SETTLE_SECONDS` ago are read again on the next run,
so a transaction that committed late is never skipped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from caseloop.accounts.models import STAFF_ROLES, User
from caseloop.automation.selectors import (
    CaseKeys,
    ResponsePolicy,
    Schedule,
    business_time_between,
    response_policy_load,
)
from caseloop.cases.models import FINISHED_STATUSES, Case, CaseEvent, Message
from caseloop.channels.phone.models import CallLog

from .histograms import Histogram, histogram_add, histogram_of
from .models import (
    CaseFact,
    DailyRollup,
    MetricsCursor,
    NpsResponse,
    SatisfactionRating,
    WorkInterval,
)

SETTLE_SECONDS = 60
# The slices every contribution is added to, and the fact column each one reads.
DIMENSIONS: dict[str, str] = {
    "all": "",
    "team": "team_id",
    "owner": "owner_id",
    "solver": "solver_id",
    "category": "category_id",
    "channel": "channel",
    "priority": "priority",
    "organization": "organization_id",
}
NO_KEY = "-"
# Each contribution is also added to a row per month (dimension "m:<dimension>", day = the
# 1st), so a report over a year reads about thirty rows per slice instead of 365.
MONTHLY = "m:"
# And to running totals per month (dimension "c:<dimension>", day = the 1st): everything up
# to the end of that month. The whole months of any period are the difference of two of
# them, so a report over a year by 200 organizations reads two rows per organization for
# its months, not twelve. A slice has a running-total row for each month it was active.
CUMULATIVE = "c:"

# Event kinds read here, written by the core, the loop, automation and insights.
_MESSAGE_ADDED = CaseEvent.Kind.MESSAGE_ADDED
_STATUS_CHANGED = CaseEvent.Kind.STATUS_CHANGED
_SLA_BREACH_KINDS = {"sla_breached": None, "first_response_breached": "first_response"}

# Contribution: {day iso: (counts, histograms)}
Contribution = dict[str, tuple[dict[str, int], dict[str, Histogram]]]


def local_day(moment: datetime) -> date:
    return timezone.localdate(moment)


def dimension_key(value: object) -> str:
    return NO_KEY if value is None or value == "" else str(value)


@dataclass
class _Facts:
    """The computed fact of one case, before it is stored."""

    values: dict[str, Any]
    contribution: Contribution = field(default_factory=dict)

    def count(self, day: date, name: str, amount: int = 1) -> None:
        if not amount:
            return
        counts, _ = self.contribution.setdefault(day.isoformat(), ({}, {}))
        counts[name] = counts.get(name, 0) + amount

    def time(self, day: date, name: str, seconds: int) -> None:
        _, hists = self.contribution.setdefault(day.isoformat(), ({}, {}))
        histogram_add(hists.setdefault(name, {}), histogram_of([seconds]))


def _business_seconds(schedule: Schedule, start: datetime, end: datetime) -> int:
    return int(business_time_between(start=start, end=end, schedule=schedule).total_seconds())


def case_fact_compute(
    *,
    case: dict[str, Any],
    events: list[dict[str, Any]],
    staff: set[int],
    handling_seconds: int,
    rating: tuple[int, datetime] | None,
    nps: tuple[int, datetime] | None,
    policy: ResponsePolicy,
) -> _Facts:
    """The fact of one case from its row and its events in order (see README, Metrics)."""
    created_at: datetime = case["created_at"]
    priority: str = case["priority"]
    # Times count the business hours of the SLA policy that applies to the case.
    schedule = policy.schedule_of(
        policy.targets_for(
            CaseKeys(
                priority=priority,
                organization_id=case["customer__organization_id"],
                service_level=case["customer__organization__service_level"] or "",
            )
        )
    )
    facts = _Facts(values={})
    facts.count(local_day(created_at), "created")

    agent_replies: list[datetime] = []
    next_replies: list[tuple[datetime, int]] = []
    waiting_since: datetime | None = None
    reopens = 0
    escalations = 0
    escalated = False
    solved_at: datetime | None = None
    last_solver: int | None = None
    escalation_solver: int | None = None
    breaches: set[str] = set()
    problem_answer = plan_decision = followup_answer = ""
    handoffs_refused = 0

    for event in events:
        kind, data, at = event["kind"], event["data"] or {}, event["created_at"]
        actor = event["actor_id"]
        if kind == _MESSAGE_ADDED:
            direction = data.get("direction")
            if direction == Message.Direction.OUTBOUND and actor in staff:
                if agent_replies and waiting_since is not None:
                    next_replies.append((at, _business_seconds(schedule, waiting_since, at)))
                agent_replies.append(at)
                waiting_since = None
            elif direction == Message.Direction.INBOUND and agent_replies and waiting_since is None:
                waiting_since = at
        elif kind == _STATUS_CHANGED:
            after = data.get("after")
            if data.get("reopened"):
                reopens += 1
                solved_at = None
            if after in FINISHED_STATUSES and data.get("before") not in FINISHED_STATUSES:
                solved_at = at
                last_solver = actor if actor in staff else None
        elif kind == "escalated":
            escalated = True
            escalations += 1
            facts.count(local_day(at), "escalations")
        elif kind == "escalation_solved":
            escalation_solver = actor if actor in staff else escalation_solver
        elif kind in _SLA_BREACH_KINDS:
            target = _SLA_BREACH_KINDS[kind] or str(data.get("target") or "")
            if target:
                breaches.add(target)
        elif kind == "problem_answered":
            problem_answer = str(data.get("answer") or "")
            facts.count(local_day(at), "problems_answered")
            if problem_answer == "confirmed":
                facts.count(local_day(at), "problems_confirmed")
        elif kind in ("handoff_refused", "escalation_returned"):
            handoffs_refused += 1
            facts.count(local_day(at), "handoffs_refused")
        elif kind == "plan_consent":
            plan_decision = str(data.get("decision") or "")
            facts.count(local_day(at), "plans_decided")
            if plan_decision == "approved":
                facts.count(local_day(at), "plans_approved")
        elif kind == "followup_answered":
            followup_answer = "confirmed" if data.get("solved") else "not_solved"
            facts.count(local_day(at), "followups_answered")
            if data.get("solved"):
                facts.count(local_day(at), "followups_confirmed")
        elif kind == "followup_closed_no_answer":
            followup_answer = "no_answer"

    if case["status"] not in FINISHED_STATUSES:
        solved_at = None
        # The backlog: an open case counts on the day it was created, so the open cases
        # and their ages are a sum of rollup rows like every other figure.
        facts.count(local_day(created_at), "open")
    first_response_at = case["first_response_at"] or (agent_replies[0] if agent_replies else None)
    first_response_seconds = None
    if first_response_at is not None:
        first_response_seconds = _business_seconds(schedule, created_at, first_response_at)
        day = local_day(first_response_at)
        facts.count(day, "first_responses")
        facts.time(day, "first_response", first_response_seconds)
    for at, seconds in next_replies:
        facts.count(local_day(at), "next_replies")
        facts.time(local_day(at), "next_reply", seconds)

    solver = escalation_solver or last_solver or case["owner_id"]
    resolution_seconds = None
    fcr = False
    if solved_at is not None:
        day = local_day(solved_at)
        resolution_seconds = _business_seconds(schedule, created_at, solved_at)
        fcr = len(agent_replies) == 1 and reopens == 0 and not escalated
        facts.count(day, "solved")
        facts.count(day, "fcr", int(fcr))
        facts.count(day, "solved_reopened", int(reopens > 0))
        facts.count(day, "solved_escalated", int(escalated))
        facts.count(day, "sla_met", int(not breaches))
        facts.count(day, "agent_replies", len(agent_replies))
        facts.time(day, "resolution", resolution_seconds)
        if handling_seconds > 0:
            facts.count(day, "handled")
            facts.count(day, "handling_seconds", handling_seconds)
    if rating is not None:
        score, at = rating
        day = local_day(at)
        facts.count(day, "ratings")
        facts.count(day, "ratings_positive", int(score >= 4))
        facts.count(day, "ratings_negative", int(score <= 2))
    if nps is not None:
        score, at = nps
        day = local_day(at)
        facts.count(day, "nps_answers")
        facts.count(day, "promoters", int(score >= 9))
        facts.count(day, "detractors", int(score <= 6))

    facts.values = {
        "reference": case["reference"] or "",
        "team_id": case["team_id"],
        "owner_id": case["owner_id"],
        "solver_id": solver if solved_at is not None else None,
        "category_id": case["category_id"],
        "organization_id": case["customer__organization_id"],
        "channel": case["channel"],
        "priority": priority,
        "status": case["status"],
        "created_at": created_at,
        "created_day": local_day(created_at),
        "first_response_at": first_response_at,
        "first_response_day": local_day(first_response_at) if first_response_at else None,
        "first_response_seconds": first_response_seconds,
        "next_reply_count": len(next_replies),
        "solved_at": solved_at,
        "solved_day": local_day(solved_at) if solved_at else None,
        "resolution_seconds": resolution_seconds,
        "agent_replies": len(agent_replies),
        "reopens": reopens,
        "escalated": escalated,
        "fcr": fcr,
        "handling_seconds": handling_seconds,
        "sla_breaches": sorted(breaches),
        "rating": rating[0] if rating else None,
        "rated_day": local_day(rating[1]) if rating else None,
        "nps": nps[0] if nps else None,
        "nps_day": local_day(nps[1]) if nps else None,
        "problem_answer": problem_answer,
        "handoffs_refused": handoffs_refused,
        "plan_decision": plan_decision,
        "followup_answer": followup_answer,
        "last_event_id": events[-1]["id"] if events else 0,
    }
    return facts


_CASE_FIELDS = (
    "id",
    "reference",
    "team_id",
    "owner_id",
    "category_id",
    "customer__organization_id",
    "customer__organization__service_level",
    "channel",
    "priority",
    "status",
    "created_at",
    "first_response_at",
)
_FACT_FIELDS = [f.name for f in CaseFact._meta.concrete_fields if f.name not in ("case",)]
_UPDATE_FIELDS = [name for name in _FACT_FIELDS if name != "computed_at"] + ["computed_at"]


def _slices(values: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (dimension, "" if not column else dimension_key(values.get(column)))
        for dimension, column in DIMENSIONS.items()
    ]


Delta = dict[tuple[str, str, str], tuple[dict[str, int], dict[str, Histogram]]]


def facts_refresh(case_ids: Iterable[int], *, policy: ResponsePolicy | None = None) -> int:
    """Recompute the facts of these cases and move the change into the rollups. Call it
    inside the catch-up's transaction (it assumes a single writer). Returns the count."""
    delta: Delta = {}
    count = _facts_store(case_ids, policy=policy, delta=delta, fresh=False)
    _rollups_apply(delta)
    return count


def _facts_store(
    case_ids: Iterable[int], *, policy: ResponsePolicy | None, delta: Delta, fresh: bool
) -> int:
    """Recompute and store the facts of these cases, adding the change in their
    contributions to `delta`. `fresh`: there are no facts yet (a rebuild)."""
    ids = sorted(set(case_ids))
    if not ids:
        return 0
    policy = policy or response_policy_load()
    cases: dict[int, dict[str, Any]] = {
        row["id"]: dict(row) for row in Case.objects.filter(pk__in=ids).values(*_CASE_FIELDS)
    }
    events_by_case: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for event in (
        CaseEvent.objects.filter(case_id__in=ids)
        .order_by("case_id", "id")
        .values("id", "case_id", "kind", "actor_id", "data", "created_at")
    ):
        events_by_case[event["case_id"]].append(dict(event))
    actors = {e["actor_id"] for events in events_by_case.values() for e in events} - {None}
    staff = set(
        User.objects.filter(pk__in=actors, role__in=STAFF_ROLES).values_list("pk", flat=True)
    )
    handling: dict[int, int] = defaultdict(int)
    for row in (
        WorkInterval.objects.filter(case_id__in=ids)
        .values("case_id")
        .annotate(total=Sum("seconds"))
    ):
        handling[row["case_id"]] += row["total"] or 0
    for row in (
        CallLog.objects.filter(case_id__in=ids)
        .values("case_id")
        .annotate(total=Sum("duration_seconds"))
    ):
        handling[row["case_id"]] += row["total"] or 0
    ratings = {
        row["case_id"]: (row["score"], row["created_at"])
        for row in SatisfactionRating.objects.filter(case_id__in=ids)
        .order_by("created_at")
        .values("case_id", "score", "created_at")
    }
    nps = {
        row["case_id"]: (row["score"], row["created_at"])
        for row in NpsResponse.objects.filter(case_id__in=ids)
        .order_by("created_at")
        .values("case_id", "score", "created_at")
    }
    old = {} if fresh else {f.case_id: f for f in CaseFact.objects.filter(case_id__in=ids)}

    def move(values: dict[str, Any], contribution: Contribution, sign: int) -> None:
        for dimension, key in _slices(values):
            for day, (counts, hists) in contribution.items():
                for slot in (
                    (dimension, key, day),
                    (MONTHLY + dimension, key, day[:8] + "01"),
                ):
                    add(slot, counts, hists, sign)

    def add(slot: tuple[str, str, str], counts: Any, hists: Any, sign: int) -> None:
        slot_counts, slot_hists = delta.setdefault(slot, ({}, {}))
        for name, amount in counts.items():
            slot_counts[name] = slot_counts.get(name, 0) + sign * amount
        for name, histogram in hists.items():
            histogram_add(slot_hists.setdefault(name, {}), histogram, sign)

    stored: list[CaseFact] = []
    for case_id in ids:
        previous = old.get(case_id)
        if previous is not None:
            move(
                {f: getattr(previous, f) for f in _FACT_FIELDS},
                {day: (c, h) for day, c, h in previous.contributions},
                -1,
            )
        case_row = cases.get(case_id)
        if case_row is None:
            continue  # deleted case: its old contribution is gone from the rollups
        facts = case_fact_compute(
            case=case_row,
            events=events_by_case.get(case_id, []),
            staff=staff,
            handling_seconds=handling.get(case_id, 0),
            rating=ratings.get(case_id),
            nps=nps.get(case_id),
            policy=policy,
        )
        move(facts.values, facts.contribution, 1)
        stored.append(
            CaseFact(
                case_id=case_id,
                contributions=[[day, c, h] for day, (c, h) in sorted(facts.contribution.items())],
                **facts.values,
            )
        )
    if fresh:
        CaseFact.objects.bulk_create(stored, batch_size=1000)
        return len(stored)
    CaseFact.objects.filter(case_id__in=[i for i in ids if i not in cases]).delete()
    CaseFact.objects.bulk_create(
        stored,
        update_conflicts=True,
        unique_fields=["case"],
        update_fields=_UPDATE_FIELDS,
        batch_size=500,
    )
    return len(stored)


def _rollups_apply(delta: Delta) -> None:
    """Add each (dimension, key, day) delta to its rollup row, creating missing rows."""
    days_by_slice: dict[tuple[str, str], set[str]] = defaultdict(set)
    for dimension, key, day in delta:
        days_by_slice[(dimension, key)].add(day)
    existing: dict[tuple[str, str, str], DailyRollup] = {}
    by_dimension: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for (dimension, key), days in days_by_slice.items():
        by_dimension[dimension][key] = days
    for dimension, days_by_key in by_dimension.items():
        all_days = set().union(*days_by_key.values())
        needed = sum(len(days) for days in days_by_key.values())
        if len(days_by_key) * len(all_days) <= 4 * needed:
            # Recent activity touches a few days: one query per dimension.
            queries = [(list(days_by_key), sorted(all_days))]
        else:
            # A history spread over many days (a backlog being read): one query per slice,
            # so untouched days of every key are not read.
            queries = [([key], sorted(days)) for key, days in days_by_key.items()]
        for keys, day_list in queries:
            rows = DailyRollup.objects.filter(dimension=dimension, key__in=keys, day__in=day_list)
            for row in rows:
                existing[(dimension, row.key, row.day.isoformat())] = row
    created: list[DailyRollup] = []
    updated: list[DailyRollup] = []
    for (dimension, key, day), (counts, hists) in delta.items():
        if not any(counts.values()) and not any(hists.values()):
            continue
        found = existing.get((dimension, key, day))
        if found is None:
            row = DailyRollup(
                dimension=dimension, key=key, day=date.fromisoformat(day), counts={}, hists={}
            )
            created.append(row)
        else:
            row = found
            updated.append(row)
        _row_add(row, counts, hists)
    cumulative_created, cumulative_updated = _cumulative_changes(delta)
    _rows_replace(created=[*created, *cumulative_created], updated=[*updated, *cumulative_updated])


def _rows_replace(*, created: list[DailyRollup], updated: list[DailyRollup]) -> None:
    # Changed rows are replaced rather than updated: two statements per batch instead of
    # an UPDATE with a CASE per row (the catch-up is the only writer).
    stale = [row.pk for row in updated]
    for start in range(0, len(stale), 900):
        DailyRollup.objects.filter(pk__in=stale[start : start + 900]).delete()
    for row in updated:
        row.pk = None
    DailyRollup.objects.bulk_create([*created, *updated], batch_size=1000)


def _row_add(row: DailyRollup, counts: dict[str, int], hists: dict[str, Histogram]) -> None:
    for name, amount in counts.items():
        total = row.counts.get(name, 0) + amount
        if total:
            row.counts[name] = total
        else:
            row.counts.pop(name, None)
    for name, histogram in hists.items():
        merged = row.hists.setdefault(name, {})
        histogram_add(merged, histogram)
        if not merged:
            row.hists.pop(name)


def _cumulative_changes(delta: Delta) -> tuple[list[DailyRollup], list[DailyRollup]]:
    """Carry each month's change into the running totals of its slice: the row of that
    month (made from the slice's latest earlier row when missing) and every later row.
    Returns the rows to create and the rows to replace."""
    changes: dict[tuple[str, str], dict[str, tuple[dict[str, int], dict[str, Histogram]]]]
    changes = defaultdict(dict)
    for (dimension, key, day), change in delta.items():
        if dimension.startswith(MONTHLY) and (any(change[0].values()) or any(change[1].values())):
            changes[(dimension[len(MONTHLY) :], key)][day] = change
    if not changes:
        return [], []
    # Which rows each slice needs: those from its first changed month on, and the one before.
    wanted: list[int] = []
    by_dimension: dict[str, dict[str, str]] = defaultdict(dict)
    for (dimension, key), months in changes.items():
        by_dimension[dimension][key] = min(months)
    for dimension, first_by_key in by_dimension.items():
        before: dict[str, tuple[date, int]] = {}
        for pk, key, month in DailyRollup.objects.filter(
            dimension=CUMULATIVE + dimension, key__in=list(first_by_key)
        ).values_list("pk", "key", "day"):
            if month >= date.fromisoformat(first_by_key[key]):
                wanted.append(pk)
            elif key not in before or before[key][0] < month:
                before[key] = (month, pk)
        wanted.extend(pk for _, pk in before.values())
    rows: dict[tuple[str, str], list[DailyRollup]] = defaultdict(list)
    for start in range(0, len(wanted), 900):
        for row in DailyRollup.objects.filter(pk__in=wanted[start : start + 900]):
            rows[(row.dimension[len(CUMULATIVE) :], row.key)].append(row)
    created: list[DailyRollup] = []
    updated: list[DailyRollup] = []
    for (dimension, key), months in changes.items():
        existing = sorted(rows.get((dimension, key), []), key=lambda row: row.day)
        days = sorted({*months, *(row.day.isoformat() for row in existing)})
        first_changed = min(months)
        previous: DailyRollup | None = None
        running: tuple[dict[str, int], dict[str, Histogram]] = ({}, {})
        by_day = {row.day.isoformat(): row for row in existing}
        for day in days:
            found = by_day.get(day)
            if day < first_changed:
                previous = found  # the latest total before the first change, left as it is
                continue
            if day in months:
                counts, hists = months[day]
                for name, amount in counts.items():
                    running[0][name] = running[0].get(name, 0) + amount
                for name, histogram in hists.items():
                    histogram_add(running[1].setdefault(name, {}), histogram)
            if found is None:
                row = DailyRollup(
                    dimension=CUMULATIVE + dimension,
                    key=key,
                    day=date.fromisoformat(day),
                    counts=dict(previous.counts) if previous else {},
                    hists={n: dict(h) for n, h in previous.hists.items()} if previous else {},
                )
                created.append(row)
            else:
                row = found
                updated.append(row)
            previous_totals = (dict(row.counts), {n: dict(h) for n, h in row.hists.items()})
            _row_add(row, running[0], running[1])
            previous = DailyRollup(counts=previous_totals[0], hists=previous_totals[1])
    return created, updated


@dataclass(frozen=True)
class CatchUp:
    cases: int  # recomputed
    events: int  # read
    more: bool  # the batch was full: more events are waiting


def rollups_catch_up(*, limit: int = 5000, now: datetime | None = None) -> CatchUp:
    """Read up to `limit` new case events and bring the facts and rollups up to date."""
    now = now or timezone.now()
    settled = now - timedelta(seconds=SETTLE_SECONDS)
    with transaction.atomic():
        MetricsCursor.objects.get_or_create(pk=1)
        cursor = MetricsCursor.objects.select_for_update().get(pk=1)
        events = list(
            CaseEvent.objects.filter(id__gt=cursor.last_event_id)
            .order_by("id")
            .values_list("id", "case_id", "created_at")[:limit]
        )
        if not events:
            return CatchUp(cases=0, events=0, more=False)
        refreshed = facts_refresh({case_id for _, case_id, _ in events})
        # Move past the events that have settled; the rest are read again next time.
        last = cursor.last_event_id
        for event_id, _, created_at in events:
            if created_at >= settled:
                break
            last = event_id
        if last != cursor.last_event_id:
            cursor.last_event_id = last
            cursor.save(update_fields=["last_event_id", "updated_at"])
        return CatchUp(cases=refreshed, events=len(events), more=len(events) == limit)


def rollups_rebuild(*, chunk: int = 5000) -> int:
    """Forget every fact and rollup and read the whole event log again (after a change to
    the definitions). The facts are stored chunk by chunk while the rollups add up in
    memory and are written once at the end, all in one transaction holding the cursor, so
    the every-minute catch-up waits. Returns how many cases were recomputed."""
    policy = response_policy_load()
    with transaction.atomic():
        MetricsCursor.objects.get_or_create(pk=1)
        cursor = MetricsCursor.objects.select_for_update().get(pk=1)
        DailyRollup.objects.all().delete()
        CaseFact.objects.all().delete()
        # The next catch-up reads again what was written during the rebuild or not yet
        # settled when it began.
        settled = timezone.now() - timedelta(seconds=SETTLE_SECONDS)
        last_event = (
            CaseEvent.objects.filter(created_at__lt=settled)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        delta: Delta = {}
        total, after = 0, 0
        while True:
            ids = list(
                Case.objects.filter(pk__gt=after)
                .order_by("pk")
                .values_list("pk", flat=True)[:chunk]
            )
            if not ids:
                break
            total += _facts_store(ids, policy=policy, delta=delta, fresh=True)
            after = ids[-1]
        DailyRollup.objects.bulk_create(
            [
                DailyRollup(
                    dimension=dimension,
                    key=key,
                    day=date.fromisoformat(day),
                    counts={n: v for n, v in counts.items() if v},
                    hists={n: h for n, h in hists.items() if h},
                )
                for (dimension, key, day), (counts, hists) in delta.items()
                if any(counts.values()) or any(hists.values())
            ],
            batch_size=2000,
        )
        created, _ = _cumulative_changes(delta)  # no running totals yet: all are new
        DailyRollup.objects.bulk_create(created, batch_size=500)
        cursor.last_event_id = last_event or 0
        cursor.save(update_fields=["last_event_id", "updated_at"])
    return total
