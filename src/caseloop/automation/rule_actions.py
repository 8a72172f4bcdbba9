"""The actions automation rules take, as a registry: the ones the case core can carry out are
registered here (assign, tags, priority, webhook); the apps around automation register theirs
from their AppConfig.ready() (`notify`, `send_response`) with `action_register`."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from caseloop.accounts.models import STAFF_ROLES, Team, User
from caseloop.cases import outbox
from caseloop.cases.models import PRIORITY_RANK, Case, CaseEvent, Priority
from caseloop.cases.outbox import EffectRetry
from caseloop.cases.services import case_update
from caseloop.lib.signing import SIGNATURE_HEADER, signature_header

from .models import Rule
from .rule_conditions import RuleInvalid
from .webhooks import RETRIED_CLIENT_ERRORS, event_payload

logger = logging.getLogger(__name__)

WEBHOOK_EFFECT = "automation.rule_webhook"
WEBHOOK_TIMEOUT_SECONDS = 10
SECRET_MASK = "********"


# --- actions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionContext:
    """What an action runs with: the case (locked), the rule and the event that fired it."""

    case: Case
    rule: Rule
    event: CaseEvent

    @property
    def reason(self) -> str:
        return f"rule “{self.rule.name}”"


@dataclass(frozen=True)
class ActionType:
    """One kind of action. `check(params)` returns the cleaned params or raises RuleInvalid
    (with a field inside `params`); `run(context, params)` carries it out through the
    services, inside the rule's transaction, and says what it did; `preview(params)` says
    what it would do (the dry run; no writes)."""

    name: str
    label: str
    check: Callable[[dict[str, Any]], dict[str, Any]]
    run: Callable[[ActionContext, dict[str, Any]], str]
    preview: Callable[[dict[str, Any]], str]


_actions: dict[str, ActionType] = {}


def action_register(action: ActionType) -> None:
    _actions[action.name] = action


def action_types() -> dict[str, ActionType]:
    return dict(_actions)


def _id(params: dict[str, Any], key: str) -> int | None:
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise RuleInvalid(f"{key} is named by its id", field=key)
    return value


def staff_check(pk: int, *, field: str) -> User:
    user = User.objects.filter(pk=pk, is_active=True, role__in=list(STAFF_ROLES)).first()
    if user is None:
        raise RuleInvalid(f"no active agent with id {pk}", field=field)
    return user


def team_check(pk: int, *, field: str) -> Team:
    team = Team.objects.filter(pk=pk).first()
    if team is None:
        raise RuleInvalid(f"no team with id {pk}", field=field)
    return team


def _assign_check(params: dict[str, Any]) -> dict[str, Any]:
    agent, team = _id(params, "agent"), _id(params, "team")
    if agent is None and team is None:
        raise RuleInvalid("assign needs an agent, a team or both", field="agent")
    if agent is not None:
        staff_check(agent, field="agent")
    if team is not None:
        team_check(team, field="team")
    return {"agent": agent, "team": team}


def _assign_words(params: dict[str, Any], verb: str) -> str:
    parts = []
    if params.get("agent") is not None:
        user = User.objects.filter(pk=params["agent"]).first()
        parts.append(f"{verb} {user.display_name if user else 'a removed agent'}")
    if params.get("team") is not None:
        team = Team.objects.filter(pk=params["team"]).first()
        parts.append(f"team set to {team.name if team else 'a removed team'}")
    return "; ".join(parts)


def _assign_run(context: ActionContext, params: dict[str, Any]) -> str:
    changes: dict[str, Any] = {}
    if params.get("agent") is not None:
        changes["assignee"] = staff_check(params["agent"], field="agent")
    if params.get("team") is not None:
        changes["team"] = team_check(params["team"], field="team")
    case_update(case=context.case, actor=None, reason=context.reason, **changes)
    return _assign_words(params, "assigned to")


def _tag_check(params: dict[str, Any]) -> dict[str, Any]:
    tag = params.get("tag")
    if not isinstance(tag, str) or not tag.strip() or len(tag.strip()) > 64:
        raise RuleInvalid("a tag is a name of 1 to 64 characters", field="tag")
    return {"tag": tag.strip().lower()}


def _tags_now(case: Case) -> list[str]:
    return list(case.tags.values_list("name", flat=True))


def _add_tag_run(context: ActionContext, params: dict[str, Any]) -> str:
    case_update(
        case=context.case,
        actor=None,
        tags=[*_tags_now(context.case), params["tag"]],
        reason=context.reason,
    )
    return f"tagged {params['tag']}"


def _remove_tag_run(context: ActionContext, params: dict[str, Any]) -> str:
    tags = [tag for tag in _tags_now(context.case) if tag != params["tag"]]
    case_update(case=context.case, actor=None, tags=tags, reason=context.reason)
    return f"untagged {params['tag']}"


RAISE = "raise"


def _priority_check(params: dict[str, Any]) -> dict[str, Any]:
    priority = params.get("priority")
    if priority not in [*Priority.values, RAISE]:
        raise RuleInvalid(
            f"priority is one of {', '.join(Priority.values)} or '{RAISE}' (one step up)",
            field="priority",
        )
    return {"priority": priority}


def _priority_after(current: str, wanted: str) -> str:
    if wanted != RAISE:
        return wanted
    ranked = sorted(PRIORITY_RANK, key=lambda value: PRIORITY_RANK[value])
    return ranked[min(PRIORITY_RANK[current] + 1, len(ranked) - 1)]


def _priority_run(context: ActionContext, params: dict[str, Any]) -> str:
    after = _priority_after(context.case.priority, params["priority"])
    case_update(case=context.case, actor=None, priority=after, reason=context.reason)
    return f"priority set to {after}"


def _priority_preview(params: dict[str, Any]) -> str:
    if params["priority"] == RAISE:
        return "raise the priority one step"
    return f"set the priority to {params['priority']}"


def _webhook_check(params: dict[str, Any]) -> dict[str, Any]:
    url, secret = params.get("url"), params.get("secret")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 500:
        raise RuleInvalid("the URL must start with https:// or http://", field="url")
    if not isinstance(secret, str) or len(secret) < 16 or len(secret) > 100:
        raise RuleInvalid("the secret needs 16 to 100 characters", field="secret")
    return {"url": url, "secret": secret}


def _webhook_run(context: ActionContext, params: dict[str, Any]) -> str:
    outbox.effect_record(
        kind=WEBHOOK_EFFECT,
        payload={"rule": context.rule.pk, "event": context.event.pk, "url": params["url"]},
        key=f"{WEBHOOK_EFFECT}:{context.rule.pk}:{context.event.pk}:{params['url'][:200]}",
        case_id=context.case.pk,
    )
    return f"event sent to {params['url']}"


def _webhook_secret(rule: Rule, url: str) -> str | None:
    for action in rule.actions:
        if action.get("type") == "webhook" and action.get("params", {}).get("url") == url:
            return str(action["params"].get("secret") or "") or None
    return None


def rule_webhook_deliver(payload: dict[str, Any]) -> None:
    """Outbox effect: POST the event that fired a rule, signed with the rule's secret, as
    outgoing webhooks are. A 2xx is done; a 4xx (but 408, 429) is given up at once; the
    rest is retried with backoff."""
    rule = Rule.objects.filter(pk=payload["rule"]).first()
    event = CaseEvent.objects.select_related("case").filter(pk=payload["event"]).first()
    secret = _webhook_secret(rule, payload["url"]) if rule is not None else None
    if rule is None or event is None or secret is None:
        return
    body = json.dumps(
        {"rule": {"id": rule.pk, "name": rule.name}, "event": event_payload(event)},
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    request = urllib.request.Request(
        payload["url"],
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Caseloop-Rules/1",
            SIGNATURE_HEADER: signature_header(secret=secret, body=body),
            "X-Caseloop-Event": event.kind,
            "X-Caseloop-Rule": str(rule.pk),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) only, checked on save
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise EffectRetry(f"no answer: {exc}") from exc
    if 200 <= status < 300 or (400 <= status < 500 and status not in RETRIED_CLIENT_ERRORS):
        if status >= 400:
            logger.warning("rule %s webhook to %s refused: %s", rule.pk, payload["url"], status)
        return
    raise EffectRetry(f"{status} from {payload['url']}")


for _action in (
    ActionType(
        "assign",
        "Assign to an agent or a team",
        _assign_check,
        _assign_run,
        lambda p: _assign_words(p, "assign to"),
    ),
    ActionType("add_tag", "Add a tag", _tag_check, _add_tag_run, lambda p: f"tag {p['tag']}"),
    ActionType(
        "remove_tag", "Remove a tag", _tag_check, _remove_tag_run, lambda p: f"untag {p['tag']}"
    ),
    ActionType(
        "set_priority", "Set the priority", _priority_check, _priority_run, _priority_preview
    ),
    ActionType(
        "webhook",
        "Call a webhook",
        _webhook_check,
        _webhook_run,
        lambda p: f"POST the event to {p['url']}",
    ),
):
    action_register(_action)
outbox.effect_type_register(WEBHOOK_EFFECT, rule_webhook_deliver)


def action_check(index: int, raw: Any, previous: list[dict[str, Any]]) -> dict[str, Any]:
    where = f"actions[{index}]"
    if not isinstance(raw, dict):
        raise RuleInvalid("an action is an object with type and params", field=where)
    name = raw.get("type")
    action = _actions.get(name) if isinstance(name, str) else None
    if action is None:
        raise RuleInvalid(
            f"unknown action '{name}'; one of {', '.join(sorted(_actions))}", field=f"{where}.type"
        )
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        raise RuleInvalid("params is an object", field=f"{where}.params")
    if name == "webhook" and params.get("secret") == SECRET_MASK:
        # A secret shown masked and sent back unchanged keeps the one saved for that URL.
        kept = next(
            (
                p.get("params", {}).get("secret")
                for p in previous
                if p.get("type") == "webhook"
                and p.get("params", {}).get("url") == params.get("url")
            ),
            None,
        )
        params = {**params, "secret": kept}
    try:
        cleaned = action.check(params)
    except RuleInvalid as exc:
        raise RuleInvalid(
            exc.summary(), field=f"{where}.params.{exc.field or ''}".rstrip(".")
        ) from exc
    return {"type": name, "params": cleaned}


def actions_public(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Actions as shown outside: webhook secrets masked."""
    shown = []
    for action in actions:
        params = dict(action.get("params") or {})
        if "secret" in params:
            params["secret"] = SECRET_MASK
        shown.append({"type": action.get("type"), "params": params})
    return shown
