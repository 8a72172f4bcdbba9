"""The declarative rule format of policies, and its evaluation. Pure: no database writes.

A policy's `rule` is one JSON condition:

    {"kind": "purchase_age_max_days", "days": 30}          purchase at most N days old
    {"kind": "fact_equals", "key": "cause", "value": "water damage"}   (case-insensitive)
    {"kind": "fact_in", "key": "cause", "values": ["flood", "water damage"]}
    {"kind": "category_in", "categories": ["carrier-delay"]}           category slugs
    {"kind": "all", "rules": [...]}, {"kind": "any", "rules": [...]}, {"kind": "not", "rule": {...}}

A condition holds, does not hold, or cannot be decided yet (a fact or a purchase is
missing) — the last is reported as "undetermined" with what is missing. Explanation
templates may use {order_id} {product} {purchased_on} {age_days} {days} {amount} {currency}
{key} {value} {expected} {category} {policy} {missing}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from caseloop.lib.errors import DomainError, ErrorKind

KINDS = {
    "purchase_age_max_days",
    "fact_equals",
    "fact_in",
    "category_in",
    "all",
    "any",
    "not",
}


class RuleError(DomainError, ValueError):
    """A rule that does not follow the format; the message says what is wrong."""

    code = "rule_invalid"
    kind = ErrorKind.INVALID


def _require(rule: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    if name not in rule:
        raise RuleError(f"{where}: '{rule.get('kind')}' needs '{name}'")
    value = rule[name]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise RuleError(f"{where}: '{name}' has the wrong type")
    return value


def rule_validate(rule: object, where: str = "rule") -> None:
    """Raise RuleError naming the first problem in `rule`."""
    if not isinstance(rule, dict):
        raise RuleError(f"{where}: a rule is a JSON object with a 'kind'")
    kind = rule.get("kind")
    if kind not in KINDS:
        raise RuleError(f"{where}: unknown kind {kind!r}; use one of {', '.join(sorted(KINDS))}")
    if kind == "purchase_age_max_days":
        days = _require(rule, "days", int, where)
        if days < 0:
            raise RuleError(f"{where}: 'days' cannot be negative")
    elif kind == "fact_equals":
        _require(rule, "key", str, where)
        _require(rule, "value", (str, int, float), where)
    elif kind == "fact_in":
        _require(rule, "key", str, where)
        values = _require(rule, "values", list, where)
        if not values:
            raise RuleError(f"{where}: 'values' is empty")
    elif kind == "category_in":
        categories = _require(rule, "categories", list, where)
        if not categories or not all(isinstance(c, str) for c in categories):
            raise RuleError(f"{where}: 'categories' is a non-empty list of category slugs")
    elif kind in ("all", "any"):
        rules = _require(rule, "rules", list, where)
        if not rules:
            raise RuleError(f"{where}: 'rules' is empty")
        for index, sub in enumerate(rules):
            rule_validate(sub, f"{where}.rules[{index}]")
    elif kind == "not":
        rule_validate(_require(rule, "rule", dict, where), f"{where}.rule")


def alternatives_normalize(alternatives: object) -> list[dict[str, Any]]:
    """A policy's alternatives as [{"title", "description"}]; raises RuleError when malformed."""
    if alternatives in (None, ""):
        return []
    if not isinstance(alternatives, list):
        raise RuleError("alternatives is a list of titles or {title, description} objects")
    out = []
    for item in alternatives:
        if isinstance(item, str) and item.strip():
            out.append({"title": item.strip()[:300], "description": ""})
        elif isinstance(item, dict) and str(item.get("title", "")).strip():
            out.append(
                {
                    "title": str(item["title"]).strip()[:300],
                    "description": str(item.get("description", "")),
                }
            )
        else:
            raise RuleError("each alternative needs a title")
    return out


@dataclass
class PurchaseView:
    order_id: str
    product: str
    purchased_on: date
    amount: str
    currency: str
    basis: str


@dataclass
class RuleContext:
    """What a rule can see: the case's current facts, category and the relevant purchase."""

    facts: dict[str, str]
    category: str | None
    as_of: date
    purchase: PurchaseView | None = None


