"""Reads for SLA policies: which policy applies to a case, when its first response is due,
each case's SLA state, the cases near or past a target, and the acknowledgement's text.

The business-time maths lives in `business_time` (re-exported here) and the clock rules in
`clocks`.
"""

from __future__ import annotations

import base64
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext

from caseloop.cases.models import Case, CaseEvent, Message, Priority
from caseloop.cases.selectors import MAX_ID, InvalidCursor
from caseloop.lib import memo
from caseloop.lib.settings_cache import cached_setting

from .business_time import (
    Schedule as Schedule,
    business_time_add as business_time_add,
    business_time_after as business_time_after,
    business_time_between as business_time_between,
)
from .clocks import AGENT, CUSTOMER, STATUS, TARGETS, Clock, Moment, Targets
from .models import (
    AcknowledgementTemplate,
    BusinessHours,
    BusinessHoursInterval,
    CaseSla,
    Holiday,
    SlaPolicy,
    SlaTarget,
)
from .templating import DEFAULT_ACK_SUBJECT, DEFAULT_ACK_TEXT

# Working defaults for a desk nobody has configured yet.
DEFAULT_INTERVALS: dict[int, tuple[tuple[time, time], ...]] = {
    day: ((time(9), time(17)),) for day in range(5)
}
DEFAULT_TARGET_MINUTES: dict[str, int] = {
    Priority.URGENT: 60,
    Priority.HIGH: 120,
    Priority.NORMAL: 240,
    Priority.LOW: 480,
}
DEFAULT_NEAR_PERCENT = 75


@dataclass(frozen=True)
class PolicyTargets:
    """One SLA policy as the clocks use it; `policy_id` None is the built-in default (a
    first-response target per priority, nothing else)."""

    policy_id: int | None
    name: str
    targets: Targets
    hours_id: int | None = None
    organization_id: int | None = None
    service_level: str = ""
    priority: str = ""

    def matches(self, *, priority: str, organization_id: int | None, service_level: str) -> bool:
        return (
            (not self.priority or self.priority == priority)
            and (self.organization_id is None or self.organization_id == organization_id)
            and (not self.service_level or self.service_level == service_level)
        )


def default_targets(priority: str) -> PolicyTargets:
    minutes = DEFAULT_TARGET_MINUTES.get(priority, DEFAULT_TARGET_MINUTES[Priority.NORMAL])
    return PolicyTargets(
        policy_id=None,
        name="Default",
        targets=Targets(first_response=minutes, warn_percent=DEFAULT_NEAR_PERCENT),
    )


@dataclass(frozen=True)
class CaseKeys:
    """What a policy can match a case on."""

    priority: str
    organization_id: int | None = None
    service_level: str = ""


@dataclass(frozen=True)
class ResponsePolicy:
    """Business hours and SLA policies: loaded once, used for many cases. `policies` are
    the active ones, the most specific first."""

    schedules: dict[int | None, Schedule]
    policies: tuple[PolicyTargets, ...] = ()

    @property
    def needs_organization(self) -> bool:
        """Whether any policy matches on the customer's organization or service level."""
        return any(p.organization_id is not None or p.service_level for p in self.policies)

    def targets_for(self, keys: CaseKeys) -> PolicyTargets:
        for policy in self.policies:
            if policy.matches(
                priority=keys.priority,
                organization_id=keys.organization_id,
                service_level=keys.service_level,
            ):
                return policy
        return default_targets(keys.priority)

    def schedule_of(self, targets: PolicyTargets) -> Schedule:
        return self.schedules.get(targets.hours_id) or self.schedules[None]

    def targets_for_case(self, case: Case) -> PolicyTargets:
        """The policy for one case (one query when policies match on organizations)."""
        if not self.needs_organization:
            return self.targets_for(CaseKeys(priority=case.priority))
        return self.targets_for(case_keys(cases=[case])[case.pk])


def _specificity(policy: SlaPolicy) -> tuple[int, int, int, int, int]:
    return (
        policy.organization_id is None,
        not policy.service_level,
        not policy.priority,
        policy.position,
        policy.pk,
    )


def case_keys(*, cases: Iterable[Case]) -> dict[int, CaseKeys]:
    """Priority, organization and service level of each case (one query)."""
    priorities = {case.pk: case.priority for case in cases}
    rows = Case.objects.filter(pk__in=priorities).values_list(
        "pk", "customer__organization_id", "customer__organization__service_level"
    )
    found = {
        pk: CaseKeys(priority=priorities[pk], organization_id=org, service_level=level or "")
        for pk, org, level in rows
    }
    return {pk: found.get(pk, CaseKeys(priority=priority)) for pk, priority in priorities.items()}


