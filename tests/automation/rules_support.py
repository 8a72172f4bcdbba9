"""What the automation-rule tests share: an admin, a rule saved through the service, the
worker's outbox loop, and the trigger-kind cache reset around each test (a test's rules
are rolled back with its database; the cache must say so too)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from caseloop.accounts.models import Role, User
from caseloop.automation import rules
from caseloop.automation.models import Rule
from caseloop.cases import outbox
from caseloop.cases.models import CaseEvent
from tests.builders import make_user


@pytest.fixture(autouse=True)
def _rule_kinds_cache():
    cache.delete(rules.KINDS_CACHE_KEY)
    yield
    cache.set(rules.KINDS_CACHE_KEY, [], None)


def make_admin() -> User:
    return make_user(role=Role.ADMIN)


def make_rule(
    *,
    triggers: list[str],
    actions: list[dict[str, Any]],
    conditions: list[dict[str, Any]] = (),
    match: str = "all",
    name: str = "",
    position: int = 100,
    active: bool = True,
) -> Rule:
    return rules.rule_save(
        actor=make_admin(),
        name=name or f"Rule on {', '.join(triggers)}",
        trigger_kinds=list(triggers),
        conditions=list(conditions),
        actions=list(actions),
        match=match,
        position=position,
        is_active=active,
    )


def run_effects() -> None:
    """What the worker does: run every due outbox effect, and those they record."""
    for _round in range(50):
        if not outbox.effects_sweep():
            return
    raise AssertionError("the outbox never settled: something keeps recording effects")


def applied(case, rule: Rule | None = None) -> list[CaseEvent]:
    rows = CaseEvent.objects.filter(case=case, kind="rule_applied").order_by("id")
    return [e for e in rows if rule is None or e.data["rule"] == rule.pk]
