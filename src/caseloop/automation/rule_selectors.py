"""Reads for automation rules: the list, one rule, and the dry run.

The dry run replays the last DRY_RUN_DAYS days of the case-event log against a rule, saved
or not: for each event that would have fired it, the case's fields as they stood at that
moment are rebuilt from the case's own log (status, priority, category, team, tags,
subject, when the customer last wrote), the conditions are checked, and what the actions
would have done is said in words. Nothing is written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.http import Http404
from django.utils import timezone

from caseloop.cases.models import Case, CaseEvent, Message, Status
from caseloop.cases.selectors import MAX_ID

from .events import RULE_APPLIED
from .models import Rule, RuleCausedEvent
from .rule_actions import action_types
from .rule_conditions import CaseFacts, rule_matches
from .rules import MESSAGE_RECEIVED

DRY_RUN_DAYS = 30
# Events read at most: a dry run over a very busy month says it stopped early.
DRY_RUN_MAX_EVENTS = 20_000
DRY_RUN_SAMPLE = 25
K = CaseEvent.Kind
STATE_KINDS = (
    K.CREATED,
    K.STATUS_CHANGED,
    K.PRIORITY_CHANGED,
    K.CATEGORY_CHANGED,
    K.TEAM_CHANGED,
    K.TAGS_CHANGED,
    K.SUBJECT_CHANGED,
    K.MESSAGE_ADDED,
)


def rule_list() -> list[Rule]:
    return list(Rule.objects.order_by("position", "id"))


def rule_get(*, pk: int) -> Rule:
    rule = Rule.objects.filter(pk=min(pk, MAX_ID)).first()
    if rule is None:
        raise Http404("No such rule.")
    return rule


@dataclass
class DryRunMatch:
    case_id: int
    reference: str
    subject: str
    event_id: int
    event_kind: str
    at: datetime
    actions: list[str]


@dataclass
class DryRunReport:
    since: datetime
    until: datetime
    events_examined: int = 0
    events_matched: int = 0
    cases_matched: int = 0
    truncated: bool = False
    actions: dict[str, int] = field(default_factory=dict)
    sample: list[DryRunMatch] = field(default_factory=list)


@dataclass
class _State:
    status: str = Status.NEW
    priority: str = "normal"
    channel: str = ""
    category_id: int | None = None
    team_id: int | None = None
    tags: set[str] = field(default_factory=set)
    subject: str = ""
    last_customer_message_at: datetime | None = None
    last_change_at: datetime | None = None


def _apply(state: _State, event: CaseEvent) -> None:
    data = event.data if isinstance(event.data, dict) else {}
    kind = event.kind
    if kind == K.CREATED:
        after = data.get("after") or {}
        state.priority = after.get("priority") or state.priority
        state.channel = after.get("channel") or state.channel
        state.category_id = after.get("category")
        state.subject = after.get("subject") or state.subject
        state.last_customer_message_at = event.created_at
    elif kind == K.STATUS_CHANGED:
        state.status = data.get("after") or state.status
    elif kind == K.PRIORITY_CHANGED:
        state.priority = data.get("after") or state.priority
    elif kind == K.CATEGORY_CHANGED:
        state.category_id = data.get("after")
    elif kind == K.TEAM_CHANGED:
        state.team_id = data.get("after")
    elif kind == K.TAGS_CHANGED:
        state.tags = set(data.get("after") or [])
    elif kind == K.SUBJECT_CHANGED:
        state.subject = data.get("after") or state.subject
    elif kind == K.MESSAGE_ADDED and data.get("direction") == Message.Direction.INBOUND:
        state.last_customer_message_at = event.created_at
    state.last_change_at = event.created_at


def _fires(event: CaseEvent, kinds: set[str]) -> bool:
    if event.kind in kinds:
        return True
    return (
        MESSAGE_RECEIVED in kinds
        and event.kind == K.MESSAGE_ADDED
        and event.data.get("direction") == Message.Direction.INBOUND
    )


def rule_dry_run(
    *,
    trigger_kinds: list[str],
    match: str,
    conditions: list[dict[str, Any]],
    actions: list[dict[str, Any]],
    rule_id: int | None = None,
    now: datetime | None = None,
) -> DryRunReport:
    """What a rule (checked by `rules.rule_spec_check`) would have done over the last
    DRY_RUN_DAYS days. Reads only. Queries: the events, the cases, their state events, the
    messages they name, and those a saved rule's own actions caused."""
    until = now or timezone.now()
    since = until - timedelta(days=DRY_RUN_DAYS)
    report = DryRunReport(since=since, until=until)
    kinds = set(trigger_kinds) - {RULE_APPLIED}
    wanted = kinds | ({K.MESSAGE_ADDED} if MESSAGE_RECEIVED in kinds else set())
    events = [
        event
        for event in CaseEvent.objects.filter(
            kind__in=sorted(wanted), created_at__gte=since, created_at__lte=until
        ).order_by("id")[: DRY_RUN_MAX_EVENTS + 1]
        if _fires(event, kinds)
    ]
    if len(events) > DRY_RUN_MAX_EVENTS:
        events, report.truncated = events[:DRY_RUN_MAX_EVENTS], True
    report.events_examined = len(events)
    if not events:
        return report
    caused_by_rule: set[int] = set()
    if rule_id is not None:
        caused_by_rule = {
            row.event_id
            for row in RuleCausedEvent.objects.filter(event_id__in=[e.pk for e in events])
            if rule_id in row.rule_ids
        }
    case_ids = sorted({event.case_id for event in events})
    cases = Case.objects.select_related("customer").in_bulk(case_ids)
    history: dict[int, list[CaseEvent]] = {}
    for row in CaseEvent.objects.filter(
        case_id__in=case_ids, kind__in=STATE_KINDS, id__lte=events[-1].pk
    ).order_by("id"):
        history.setdefault(row.case_id, []).append(row)
    message_ids = {e.data.get("message") for e in events if isinstance(e.data, dict)}
    texts = dict(
        Message.objects.filter(
            pk__in=[pk for pk in message_ids if isinstance(pk, int)]
        ).values_list("pk", "text")
    )
    first_texts: dict[int, str] = {}
    for case_id, text in (
        Message.objects.filter(case_id__in=case_ids, direction=Message.Direction.INBOUND)
        .order_by("-id")
        .values_list("case_id", "text")
    ):
        first_texts[case_id] = text
    types = action_types()
    matched_cases: set[int] = set()
    counts: Counter[str] = Counter()
    positions: dict[int, int] = {}
    states: dict[int, _State] = {}
    for event in events:
        case = cases.get(event.case_id)
        if case is None or event.pk in caused_by_rule:
            continue
        state = states.setdefault(case.pk, _State(subject=case.subject, channel=case.channel))
        rows = history.get(case.pk, [])
        index = positions.get(case.pk, 0)
        while index < len(rows) and rows[index].pk < event.pk:
            _apply(state, rows[index])
            index += 1
        # "Since the case last changed" means before the event; the rest is as it left it.
        last_change_at = state.last_change_at
        while index < len(rows) and rows[index].pk == event.pk:
            _apply(state, rows[index])
            index += 1
        positions[case.pk] = index
        data = event.data if isinstance(event.data, dict) else {}
        message_id = data.get("message")
        facts = CaseFacts(
            case=case,
            event=event,
            at=event.created_at,
            status=state.status,
            priority=state.priority,
            channel=state.channel or case.channel,
            category_id=state.category_id,
            team_id=state.team_id,
            tags=set(state.tags),
            subject=state.subject or case.subject,
            message_text=texts.get(message_id, "")
            if isinstance(message_id, int)
            else first_texts.get(case.pk, ""),
            last_customer_message_at=state.last_customer_message_at,
            last_change_at=last_change_at,
            event_data=dict(data),
        )
        if not rule_matches(match=match, conditions=conditions, facts=facts):
            continue
        report.events_matched += 1
        matched_cases.add(case.pk)
        said = []
        for action in actions:
            counts[action["type"]] += 1
            kind = types.get(action["type"])
            said.append(kind.preview(action["params"]) if kind else action["type"])
        if len(report.sample) < DRY_RUN_SAMPLE:
            report.sample.append(
                DryRunMatch(
                    case_id=case.pk,
                    reference=case.reference,
                    subject=case.subject,
                    event_id=event.pk,
                    event_kind=event.kind,
                    at=event.created_at,
                    actions=said,
                )
            )
    report.cases_matched = len(matched_cases)
    report.actions = dict(sorted(counts.items()))
    return report
