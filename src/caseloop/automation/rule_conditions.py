"""What an automation rule's conditions read and how they are checked: the case's fields,
its customer, and the data of the event that fired the rule (`CaseFacts`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field as dc_field
from datetime import datetime
from typing import Any

from caseloop.accounts.models import Team
from caseloop.cases.models import Case, CaseEvent, Category, Channel, Priority, Status
from caseloop.customers.models import Organization
from caseloop.lib.errors import DomainError, ErrorKind

from .models import Rule

EVENT_KEY = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")


class RuleInvalid(DomainError):
    code = "rule_invalid"
    kind = ErrorKind.INVALID

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class RuleForbidden(DomainError):
    code = "forbidden"
    kind = ErrorKind.FORBIDDEN


# --- what a condition reads -----------------------------------------------------------------


@dataclass
class CaseFacts:
    """A case as a rule sees it at one moment: its fields, its customer, the event."""

    case: Case
    event: CaseEvent | None
    at: datetime
    status: str
    priority: str
    channel: str
    category_id: int | None
    team_id: int | None
    tags: set[str]
    subject: str
    message_text: str
    last_customer_message_at: datetime | None
    last_change_at: datetime | None
    event_data: dict[str, Any] = dc_field(default_factory=dict)


@dataclass(frozen=True)
class ConditionField:
    label: str
    ops: tuple[str, ...]
    read: Callable[[CaseFacts], Any]
    value_kind: str  # choice, row, bool, text, hours, str


def _hours(since: datetime | None, facts: CaseFacts) -> float | None:
    return None if since is None else (facts.at - since).total_seconds() / 3600


IS, IS_NOT, CONTAINS, NOT_CONTAINS, MORE, LESS = (
    "is",
    "is_not",
    "contains",
    "not_contains",
    "more_than",
    "less_than",
)
CHOICE_OPS = (IS, IS_NOT)
TEXT_OPS = (CONTAINS, NOT_CONTAINS)
HOUR_OPS = (MORE, LESS)
CONDITION_FIELDS: dict[str, ConditionField] = {
    "status": ConditionField("Status", CHOICE_OPS, lambda f: f.status, "choice"),
    "priority": ConditionField("Priority", CHOICE_OPS, lambda f: f.priority, "choice"),
    "channel": ConditionField("Channel", CHOICE_OPS, lambda f: f.channel, "choice"),
    "category": ConditionField("Category", CHOICE_OPS, lambda f: f.category_id, "row"),
    "team": ConditionField("Team", CHOICE_OPS, lambda f: f.team_id, "row"),
    "tags": ConditionField("Tags", TEXT_OPS, lambda f: f.tags, "str"),
    "customer_vip": ConditionField(
        "Customer is VIP", (IS,), lambda f: f.case.customer.is_vip, "bool"
    ),
    "customer_organization": ConditionField(
        "Customer's organization", CHOICE_OPS, lambda f: f.case.customer.organization_id, "row"
    ),
    "customer_language": ConditionField(
        "Customer's language", CHOICE_OPS, lambda f: f.case.customer.language, "str"
    ),
    "subject": ConditionField("Subject", TEXT_OPS, lambda f: f.subject, "text"),
    "message_text": ConditionField("Message text", TEXT_OPS, lambda f: f.message_text, "text"),
    "hours_since_created": ConditionField(
        "Hours since the case was opened", HOUR_OPS, lambda f: _hours(f.case.created_at, f), "hours"
    ),
    "hours_since_customer_message": ConditionField(
        "Hours since the customer last wrote",
        HOUR_OPS,
        lambda f: _hours(f.last_customer_message_at, f),
        "hours",
    ),
    "hours_since_update": ConditionField(
        "Hours since the case last changed",
        HOUR_OPS,
        lambda f: _hours(f.last_change_at, f),
        "hours",
    ),
}
EVENT_FIELD_PREFIX = "event."
EVENT_OPS = (IS, IS_NOT, CONTAINS)
CHOICES: dict[str, list[str]] = {
    "status": list(Status.values),
    "priority": list(Priority.values),
    "channel": list(Channel.values),
}
ROW_MODELS: dict[str, Any] = {
    "category": Category,
    "team": Team,
    "customer_organization": Organization,
}


def condition_check(index: int, raw: Any) -> dict[str, Any]:
    where = f"conditions[{index}]"
    if not isinstance(raw, dict):
        raise RuleInvalid("a condition is an object with field, op and value", field=where)
    name, op, value = raw.get("field"), raw.get("op"), raw.get("value")
    if not isinstance(name, str) or not name:
        raise RuleInvalid("a condition needs a field", field=f"{where}.field")
    if name.startswith(EVENT_FIELD_PREFIX):
        if not EVENT_KEY.match(name[len(EVENT_FIELD_PREFIX) :]):
            raise RuleInvalid(f"'{name}' is no event data key", field=f"{where}.field")
        ops: tuple[str, ...] = EVENT_OPS
        value_kind = "event"
    elif name in CONDITION_FIELDS:
        ops, value_kind = CONDITION_FIELDS[name].ops, CONDITION_FIELDS[name].value_kind
    else:
        known = ", ".join([*CONDITION_FIELDS, "event.<key>"])
        raise RuleInvalid(f"unknown field '{name}'; one of {known}", field=f"{where}.field")
    if op not in ops:
        raise RuleInvalid(
            f"unknown operator '{op}' for {name}; one of {', '.join(ops)}", field=f"{where}.op"
        )
    at = f"{where}.value"
    if value_kind == "choice":
        if value not in CHOICES[name]:
            raise RuleInvalid(f"{name} is one of {', '.join(CHOICES[name])}", field=at)
    elif value_kind == "row":
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool):
                raise RuleInvalid(f"{name} is named by its id (or null for none)", field=at)
            if not ROW_MODELS[name].objects.filter(pk=value).exists():
                raise RuleInvalid(f"no {name.replace('_', ' ')} with id {value}", field=at)
    elif value_kind == "bool":
        if not isinstance(value, bool):
            raise RuleInvalid(f"{name} is true or false", field=at)
    elif value_kind == "hours":
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise RuleInvalid("hours are a number, 0 or more", field=at)
    else:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise RuleInvalid(f"{name} needs a text value", field=at)
        value = str(value).strip()
        if value_kind != "event" and not value:
            raise RuleInvalid(f"{name} needs a text value", field=at)
        if len(value) > 200:
            raise RuleInvalid("a value has at most 200 characters", field=at)
        if name == "tags":
            value = value.lower()
    return {"field": name, "op": op, "value": value}


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def condition_holds(condition: dict[str, Any], facts: CaseFacts) -> bool:
    name, op, value = condition["field"], condition["op"], condition["value"]
    if name.startswith(EVENT_FIELD_PREFIX):
        actual = facts.event_data.get(name[len(EVENT_FIELD_PREFIX) :])
        text, wanted = _plain(actual).lower(), _plain(value).lower()
        if op == CONTAINS:
            return wanted in text
        return (text == wanted) == (op == IS)
    actual = CONDITION_FIELDS[name].read(facts)
    if op in (MORE, LESS):
        if actual is None:
            return False
        return actual > value if op == MORE else actual < value
    if name == "tags":
        return (value in actual) == (op == CONTAINS)
    if op in TEXT_OPS:
        return (str(value).lower() in (actual or "").lower()) == (op == CONTAINS)
    if name == "customer_language":
        return (str(actual).lower() == str(value).lower()) == (op == IS)
    return (actual == value) == (op == IS)


def rule_matches(*, match: str, conditions: list[dict[str, Any]], facts: CaseFacts) -> bool:
    if not conditions:
        return True
    results = (condition_holds(condition, facts) for condition in conditions)
    return any(results) if match == Rule.Match.ANY else all(results)
