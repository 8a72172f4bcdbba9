"""Extension points: other apps react to case changes after they commit.

Apps register callbacks in their AppConfig.ready(). Callbacks take ids (never objects) and
run after the transaction commits, so a failing callback never loses the case.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

CaseCallback = Callable[[int], None]
MessageCallback = Callable[[int], None]

StatusCallback = Callable[[int, str, str], None]
UpdateCallback = Callable[[int, list[str]], None]

_case_created: list[CaseCallback] = []
_message_added: list[MessageCallback] = []
_case_status_changed: list[StatusCallback] = []
_case_updated: list[UpdateCallback] = []


# Reactions to a new case run in this order: the loop keeps the customer's words, triage
# sets category and priority, and only then is the customer told what to expect.
CREATED_EARLY, CREATED_DEFAULT, CREATED_LATE = 10, 50, 90
_case_created_order: dict[CaseCallback, int] = {}


def on_case_created(callback: CaseCallback, *, order: int = CREATED_DEFAULT) -> CaseCallback:
    if callback not in _case_created:
        _case_created.append(callback)
    _case_created_order[callback] = order
    _case_created.sort(key=lambda registered: _case_created_order.get(registered, CREATED_DEFAULT))
    return callback


def on_message_added(callback: MessageCallback) -> MessageCallback:
    if callback not in _message_added:
        _message_added.append(callback)
    return callback


def on_case_status_changed(callback: StatusCallback) -> StatusCallback:
    """`callback(case_id, before, after)` runs after a status change commits."""
    if callback not in _case_status_changed:
        _case_status_changed.append(callback)
    return callback


def on_case_updated(callback: UpdateCallback) -> UpdateCallback:
    """`callback(case_id, changed_fields)` runs after `case_update` commits a change."""
    if callback not in _case_updated:
        _case_updated.append(callback)
    return callback


def _run(callbacks: list[Callable[..., None]], object_id: int, *args: Any) -> None:
    for callback in list(callbacks):
        try:
            callback(object_id, *args)
        except Exception:  # noqa: BLE001 - one reaction failing must not stop the others
            logger.exception("case hook %s failed for %s", callback, object_id)


def case_created(case_id: int) -> None:
    _run(_case_created, case_id)


def message_added(message_id: int) -> None:
    _run(_message_added, message_id)


def case_status_changed(case_id: int, before: str, after: str) -> None:
    _run(_case_status_changed, case_id, before, after)


def case_updated(case_id: int, fields: list[str]) -> None:
    _run(_case_updated, case_id, list(fields))
