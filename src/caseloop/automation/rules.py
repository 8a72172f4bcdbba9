"""Automation rules: when an event is recorded on a case and the rule's conditions hold, its
actions run — assign, tag, set the priority, notify, send a prepared response, call a webhook.

- A rule names the event kinds that fire it (any kind registered with `event_kind`, and
  `message_received` for a customer's message), conditions on the event's data and the
  case's fields (all or any), and ordered actions.
- Actions are a registry (`rule_actions`, re-exported here): the ones the case core can carry
  out are registered there; the apps around automation register theirs in their
  AppConfig.ready() (notifications: `notify`, knowledge: `send_response`), so automation
  never imports them. Conditions are read in `rule_conditions`.
- The engine reacts through `cases.hooks` after the commit (an outbox effect per event a
  rule may want). Each action writes a `rule_applied` event naming the rule, in the action's
  transaction. A rule runs at most once per event (`RuleRun`); the events its actions write
  never fire it again, nor any rule that led to them (`RuleCausedEvent`), chains stop after
  MAX_DEPTH rules, and one rule acts at most MAX_RUNS_PER_CASE_PER_DAY times on a case a day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from caseloop.accounts.models import Role, User
from caseloop.cases import hooks
from caseloop.cases.events import event_kinds
from caseloop.cases.models import Case, CaseEvent, Message
from caseloop.cases.services import event_record
from caseloop.lib.errors import DomainError

from .events import RULE_APPLIED
from .models import Rule, RuleCausedEvent, RuleRun
from .rule_actions import (
    SECRET_MASK as SECRET_MASK,
    WEBHOOK_EFFECT as WEBHOOK_EFFECT,
    ActionContext as ActionContext,
    ActionType as ActionType,
    action_check,
    action_register as action_register,
    action_types as action_types,
    actions_public,
    staff_check as staff_check,
    team_check as team_check,
)
from .rule_conditions import (
    CONDITION_FIELDS as CONDITION_FIELDS,
    EVENT_FIELD_PREFIX as EVENT_FIELD_PREFIX,
    EVENT_OPS as EVENT_OPS,
    CaseFacts,
    RuleForbidden,
    RuleInvalid,
    condition_check,
    rule_matches,
)

logger = logging.getLogger(__name__)

MESSAGE_RECEIVED = "message_received"
MAX_DEPTH = 3
MAX_RUNS_PER_CASE_PER_DAY = 20
MAX_CONDITIONS = 20
MAX_ACTIONS = 10
KINDS_CACHE_KEY = "automation:rule-trigger-kinds"


def require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise RuleForbidden("only admins change automation rules")


# --- triggers -------------------------------------------------------------------------------


def rule_triggers() -> dict[str, str]:
    """What can fire a rule, by name: every case-event kind but the rules' own, and a
    customer's message."""
    kinds = {name: str(kind.label) for name, kind in event_kinds().items() if name != RULE_APPLIED}
    kinds[MESSAGE_RECEIVED] = "Message received from the customer"
    return dict(sorted(kinds.items()))