def schedule_from(hours: BusinessHours) -> Schedule:
    """A Schedule from a BusinessHours row with its intervals and holidays prefetched."""
    intervals: dict[int, list[tuple[time, time]]] = {}
    for interval in hours.intervals.all():
        intervals.setdefault(interval.weekday, []).append((interval.start, interval.end))
    return Schedule(
        tz=zoneinfo.ZoneInfo(hours.timezone),
        intervals={day: tuple(sorted(spans)) for day, spans in intervals.items()},
        holidays=frozenset(holiday.date for holiday in hours.holidays.all()),
    )


def default_schedule() -> Schedule:
    return Schedule(tz=zoneinfo.ZoneInfo("UTC"), intervals=DEFAULT_INTERVALS)


def response_policy_load() -> ResponsePolicy:
    """Business hours and SLA policies as configured in the admin: four queries when they
    changed, otherwise none (lib.settings_cache); the same value for a whole batch of side
    effects (lib.memo)."""
    return memo.once(
        "automation.response_policy",
        lambda: cached_setting(
            "automation.response_policy",
            _response_policy_read,
            models=(BusinessHours, BusinessHoursInterval, Holiday, SlaPolicy),
        ),
    )


def _response_policy_read() -> ResponsePolicy:
    schedules: dict[int | None, Schedule] = {}
    for hours in BusinessHours.objects.prefetch_related("intervals", "holidays"):
        schedules[hours.pk] = schedule_from(hours)
        if hours.is_default:
            schedules[None] = schedules[hours.pk]
    schedules.setdefault(None, default_schedule())
    active = sorted(SlaPolicy.objects.filter(is_active=True), key=_specificity)
    policies = tuple(
        PolicyTargets(
            policy_id=policy.pk,
            name=policy.name,
            targets=Targets(
                first_response=policy.first_response_minutes,
                next_reply=policy.next_reply_minutes,
                resolution=policy.resolution_minutes,
                warn_percent=policy.warn_percent,
            ),
            hours_id=policy.business_hours_id,
            organization_id=policy.organization_id,
            service_level=policy.service_level,
            priority=policy.priority,
        )
        for policy in active
    )
    return ResponsePolicy(schedules=schedules, policies=policies)


def case_first_response_due(*, case: Case, policy: ResponsePolicy | None = None) -> datetime:
    """When the first agent reply on `case` is due: the first-response target of the SLA
    policy matching it, in business time from its creation. The acknowledgement promises
    this moment and the SLA clocks hold the desk to it."""
    policy = policy or response_policy_load()
    targets = policy.targets_for_case(case)
    return _first_response_due(case=case, policy=policy, targets=targets)


def _first_response_due(*, case: Case, policy: ResponsePolicy, targets: PolicyTargets) -> datetime:
    return business_time_add(
        start=case.created_at,
        minutes=targets.targets.first_response,
        schedule=policy.schedule_of(targets),
    )


def expected_response_text(
    *, due: datetime, policy: ResponsePolicy, priority: str = "", case: Case | None = None
) -> str:
    """ "by Tuesday 25 November 2026, 13:00 UTC" in the time zone of the schedule of the
    policy for `case` (or, without one, of the policy for `priority`)."""
    targets = (
        policy.targets_for_case(case)
        if case is not None
        else policy.targets_for(CaseKeys(priority=priority))
    )
    local = due.astimezone(policy.schedule_of(targets).tz)
    # Day and month names in the active language (the customer's, for their messages).
    when = date_format(local, pgettext("expected response date", "l j F Y, H:i"))
    return gettext("by %(when)s %(zone)s") % {"when": when, "zone": local.tzname()}


def ack_template_for(*, channel: str) -> tuple[str, str] | None:
    """(subject, text) of the acknowledgement for `channel`; None when acknowledgements
    are switched off for it."""
    templates = cached_setting(
        "automation.ack_templates", _ack_templates_read, models=(AcknowledgementTemplate,)
    )
    template = templates.get(channel) or templates.get("")
    if template is None:
        return DEFAULT_ACK_SUBJECT, DEFAULT_ACK_TEXT
    subject, text, is_active = template
    return (subject, text) if is_active else None


def _ack_templates_read() -> dict[str, tuple[str, str, bool]]:
    return {
        t.channel: (t.subject, t.text, t.is_active) for t in AcknowledgementTemplate.objects.all()
    }


# -- SLA state of cases -------------------------------------------------------------------


