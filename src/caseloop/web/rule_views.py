"""Automation rules in the desk (admins): the list with on/off, a form with the rule's
triggers, conditions and actions, and the dry run over the last 30 days, for a rule being
written or a saved one. Every change lands in the settings audit log."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from caseloop.accounts.models import Role, Team, User
from caseloop.automation import rule_selectors, rules
from caseloop.automation.models import Rule
from caseloop.cases.models import Category
from caseloop.customers.models import Organization
from caseloop.knowledge.models import Macro

from .models import SettingsChange

AUDIT_KIND = "automation-rules"
BLANK_ROWS = 2
EVENT_FIELD = "event"


def rule_change_audit(*, actor: User, rule: Rule, action: str, before: dict[str, Any]) -> None:
    """Listener for `rules.rule_change_listener_register`: the settings audit log."""
    SettingsChange.objects.create(
        actor=actor,
        kind=AUDIT_KIND,
        object_id=rule.pk,
        object_repr=str(rule)[:200],
        action=action,
        before=before,
        after={} if action == SettingsChange.Action.DELETED else rules.rule_snapshot(rule),
    )


def _admin(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if user.role != Role.ADMIN:
        raise PermissionDenied("admins only")
    return user


class RuleForm(forms.Form):
    name = forms.CharField(max_length=100, label=gettext_lazy("Name"))
    is_active = forms.BooleanField(required=False, label=gettext_lazy("On"))
    position = forms.IntegerField(
        min_value=0,
        max_value=1_000_000,
        initial=100,
        label=gettext_lazy("Order"),
        help_text=gettext_lazy("Lower runs first."),
    )
    trigger_kinds = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, label=gettext_lazy("When")
    )
    match = forms.ChoiceField(choices=Rule.Match.choices, label=gettext_lazy("Conditions to meet"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.MultipleChoiceField, self.fields["trigger_kinds"])
        field.choices = [
            (name, f"{label} ({name})") for name, label in rules.rule_triggers().items()
        ]


# --- conditions and actions as form rows ----------------------------------------------------


class RowError(Exception):
    pass


def _row_by_name(model: Any, text: str, *, attribute: str = "name") -> int | None:
    text = text.strip()
    if not text or text.lower() in ("none", "-"):
        return None
    if text.isdigit():
        return int(text)
    row = model.objects.filter(**{f"{attribute}__iexact": text}).first()
    if row is None:
        raise RowError(
            _("No %(noun)s named “%(name)s”.") % {"noun": model._meta.verbose_name, "name": text}
        )
    return cast(int, row.pk)


ROW_MODELS: dict[str, Any] = {
    "category": Category,
    "team": Team,
    "customer_organization": Organization,
}


def _condition_value(field: str, text: str) -> Any:
    if field in ROW_MODELS:
        return _row_by_name(ROW_MODELS[field], text)
    if field == "customer_vip":
        return text.strip().lower() in ("yes", "true", "1", "on")
    if field.startswith("hours_since"):
        try:
            return float(text)
        except ValueError:
            raise RowError(_("Hours are a number.")) from None
    return text.strip()


def conditions_from_post(data: QueryDict) -> list[dict[str, Any]]:
    found = []
    index = 0
    while f"cond-{index}-field" in data:
        field = data.get(f"cond-{index}-field", "").strip()
        if field:
            if field == EVENT_FIELD:
                field = rules.EVENT_FIELD_PREFIX + data.get(f"cond-{index}-key", "").strip()
            op = data.get(f"cond-{index}-op", "").strip()
            found.append(
                {
                    "field": field,
                    "op": op,
                    "value": _condition_value(field, data.get(f"cond-{index}-value", "")),
                }
            )
        index += 1
    return found


def _usernames(names: list[str]) -> list[int]:
    ids = []
    for name in names:
        user = User.objects.filter(username__iexact=name).first()
        if user is None:
            raise RowError(_("No one signs in as “%(name)s”.") % {"name": name})
        ids.append(user.pk)
    return ids


def _action_params(kind: str, target: str, secret: str) -> dict[str, Any]:
    target = target.strip()
    if kind == "assign":
        params: dict[str, Any] = {"agent": None, "team": None}
        for part in filter(None, (p.strip() for p in target.split(","))):
            if part.lower().startswith("team:"):
                params["team"] = _row_by_name(Team, part[5:])
            else:
                params["agent"] = _usernames([part])[0]
        return params
    if kind in ("add_tag", "remove_tag"):
        return {"tag": target}
    if kind == "set_priority":
        return {"priority": target.lower()}
    if kind == "notify":
        notify: dict[str, Any] = {"users": [], "teams": [], "owner": False, "managers": False}
        for part in filter(None, (p.strip() for p in target.split(","))):
            if part.lower() == "owner":
                notify["owner"] = True
            elif part.lower() == "managers":
                notify["managers"] = True
            elif part.lower().startswith("team:"):
                notify["teams"].append(_row_by_name(Team, part[5:]))
            else:
                notify["users"] += _usernames([part])
        return notify
    if kind == "send_response":
        return {"macro": _row_by_name(Macro, target)}
    if kind == "webhook":
        return {"url": target, "secret": secret or rules.SECRET_MASK}
    return {}


def actions_from_post(data: QueryDict) -> list[dict[str, Any]]:
    found = []
    index = 0
    while f"act-{index}-type" in data:
        kind = data.get(f"act-{index}-type", "").strip()
        if kind:
            target = data.get(f"act-{index}-target", "")
            secret = data.get(f"act-{index}-secret", "")
            found.append({"type": kind, "params": _action_params(kind, target, secret)})
        index += 1
    return found


def _name(model: Any, pk: Any, attribute: str = "name") -> str:
    row = model.objects.filter(pk=pk).first() if isinstance(pk, int) else None
    return str(getattr(row, attribute)) if row is not None else ""


def _condition_row(condition: dict[str, Any]) -> dict[str, Any]:
    field, value = str(condition.get("field", "")), condition.get("value")
    key = ""
    if field.startswith(rules.EVENT_FIELD_PREFIX):
        field, key = EVENT_FIELD, field[len(rules.EVENT_FIELD_PREFIX) :]
    if field in ROW_MODELS:
        value = _name(ROW_MODELS[field], value) or ("none" if value is None else value)
    elif isinstance(value, bool):
        value = "yes" if value else "no"
    return {
        "field": field,
        "key": key,
        "op": condition.get("op", ""),
        "value": "" if value is None else value,
    }


def _action_row(action: dict[str, Any]) -> dict[str, Any]:
    kind, params = action.get("type", ""), action.get("params") or {}
    target = ""
    if kind == "assign":
        parts = [_name(User, params.get("agent"), "username")]
        team = _name(Team, params.get("team"))
        parts.append(f"team:{team}" if team else "")
        target = ", ".join(p for p in parts if p)
    elif kind in ("add_tag", "remove_tag"):
        target = params.get("tag", "")
    elif kind == "set_priority":
        target = params.get("priority", "")
    elif kind == "notify":
        parts = [_name(User, pk, "username") for pk in params.get("users", [])]
        parts += [f"team:{_name(Team, pk)}" for pk in params.get("teams", [])]
        parts += ["owner"] if params.get("owner") else []
        parts += ["managers"] if params.get("managers") else []
        target = ", ".join(parts)
    elif kind == "send_response":
        target = _name(Macro, params.get("macro"))
    elif kind == "webhook":
        target = params.get("url", "")
    return {"type": kind, "target": target, "has_secret": kind == "webhook"}


def _rows(conditions: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    blank_condition = {"field": "", "key": "", "op": "", "value": ""}
    blank_action = {"type": "", "target": "", "has_secret": False}
    return {
        "condition_rows": [_condition_row(c) for c in conditions] + [blank_condition] * BLANK_ROWS,
        "action_rows": [_action_row(a) for a in actions] + [blank_action] * BLANK_ROWS,
        "condition_fields": [(name, f.label) for name, f in rules.CONDITION_FIELDS.items()]
        + [(EVENT_FIELD, _("Event data (key)"))],
        "condition_ops": sorted(
            {op for f in rules.CONDITION_FIELDS.values() for op in f.ops} | set(rules.EVENT_OPS)
        ),
        "action_types": [(name, kind.label) for name, kind in sorted(rules.action_types().items())],
    }


# --- pages ----------------------------------------------------------------------------------


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    _admin(request)
    return render(request, "web/rules/list.html", {"rules": rule_selectors.rule_list()})


def _dry_run(*, spec: dict[str, Any], rule_id: int | None) -> rule_selectors.DryRunReport:
    return rule_selectors.rule_dry_run(
        trigger_kinds=spec["trigger_kinds"],
        match=spec["match"],
        conditions=spec["conditions"],
        actions=spec["actions"],
        rule_id=rule_id,
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    actor = _admin(request)
    row = rule_selectors.rule_get(pk=rule_id) if rule_id is not None else None
    context: dict[str, Any] = {"row": row, "report": None}
    if request.method == "POST":
        form = RuleForm(request.POST)
        try:
            conditions, actions = (
                conditions_from_post(request.POST),
                actions_from_post(request.POST),
            )
        except RowError as exc:
            form.add_error(None, str(exc))
            conditions, actions = [], []
        context.update(_rows(conditions, actions))
        if form.is_valid():
            data = form.cleaned_data
            try:
                if "dry_run" in request.POST:
                    spec = rules.rule_spec_check(
                        name=data["name"],
                        trigger_kinds=list(data["trigger_kinds"]),
                        match=data["match"],
                        conditions=conditions,
                        actions=actions,
                        previous_actions=list(row.actions) if row else [],
                    )
                    context["report"] = _dry_run(spec=spec, rule_id=row.pk if row else None)
                    return render(request, "web/rules/edit.html", {**context, "form": form})
                saved = rules.rule_save(
                    actor=actor,
                    rule=row,
                    name=data["name"],
                    is_active=data["is_active"],
                    position=data["position"],
                    trigger_kinds=list(data["trigger_kinds"]),
                    match=data["match"],
                    conditions=conditions,
                    actions=actions,
                )
            except rules.RuleInvalid as exc:
                where = f" ({exc.field})" if exc.field else ""
                form.add_error(None, f"{exc.summary()}{where}")
            else:
                messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
                return redirect("web:rules")
        return render(request, "web/rules/edit.html", {**context, "form": form}, status=422)
    initial = (
        {
            "name": row.name,
            "is_active": row.is_active,
            "position": row.position,
            "trigger_kinds": row.trigger_kinds,
            "match": row.match,
        }
        if row
        else {"match": Rule.Match.ALL, "position": 100}
    )
    context.update(_rows(list(row.conditions) if row else [], list(row.actions) if row else []))
    return render(request, "web/rules/edit.html", {**context, "form": RuleForm(initial=initial)})


@login_required
def rule_dry_run(request: HttpRequest, rule_id: int) -> HttpResponse:
    _admin(request)
    row = rule_selectors.rule_get(pk=rule_id)
    spec = {
        "trigger_kinds": row.trigger_kinds,
        "match": row.match,
        "conditions": row.conditions,
        "actions": row.actions,
    }
    return render(
        request,
        "web/rules/dry_run.html",
        {"row": row, "report": _dry_run(spec=spec, rule_id=row.pk)},
    )


@login_required
@require_POST
def rule_toggle(request: HttpRequest, rule_id: int) -> HttpResponse:
    actor = _admin(request)
    row = rule_selectors.rule_get(pk=rule_id)
    saved = rules.rule_save(actor=actor, rule=row, is_active=not row.is_active)
    if saved.is_active:
        messages.success(request, _("Rule “%(name)s” is on.") % {"name": saved.name})
    else:
        messages.success(request, _("Rule “%(name)s” is off.") % {"name": saved.name})
    return redirect("web:rules")


@login_required
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    actor = _admin(request)
    row = rule_selectors.rule_get(pk=rule_id)
    rules.rule_delete(actor=actor, rule=row)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": row.name})
    return redirect("web:rules")