def rule_spec_check(
    *,
    name: str,
    trigger_kinds: list[str],
    match: str,
    conditions: list[Any],
    actions: list[Any],
    previous_actions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A rule's parts, checked and cleaned. Raises RuleInvalid naming the part at fault."""
    if not name or not name.strip():
        raise RuleInvalid("a rule needs a name", field="name")
    known = rule_triggers()
    kinds = list(dict.fromkeys(kind.strip() for kind in trigger_kinds if kind and kind.strip()))
    if not kinds:
        raise RuleInvalid("a rule needs at least one event that fires it", field="trigger_kinds")
    unknown = [kind for kind in kinds if kind not in known]
    if unknown:
        raise RuleInvalid(f"unknown event kind(s): {', '.join(unknown[:5])}", field="trigger_kinds")
    if match not in Rule.Match.values:
        raise RuleInvalid("match is 'all' or 'any'", field="match")
    if len(conditions) > MAX_CONDITIONS:
        raise RuleInvalid(f"at most {MAX_CONDITIONS} conditions", field="conditions")
    if not actions:
        raise RuleInvalid("a rule needs at least one action", field="actions")
    if len(actions) > MAX_ACTIONS:
        raise RuleInvalid(f"at most {MAX_ACTIONS} actions", field="actions")
    return {
        "name": name.strip()[:100],
        "trigger_kinds": kinds,
        "match": match,
        "conditions": [condition_check(i, c) for i, c in enumerate(conditions)],
        "actions": [action_check(i, a, previous_actions or []) for i, a in enumerate(actions)],
    }


# --- saving rules ---------------------------------------------------------------------------

RuleChangeListener = Callable[..., None]
_change_listeners: list[RuleChangeListener] = []


def rule_change_listener_register(listener: RuleChangeListener) -> None:
    """`listener(actor=, rule=, action="created"|"updated"|"deleted", before={...})` runs
    inside the transaction of each change to a rule (the settings audit log)."""
    if listener not in _change_listeners:
        _change_listeners.append(listener)


def rule_snapshot(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "is_active": rule.is_active,
        "position": rule.position,
        "trigger_kinds": list(rule.trigger_kinds),
        "match": rule.match,
        "conditions": list(rule.conditions),
        "actions": actions_public(rule.actions),
    }


def _changed(*, actor: User, rule: Rule, action: str, before: dict[str, Any]) -> None:
    for listener in _change_listeners:
        listener(actor=actor, rule=rule, action=action, before=before)
    _kinds_cache_widen(set(rule.trigger_kinds))
    transaction.on_commit(trigger_kinds_refresh)


_UNSET: Any = object()


@transaction.atomic
def rule_save(
    *,
    actor: User,
    rule: Rule | None = None,
    name: str = _UNSET,
    is_active: bool = _UNSET,
    position: int = _UNSET,
    trigger_kinds: list[str] = _UNSET,
    match: str = _UNSET,
    conditions: list[Any] = _UNSET,
    actions: list[Any] = _UNSET,
) -> Rule:
    """Create a rule, or change one (arguments left out stay). Admins only. Side effects:
    the listeners' records (the settings audit log)."""
    require_admin(actor)
    if rule is not None:
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
    before = rule_snapshot(rule) if rule is not None else {}
    current = rule or Rule()

    def pick(value: Any, default: Any) -> Any:
        return default if value is _UNSET else value

    spec = rule_spec_check(
        name=pick(name, current.name),
        trigger_kinds=list(pick(trigger_kinds, current.trigger_kinds) or []),
        match=pick(match, current.match),
        conditions=list(pick(conditions, current.conditions) or []),
        actions=list(pick(actions, current.actions) or []),
        previous_actions=list(current.actions or []),
    )
    created = rule is None
    rule = current
    for key, value in spec.items():
        setattr(rule, key, value)
    rule.is_active = bool(pick(is_active, rule.is_active))
    rule.position = max(0, min(int(pick(position, rule.position)), 1_000_000))
    if created:
        rule.created_by = actor
    rule.save()
    _changed(actor=actor, rule=rule, action="created" if created else "updated", before=before)
    return rule


@transaction.atomic
def rule_delete(*, actor: User, rule: Rule) -> None:
    """Admins only. Side effects: the listeners' records."""
    require_admin(actor)
    before = rule_snapshot(rule)
    pk = rule.pk
    _changed(actor=actor, rule=rule, action="deleted", before=before)
    rule.delete()
    rule.pk = pk


# --- which event kinds any active rule wants (asked on every event, without a query) -------


def _kinds_load() -> set[str]:
    kinds: set[str] = set()
    for row in Rule.objects.filter(is_active=True).values_list("trigger_kinds", flat=True):
        kinds.update(row or [])
    return kinds


def trigger_kinds_refresh() -> set[str]:
    kinds = _kinds_load()
    cache.set(KINDS_CACHE_KEY, sorted(kinds), None)
    return kinds


def _kinds_cache_widen(kinds: set[str]) -> None:
    # Inside the change's transaction the cache only grows: a rolled-back change may leave a
    # kind too many (a wasted check), never one too few; the commit sets the exact set.
    current = cache.get(KINDS_CACHE_KEY)
    known = set(current) if current is not None else _kinds_load()
    cache.set(KINDS_CACHE_KEY, sorted(known | kinds), None)


def trigger_kinds_active() -> set[str]:
    kinds = cache.get(KINDS_CACHE_KEY)
    return set(kinds) if kinds is not None else trigger_kinds_refresh()


def rules_want(kind: str) -> bool:
    return kind != RULE_APPLIED and kind in trigger_kinds_active()


# --- the engine -----------------------------------------------------------------------------


def _message_text(case: Case, event: CaseEvent | None) -> str:
    data = event.data if event is not None and isinstance(event.data, dict) else {}
    message_id = data.get("message")
    rows = Message.objects.filter(case=case)
    if isinstance(message_id, int):
        rows = rows.filter(pk=message_id)
    else:
        rows = rows.filter(direction=Message.Direction.INBOUND).order_by("id")
    return rows.values_list("text", flat=True).first() or ""


def case_facts(*, case: Case, event: CaseEvent | None, at: datetime | None = None) -> CaseFacts:
    """The case as it is now, with the event that fired the rule."""
    # "Since the case last changed" means before the event that fired the rule.
    earlier = CaseEvent.objects.filter(case=case).exclude(kind=RULE_APPLIED)
    if event is not None:
        earlier = earlier.filter(pk__lt=event.pk)
    last = earlier.aggregate(at=Max("created_at"))
    return CaseFacts(
        case=case,
        event=event,
        at=at or timezone.now(),
        status=case.status,
        priority=case.priority,
        channel=case.channel,
        category_id=case.category_id,
        team_id=case.team_id,
        tags=set(case.tags.values_list("name", flat=True)),
        subject=case.subject,
        message_text=_message_text(case, event),
        last_customer_message_at=case.last_customer_message_at,
        last_change_at=last["at"],
        event_data=dict(event.data) if event is not None and isinstance(event.data, dict) else {},
    )


def _trigger_of(event: CaseEvent) -> str:
    if event.kind == CaseEvent.Kind.MESSAGE_ADDED:
        return MESSAGE_RECEIVED if event.data.get("direction") == Message.Direction.INBOUND else ""
    return event.kind


def _rules_for(kinds: set[str]) -> list[Rule]:
    return [
        rule
        for rule in Rule.objects.filter(is_active=True).order_by("position", "id")
        if kinds & set(rule.trigger_kinds)
    ]


def rules_run_for_event(event_id: int) -> int:
    """Run the active rules an event fires, in their order; each later rule sees the case as
    the earlier ones left it. Returns how many rules acted. Idempotent (once per rule and
    event)."""
    event = CaseEvent.objects.filter(pk=event_id).first()
    if event is None or event.kind == RULE_APPLIED:
        return 0
    kinds = {event.kind, _trigger_of(event)} - {""}
    rules = _rules_for(kinds)
    if not rules:
        return 0
    lineage = RuleCausedEvent.objects.filter(event_id=event.pk).first()
    done_by = set(lineage.rule_ids) if lineage is not None else set()
    depth = lineage.depth if lineage is not None else 0
    if depth >= MAX_DEPTH:
        logger.info("event %s: rules stop at depth %s", event.pk, depth)
        return 0
    acted = 0
    for rule in rules:
        if rule.pk in done_by:
            continue
        if _rule_apply(rule=rule, event=event, done_by=done_by, depth=depth):
            acted += 1
            # The rules after it see the case as it left it: what they do is its doing too.
            done_by = done_by | {rule.pk}
    return acted


def _rule_apply(*, rule: Rule, event: CaseEvent, done_by: set[int], depth: int) -> bool:
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("customer").get(pk=event.case_id)
        facts = case_facts(case=case, event=event)
        if not rule_matches(match=rule.match, conditions=rule.conditions, facts=facts):
            return False
        since = timezone.now() - timedelta(days=1)
        if (
            RuleRun.objects.filter(rule=rule, case=case, created_at__gte=since).count()
            >= MAX_RUNS_PER_CASE_PER_DAY
        ):
            logger.warning("rule %s reached its daily limit on case %s", rule.pk, case.pk)
            return False
        try:
            with transaction.atomic():
                RuleRun.objects.create(rule=rule, case=case, event_id=event.pk, depth=depth)
        except IntegrityError:
            return False
        last_before = (
            CaseEvent.objects.filter(case=case).aggregate(last=Max("id"))["last"] or event.pk
        )
        context = ActionContext(case=case, rule=rule, event=event)
        for action in rule.actions:
            _action_run(context=context, action=action)
            case.refresh_from_db()
        caused = CaseEvent.objects.filter(case=case, pk__gt=last_before).values_list(
            "pk", flat=True
        )
        RuleCausedEvent.objects.bulk_create(
            [
                RuleCausedEvent(event_id=pk, rule_ids=sorted(done_by | {rule.pk}), depth=depth + 1)
                for pk in caused
            ],
            ignore_conflicts=True,
        )
    return True


def _action_run(*, context: ActionContext, action: dict[str, Any]) -> None:
    kind = action_types().get(action.get("type", ""))
    params = action.get("params") or {}
    error = ""
    try:
        with transaction.atomic():
            if kind is None:
                raise RuleInvalid(f"the action '{action.get('type')}' is not available")
            summary = kind.run(context, params)
    except DomainError as exc:
        # A person or prepared response named by the rule may be gone since it was saved:
        # the rule's other actions still run, and the case says what could not be done.
        error = exc.summary()
        summary = f"could not {kind.label.lower() if kind else action.get('type')}: {error}"
    event_record(
        case=context.case,
        actor=None,
        kind=RULE_APPLIED,
        data={
            "rule": context.rule.pk,
            "name": context.rule.name,
            "action": action.get("type"),
            "params": actions_public([action])[0]["params"],
            "summary": summary,
            "trigger": context.event.pk,
            **({"error": error} if error else {}),
        },
    )


def rules_on_event(event_id: int) -> None:
    """Reaction to an event some active rule may want (after its commit, in the outbox)."""
    rules_run_for_event(event_id)


def rules_on_case_created(case_id: int) -> None:
    """Reaction to a new case, after triage and routing: the rules on `created`."""
    if "created" not in trigger_kinds_active():
        return
    event = CaseEvent.objects.filter(case_id=case_id, kind=CaseEvent.Kind.CREATED).first()
    if event is not None:
        rules_run_for_event(event.pk)


def rules_on_message_added(message_id: int) -> None:
    """Reaction to a message: the rules on `message_received` (the customer's) and
    `message_added` (any)."""
    if not trigger_kinds_active() & {MESSAGE_RECEIVED, CaseEvent.Kind.MESSAGE_ADDED}:
        return
    message = Message.objects.filter(pk=message_id).only("case_id").first()
    if message is None:
        return
    candidates = CaseEvent.objects.filter(
        case_id=message.case_id, kind=CaseEvent.Kind.MESSAGE_ADDED
    ).order_by("-id")[:50]
    event = next((e for e in candidates if e.data.get("message") == message_id), None)
    if event is not None:
        rules_run_for_event(event.pk)


def rules_listen() -> None:
    """Called once by AutomationConfig.ready()."""
    hooks.on_any_event_recorded(rules_on_event, wants=rules_want)
    hooks.on_case_created(
        rules_on_case_created,
        order=hooks.CREATED_LATE + 5,
        wants=lambda: "created" in trigger_kinds_active(),
    )
    hooks.on_message_added(
        rules_on_message_added,
        wants=lambda _facts: bool(
            trigger_kinds_active() & {MESSAGE_RECEIVED, CaseEvent.Kind.MESSAGE_ADDED}
        ),
    )
