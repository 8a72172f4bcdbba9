"""API endpoints for automation rules, mounted under /api/v1/: managers and admins read them
and dry-run them; only admins create, change and delete them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Field, Router, Schema, Status as Reply

from caseloop.accounts.auth import ApiRequest, require_role
from caseloop.accounts.models import Role

from . import rule_selectors, rules
from .models import Rule

router = Router(tags=["automation rules"])
Kind = Annotated[str, Field(max_length=40)]


class Condition(Schema):
    field: str = Field(..., max_length=60, description="A case field, or `event.<key>`.")
    op: str = Field(..., max_length=20)
    value: Any = None


class Action(Schema):
    type: str = Field(..., max_length=40)
    params: dict[str, Any] = {}


class RuleIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    is_active: bool = False
    position: int = Field(100, ge=0, le=1_000_000)
    trigger_kinds: list[Kind] = Field(..., min_length=1, max_length=100)
    match: str = Field("all", description="`all` or `any` of the conditions.")
    conditions: list[Condition] = Field([], max_length=rules.MAX_CONDITIONS)
    actions: list[Action] = Field(..., min_length=1, max_length=rules.MAX_ACTIONS)


class RulePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    is_active: bool | None = None
    position: int | None = Field(None, ge=0, le=1_000_000)
    trigger_kinds: list[Kind] | None = Field(None, max_length=100)
    match: str | None = None
    conditions: list[Condition] | None = Field(None, max_length=rules.MAX_CONDITIONS)
    actions: list[Action] | None = Field(None, max_length=rules.MAX_ACTIONS)


class RuleOut(Schema):
    id: int
    name: str
    is_active: bool
    position: int
    trigger_kinds: list[str]
    match: str
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def of(row: Rule) -> RuleOut:
        return RuleOut(
            id=row.pk,
            name=row.name,
            is_active=row.is_active,
            position=row.position,
            trigger_kinds=list(row.trigger_kinds),
            match=row.match,
            conditions=list(row.conditions),
            actions=rules.actions_public(row.actions),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class DryRunMatchOut(Schema):
    case_id: int
    reference: str
    subject: str
    event_id: int
    event_kind: str
    at: datetime
    actions: list[str]


class DryRunOut(Schema):
    since: datetime
    until: datetime
    events_examined: int
    events_matched: int
    cases_matched: int
    truncated: bool = Field(
        ..., description="More events than a dry run reads; counts are partial."
    )
    actions: dict[str, int] = Field(..., description="How many times each action would have run.")
    sample: list[DryRunMatchOut]

    @staticmethod
    def of(report: rule_selectors.DryRunReport) -> DryRunOut:
        return DryRunOut(
            since=report.since,
            until=report.until,
            events_examined=report.events_examined,
            events_matched=report.events_matched,
            cases_matched=report.cases_matched,
            truncated=report.truncated,
            actions=report.actions,
            sample=[DryRunMatchOut(**vars(match)) for match in report.sample],
        )


def _parts(body: RuleIn | RulePatch) -> dict[str, Any]:
    data = body.dict(exclude_unset=True) if isinstance(body, RulePatch) else body.dict()
    return {key: value for key, value in data.items() if value is not None}


@router.get("/rules", response=list[RuleOut], summary="Automation rules")
def rules_list(request: ApiRequest) -> list[RuleOut]:
    """Every rule, in the order they run."""
    require_role(request, Role.MANAGER, Role.ADMIN)
    return [RuleOut.of(row) for row in rule_selectors.rule_list()]


@router.post("/rules", response={201: RuleOut}, summary="Add a rule")
def rules_create(request: ApiRequest, body: RuleIn) -> Any:
    """Conditions `{"field", "op", "value"}`; actions `{"type", "params"}` (see the README's
    *Automation rules*). Admins only; a rule is off until `is_active`."""
    require_role(request, Role.ADMIN)
    return Reply(201, RuleOut.of(rules.rule_save(actor=request.auth, **_parts(body))))


@router.post("/rules/dry-run", response=DryRunOut, summary="Dry-run a rule not yet saved")
def rules_dry_run(request: ApiRequest, body: RuleIn) -> DryRunOut:
    """What the rule would have done over the last 30 days' events. Changes nothing."""
    require_role(request, Role.MANAGER, Role.ADMIN)
    spec = rules.rule_spec_check(
        name=body.name,
        trigger_kinds=body.trigger_kinds,
        match=body.match,
        conditions=[c.dict() for c in body.conditions],
        actions=[a.dict() for a in body.actions],
    )
    spec.pop("name")
    return DryRunOut.of(rule_selectors.rule_dry_run(**spec))


@router.get("/rules/{rule_id}", response=RuleOut, summary="A rule")
def rules_get(request: ApiRequest, rule_id: int) -> RuleOut:
    require_role(request, Role.MANAGER, Role.ADMIN)
    return RuleOut.of(rule_selectors.rule_get(pk=rule_id))


@router.patch("/rules/{rule_id}", response=RuleOut, summary="Change a rule")
def rules_update(request: ApiRequest, rule_id: int, body: RulePatch) -> RuleOut:
    """Fields left out stay as they are; `is_active` turns it on or off."""
    require_role(request, Role.ADMIN)
    rule = rule_selectors.rule_get(pk=rule_id)
    return RuleOut.of(rules.rule_save(actor=request.auth, rule=rule, **_parts(body)))


@router.delete("/rules/{rule_id}", response={204: None}, summary="Remove a rule")
def rules_delete(request: ApiRequest, rule_id: int) -> Any:
    require_role(request, Role.ADMIN)
    rules.rule_delete(actor=request.auth, rule=rule_selectors.rule_get(pk=rule_id))
    return Reply(204, None)


@router.post("/rules/{rule_id}/dry-run", response=DryRunOut, summary="Dry-run a saved rule")
def rules_dry_run_saved(request: ApiRequest, rule_id: int) -> DryRunOut:
    """What the rule, on or off, would have done over the last 30 days' events."""
    require_role(request, Role.MANAGER, Role.ADMIN)
    rule = rule_selectors.rule_get(pk=rule_id)
    return DryRunOut.of(
        rule_selectors.rule_dry_run(
            trigger_kinds=rule.trigger_kinds,
            match=rule.match,
            conditions=rule.conditions,
            actions=rule.actions,
            rule_id=rule.pk,
        )
    )