def case_history(*, case_id: int) -> list[Moment]:
    """The moments of a case the SLA clocks follow (two queries): customer messages other
    than auto-replies, agent replies other than automatic messages, status changes."""
    moments = []
    messages = Message.objects.filter(
        case_id=case_id, direction__in=[Message.Direction.INBOUND, Message.Direction.OUTBOUND]
    ).values_list("created_at", "direction", "metadata")
    for at, direction, metadata in messages:
        metadata = metadata or {}
        if direction == Message.Direction.INBOUND and not metadata.get("auto_reply"):
            moments.append(Moment(at=at, kind=CUSTOMER))
        elif direction == Message.Direction.OUTBOUND and not metadata.get("system"):
            moments.append(Moment(at=at, kind=AGENT))
    changes = CaseEvent.objects.filter(
        case_id=case_id, kind=CaseEvent.Kind.STATUS_CHANGED
    ).values_list("created_at", "data")
    for at, data in changes:
        data = data or {}
        moments.append(
            Moment(at=at, kind=STATUS, before=data.get("before", ""), after=data.get("after", ""))
        )
    return moments


CLOCK_FIELDS = (
    "started_at",
    "due_at",
    "warn_at",
    "stopped_at",
    "paused_at",
    "paused_seconds",
    "left_seconds",
    "warned_at",
    "breached_at",
)


def sla_clock(*, sla: CaseSla, target: str) -> Clock | None:
    """The stored current cycle of one target (None when it has no clock)."""
    values: dict[str, Any] = {name: getattr(sla, f"{target}_{name}") for name in CLOCK_FIELDS}
    if values["started_at"] is None:
        return None
    return Clock(target=target, **values)


# The states, worst first: what the inbox shows for a case is its worst running target.
SLA_STATES = ("breached", "warning", "ok", "paused", "met")


@dataclass(frozen=True)
class SlaTargetState:
    """One target of a case at one moment. `time_left` runs to the due time (negative once
    overdue); while paused it is the business time left; None once the clock stopped."""

    target: str
    state: str
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    time_left: timedelta | None

    @property
    def label(self) -> str:
        return str(SlaTarget(self.target).label)

    @property
    def overdue_by(self) -> timedelta:
        return _overdue(self.time_left)

    @property
    def summary(self) -> str:
        return _summary(self.label, self.state, self.time_left)


@dataclass(frozen=True)
class CaseSlaState:
    """A case's SLA at one moment: the target that decides its state (the most pressing
    running one; else the paused one with least time left; else the latest to stop), that
    state (ok / warning / breached / paused / met) and time left, plus every target."""

    case_id: int
    policy_id: int | None
    policy_name: str
    state: str
    target: str
    due_at: datetime | None
    time_left: timedelta | None
    targets: tuple[SlaTargetState, ...]

    @property
    def label(self) -> str:
        return str(SlaTarget(self.target).label)

    @property
    def overdue_by(self) -> timedelta:
        return _overdue(self.time_left)

    @property
    def summary(self) -> str:
        return _summary(self.label, self.state, self.time_left)


