"""The `send_response` action of automation rules: a prepared response (a Macro), rendered
with its placeholders for the case, sent to the customer on the case's channel as an
automatic message; the outbox delivers it as it does every reply. The macro's own tags and
status are left to the rule's other actions."""

from __future__ import annotations

from typing import Any

from caseloop.automation.rules import ActionContext, ActionType, RuleInvalid, action_register
from caseloop.cases.models import Message
from caseloop.cases.services import message_add

from .models import Macro
from .services import macro_render


def _macro(pk: object, *, field: str = "macro") -> Macro:
    if not isinstance(pk, int) or isinstance(pk, bool):
        raise RuleInvalid("the prepared response is named by its id", field=field)
    macro = Macro.objects.filter(pk=pk, is_active=True).first()
    if macro is None:
        raise RuleInvalid(f"no active prepared response with id {pk}", field=field)
    return macro


def send_response_check(params: dict[str, Any]) -> dict[str, Any]:
    return {"macro": _macro(params.get("macro")).pk}


def send_response_run(context: ActionContext, params: dict[str, Any]) -> str:
    macro = _macro(params["macro"])
    case = context.case
    owner = case.owner
    text = macro_render(macro=macro, case=case, agent=owner)
    message = message_add(
        case=case,
        direction=Message.Direction.OUTBOUND,
        text=text,
        actor=None,
        system=True,
        metadata={"rule": context.rule.pk, "macro": macro.pk},
    )
    return f"sent the prepared response “{macro.name}” (message {message.pk})"


def _preview(params: dict[str, Any]) -> str:
    macro = Macro.objects.filter(pk=params["macro"]).first()
    return f"send the prepared response “{macro.name if macro else 'a removed response'}”"


def register() -> None:
    action_register(
        ActionType(
            "send_response",
            "Send a prepared response",
            send_response_check,
            send_response_run,
            _preview,
        )
    )
