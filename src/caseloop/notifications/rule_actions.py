"""The `notify` action of automation rules: tell people, a team, the case's owner or the
desk's managers, through the desk's notifications (and so the email digest)."""

from __future__ import annotations

from typing import Any

from caseloop.accounts.models import STAFF_ROLES, Role, Team, User
from caseloop.automation.rules import (
    ActionContext,
    ActionType,
    RuleInvalid,
    action_register,
    staff_check,
    team_check,
)

from .models import Notification
from .services import Notice, notifications_create

RULE_KIND = Notification.Kind.RULE


def _ids(params: dict[str, Any], key: str) -> list[int]:
    value = params.get(key) or []
    if not isinstance(value, list) or not all(
        isinstance(pk, int) and not isinstance(pk, bool) for pk in value
    ):
        raise RuleInvalid(f"{key} is a list of ids", field=key)
    return sorted(set(value))


def notify_check(params: dict[str, Any]) -> dict[str, Any]:
    users, teams = _ids(params, "users"), _ids(params, "teams")
    for pk in users:
        staff_check(pk, field="users")
    for pk in teams:
        team_check(pk, field="teams")
    owner, managers = params.get("owner", False), params.get("managers", False)
    if not isinstance(owner, bool) or not isinstance(managers, bool):
        raise RuleInvalid("owner and managers are true or false", field="owner")
    if not (users or teams or owner or managers):
        raise RuleInvalid(
            "notify needs someone to tell: users, teams, owner or managers", field="users"
        )
    text = params.get("text") or ""
    if not isinstance(text, str) or len(text) > 300:
        raise RuleInvalid("the text has at most 300 characters", field="text")
    return {
        "users": users,
        "teams": teams,
        "owner": owner,
        "managers": managers,
        "text": text.strip(),
    }


def _recipients(params: dict[str, Any], *, owner_id: int | None) -> set[int]:
    staff = User.objects.filter(is_active=True, role__in=list(STAFF_ROLES))
    wanted = set(staff.filter(pk__in=params["users"]).values_list("pk", flat=True))
    if params["teams"]:
        wanted |= set(staff.filter(teams__in=params["teams"]).values_list("pk", flat=True))
    if params["managers"]:
        wanted |= set(staff.filter(role=Role.MANAGER).values_list("pk", flat=True))
    if params["owner"] and owner_id is not None:
        wanted |= set(staff.filter(pk=owner_id).values_list("pk", flat=True))
    return wanted


def _who(params: dict[str, Any]) -> str:
    names = [u.display_name for u in User.objects.filter(pk__in=params["users"]).order_by("pk")]
    names += [t.name for t in Team.objects.filter(pk__in=params["teams"]).order_by("pk")]
    if params["owner"]:
        names.append("the owner")
    if params["managers"]:
        names.append("the managers")
    return ", ".join(names) or "nobody"


def notify_run(context: ActionContext, params: dict[str, Any]) -> str:
    case = context.case
    users = _recipients(params, owner_id=case.owner_id)
    text = params["text"] or f"Rule “{context.rule.name}”"
    notifications_create(
        Notice(
            kind=RULE_KIND,
            case_id=case.pk,
            actor_id=None,
            text=f"{case.reference}: {text} — “{case.subject}”",
            source=f"rule:{context.rule.pk}:{context.event.pk}",
        ),
        users=users,
    )
    return f"notified {_who(params)} ({len(users)} {'person' if len(users) == 1 else 'people'})"


def register() -> None:
    action_register(
        ActionType(
            "notify",
            "Notify people or a team",
            notify_check,
            notify_run,
            lambda params: f"notify {_who(params)}",
        )
    )