@dataclass
class RuleResult:
    holds: bool | None
    values: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def _norm(value: object) -> str:
    return " ".join(str(value).strip().lower().replace("_", " ").split())


def rule_evaluate(rule: dict[str, Any], context: RuleContext) -> RuleResult:
    """Evaluate a validated rule. `holds` is None when a fact or purchase is missing."""
    kind = rule["kind"]
    if kind == "purchase_age_max_days":
        days = int(rule["days"])
        purchase = context.purchase
        if purchase is None:
            return RuleResult(None, {"days": days}, ["a purchase record"])
        age = (context.as_of - purchase.purchased_on).days
        values = {
            "days": days,
            "age_days": age,
            "order_id": purchase.order_id,
            "product": purchase.product,
            "purchased_on": purchase.purchased_on.isoformat(),
            "amount": purchase.amount,
            "currency": purchase.currency,
            "purchase_basis": purchase.basis,
        }
        holds = age <= days
        reason = (
            f"order {purchase.order_id} bought {purchase.purchased_on.isoformat()}, {age} days "
            f"ago ({'within' if holds else 'beyond'} {days} days)"
        )
        return RuleResult(holds, values, [], [reason])
    if kind in ("fact_equals", "fact_in"):
        key = rule["key"]
        expected = [rule["value"]] if kind == "fact_equals" else list(rule["values"])
        values = {"key": key, "expected": " or ".join(str(e) for e in expected)}
        if key not in context.facts or not str(context.facts[key]).strip():
            return RuleResult(None, values, [f"fact '{key}'"])
        actual = context.facts[key]
        values["value"] = actual
        holds = _norm(actual) in {_norm(e) for e in expected}
        verb = "is" if holds else "is not"
        return RuleResult(holds, values, [], [f"{key} is '{actual}' ({verb} {values['expected']})"])
    if kind == "category_in":
        slugs = list(rule["categories"])
        values = {"category": context.category or "none", "expected": ", ".join(slugs)}
        holds = context.category in slugs
        reason = f"category is {context.category or 'not set'}"
        return RuleResult(holds, values, [], [reason])
    if kind == "not":
        inner = rule_evaluate(rule["rule"], context)
        negated = None if inner.holds is None else not inner.holds
        return RuleResult(negated, inner.values, inner.missing, inner.reasons)
    results = [rule_evaluate(sub, context) for sub in rule["rules"]]
    merged: dict[str, Any] = {}
    missing: list[str] = []
    reasons: list[str] = []
    for result in results:
        merged.update(result.values)
        missing += result.missing
        reasons += result.reasons
    known = [r.holds for r in results if r.holds is not None]
    combined: bool | None
    if kind == "all":
        combined = False if False in known else (None if missing else True)
    else:
        combined = True if True in known else (None if missing else False)
    return RuleResult(combined, merged, [] if combined is not None else missing, reasons)


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def explanation_fill(template: str, values: dict[str, Any]) -> str:
    """Fill {name} placeholders from `values`; unknown names stay as written. No attribute
    or index access, so an admin-typed template cannot reach into objects."""
    return _PLACEHOLDER.sub(
        lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), template
    )


OUTCOME_WORDS = {
    "in_policy": "in policy",
    "out_of_policy": "out of policy",
    "not_our_responsibility": "not our responsibility",
    "not_applicable": "does not apply",
    "undetermined": "cannot tell yet",
    "no_action_wanted": "no action wanted",
}


def explanation_default(*, policy_name: str, outcome: str, result: RuleResult) -> str:
    if result.holds is None:
        return f"{policy_name}: cannot tell yet — missing {', '.join(result.missing)}."
    because = "; ".join(result.reasons)
    return f"{policy_name}: {OUTCOME_WORDS.get(outcome, outcome)} — {because}."


# Most restrictive first: the overall verdict of a check is the first outcome found here.
VERDICT_ORDER = [
    "not_our_responsibility",
    "out_of_policy",
    "undetermined",
    "in_policy",
    "not_applicable",
]


def verdict_of(outcomes: list[str]) -> str:
    for outcome in VERDICT_ORDER:
        if outcome in outcomes:
            return outcome
    return "not_applicable"