def span_text(value: timedelta) -> str:
    """A duration as '3d 4h', '2h 5m' or '7m' (rounded down to the minute)."""
    minutes = max(int(value.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"


def _summary(label: str, state: str, time_left: timedelta | None) -> str:
    """ "First response due in 1h 20m", "Next reply overdue by 5m", "Resolution paused,
    3h 0m left", "First response met"…"""
    if state in ("ok", "warning") and time_left is not None:
        return f"{label} due in {span_text(time_left)}"
    if state == "breached":
        if time_left is not None and time_left < timedelta(0):
            return f"{label} overdue by {span_text(-time_left)}"
        return f"{label} target missed"
    if state == "paused":
        return f"{label} paused, {span_text(time_left or timedelta(0))} left"
    return f"{label} met"


def _overdue(time_left: timedelta | None) -> timedelta:
    if time_left is None or time_left >= timedelta(0):
        return timedelta(0)
    return -time_left


def _target_state(clock: Clock, now: datetime) -> SlaTargetState:
    if clock.stopped_at is not None:
        state = "breached" if clock.breached_at or clock.missed else "met"
        left = None
    elif clock.paused_at is not None:
        state = "breached" if clock.breached_at or clock.missed else "paused"
        left = timedelta(seconds=clock.left_seconds or 0)
    else:
        assert clock.due_at is not None
        left = clock.due_at - now
        if clock.breached_at or now >= clock.due_at:
            state = "breached"
        elif clock.warned_at or (clock.warn_at is not None and now >= clock.warn_at):
            state = "warning"
        else:
            state = "ok"
    return SlaTargetState(
        target=clock.target,
        state=state,
        started_at=clock.started_at,
        due_at=clock.due_at,
        stopped_at=clock.stopped_at,
        time_left=left,
    )


def sla_state(*, sla: CaseSla, now: datetime, policy_name: str = "") -> CaseSlaState | None:
    """The state of one stored CaseSla at `now` (None when no target has a clock)."""
    clocks = [clock for target in TARGETS if (clock := sla_clock(sla=sla, target=target))]
    if not clocks:
        return None
    states = {clock.target: _target_state(clock, now) for clock in clocks}
    running = [clock for clock in clocks if clock.running]
    paused = [clock for clock in clocks if clock.paused_at is not None]
    if running:
        rank = {state: n for n, state in enumerate(SLA_STATES)}
        deciding = min(
            running, key=lambda c: (rank[states[c.target].state], c.due_at or c.started_at)
        )
    elif paused:
        deciding = min(paused, key=lambda c: (c.due_at is None, c.left_seconds or 0))
    else:
        deciding = max(clocks, key=lambda c: c.stopped_at or c.started_at)
    decided = states[deciding.target]
    return CaseSlaState(
        case_id=sla.case_id,
        policy_id=sla.policy_id,
        policy_name=policy_name,
        state=decided.state,
        target=decided.target,
        due_at=decided.due_at,
        time_left=decided.time_left,
        targets=tuple(states[clock.target] for clock in clocks),
    )


def case_sla_states(
    *, cases: Iterable[Case], now: datetime | None = None
) -> dict[int, CaseSlaState]:
    """The SLA state of each case that has one, {case id: state}. Cases fetched with
    `select_related("sla", "sla__policy")` cost nothing; the others one query together.
    A case without SLA state yet (its clocks are set up just after it is created) is left
    out."""
    now = now or timezone.now()
    relation = Case._meta.get_field("sla")
    found: dict[int, CaseSla] = {}
    missing: list[Case] = []
    for case in cases:
        if not relation.is_cached(case):
            missing.append(case)
        elif isinstance(sla := relation.get_cached_value(case), CaseSla):
            found[case.pk] = sla
    if missing:
        fetched = CaseSla.objects.filter(case_id__in=[case.pk for case in missing])
        for sla in fetched.select_related("policy"):
            found[sla.case_id] = sla
        # Kept on the cases, as select_related would have, so asking again costs nothing.
        for case in missing:
            relation.set_cached_value(case, found.get(case.pk))
    states = {}
    for case_id, sla in found.items():
        state = sla_state(sla=sla, now=now, policy_name=_policy_name(sla))
        if state is not None:
            states[case_id] = state
    return states


def _policy_name(sla: CaseSla) -> str:
    """The policy's name when it was fetched with the state ("Default" for the built-in
    targets); empty rather than a query per case."""
    if sla.policy_id is None:
        return "Default"
    cached = CaseSla._meta.get_field("policy").is_cached(sla)
    return sla.policy.name if cached and sla.policy else ""


# -- cases near or past a target ----------------------------------------------------------


def cases_sla_attention(cases: QuerySet[Case], *, now: datetime | None = None) -> QuerySet[Case]:
    """Those of `cases` with a running SLA target (first response, next reply, resolution)
    in warning or breached at `now`, unordered: a range on the indexed
    `CaseSla.attention_at` rather than a state worked out per case."""
    return cases.filter(sla__attention_at__lte=now or timezone.now())


def sla_attention_page(
    cases: QuerySet[Case], *, cursor: str = "", limit: int = 50
) -> tuple[list[Case], str | None]:
    """One page of `cases` (narrowed by `cases_sla_attention`) most urgent first: by the due
    time of the case's most pressing target in warning or breached, so the longest overdue
    come first and then the soonest due, then by id. Keyset-paginated on (due, id) after
    `cursor`: (cases, next_cursor). Raises InvalidCursor for a cursor no page returned."""
    after = _urgency_cursor_decode(cursor) if cursor else None
    if cursor and after is None:
        raise InvalidCursor("the cursor is not one this list returned")
    cases = cases.annotate(urgency_due=F("sla__attention_due_at"))
    if after is not None:
        due, pk = after
        # A range and an exclusion rather than an OR, as the other keyset walks do.
        cases = cases.filter(urgency_due__gte=due).exclude(urgency_due=due, pk__lte=pk)
    rows: list[Case] = list(cases.order_by("urgency_due", "id")[: limit + 1])
    next_cursor = _urgency_cursor_encode(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def _urgency_cursor_encode(case: Case) -> str:
    due: datetime = case.urgency_due  # type: ignore[attr-defined]
    text = f"u{due.isoformat()}|{case.pk}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _urgency_cursor_decode(cursor: str) -> tuple[datetime, int] | None:
    try:
        text = base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
    except (ValueError, UnicodeDecodeError):
        return None
    head, _, pk = text.partition("|")
    if not (head.startswith("u") and pk.isascii() and pk.isdigit() and int(pk) <= MAX_ID):
        return None
    try:
        due = datetime.fromisoformat(head[1:])
    except ValueError:
        return None
    return (due, int(pk)) if due.tzinfo else None
