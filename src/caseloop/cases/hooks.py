"""Extension points: other apps react to case changes, durably.

Apps register callbacks in their AppConfig.ready(). The case services announce a change
inside its transaction; each registered reaction becomes one outbox effect, recorded in
that same transaction and run after the commit by the dispatcher, at least once (so a
reaction must be idempotent). Callbacks take ids, never objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import outbox

CaseCallback = Callable[[int], None]
MessageCallback = Callable[[int], None]
StatusCallback = Callable[[int, str, str], None]
UpdateCallback = Callable[[int, list[str]], None]
EventCallback = Callable[[int], None]


@dataclass(frozen=True)
class MessageFacts:
    """What a message reaction may decide from, without a query, whether it is needed: a
    reaction that has nothing to do for such a message records no effect."""

    direction: str
    # An automatic message (an acknowledgement) or an auto-reply (out of office, bounce).
    automatic: bool = False
    by_staff: bool = False
    # The case's first message, whose reactions come with the case's own.
    opening: bool = False


# Reactions to a new case run in this order: the loop keeps the customer's words, triage
# sets category and priority, and only then is the customer told what to expect.
CREATED_EARLY, CREATED_DEFAULT, CREATED_LATE = 10, 50, 90


class _Hook:
    """The reactions registered for one kind of change, in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.callbacks: list[tuple[int, str, Callable[..., None]]] = []
        # A reaction that is often not needed says when it is (from the change's facts or a
        # cache, no query), so a change it does not want records no effect for it.
        self.wants: dict[str, Callable[[Any], bool]] = {}

    def register(
        self,
        callback: Callable[..., None],
        order: int,
        wants: Callable[[Any], bool] | None = None,
    ) -> None:
        kind = f"{self.name}:{callback.__module__}.{callback.__qualname__}"
        self.callbacks = [entry for entry in self.callbacks if entry[1] != kind]
        self.callbacks.append((order, kind, callback))
        if wants is not None:
            self.wants[kind] = wants
        self.callbacks.sort(key=lambda entry: entry[0])
        # Reactions only write to the database, so a batch of them may share a transaction.
        outbox.effect_type_register(
            kind, lambda payload: callback(*payload["args"]), database_only=True
        )

    def unregister(self, callback: Callable[..., None]) -> None:
        self.callbacks = [entry for entry in self.callbacks if entry[2] is not callback]

    def effects(
        self, *args: Any, case_id: int, once_key: str = "", facts: Any = None
    ) -> list[outbox.Effect]:
        """One effect per reaction that wants the change (`facts`); `once_key` makes them
        once-only (per change)."""
        return [
            outbox.Effect(
                kind=kind,
                payload={"args": list(args)},
                key=f"{kind}:{once_key}" if once_key else "",
                case_id=case_id,
            )
            for _order, kind, _callback in self.callbacks
            if kind not in self.wants or self.wants[kind](facts)
        ]

    def announce(self, *args: Any, case_id: int, once_key: str = "", facts: Any = None) -> None:
        outbox.effects_record(self.effects(*args, case_id=case_id, once_key=once_key, facts=facts))


_case_created = _Hook("case_created")
_message_added = _Hook("message_added")
_case_status_changed = _Hook("case_status_changed")
_case_updated = _Hook("case_updated")


def on_case_created(
    callback: CaseCallback,
    *,
    order: int = CREATED_DEFAULT,
    wants: Callable[[], bool] | None = None,
) -> CaseCallback:
    """`callback(case_id)` runs after a new case commits (when `wants()`, if given)."""
    _case_created.register(callback, order, None if wants is None else lambda _facts: wants())
    return callback


def on_message_added(
    callback: MessageCallback, *, wants: Callable[[MessageFacts], bool] | None = None
) -> MessageCallback:
    """`callback(message_id)` runs after a new message commits (when `wants(facts)`, if
    given)."""
    _message_added.register(callback, CREATED_DEFAULT, wants)
    return callback


def on_case_status_changed(callback: StatusCallback) -> StatusCallback:
    """`callback(case_id, before, after)` runs after a status change commits."""
    _case_status_changed.register(callback, CREATED_DEFAULT)
    return callback


def on_case_updated(callback: UpdateCallback) -> UpdateCallback:
    """`callback(case_id, changed_fields)` runs after `case_update` commits a change."""
    _case_updated.register(callback, CREATED_DEFAULT)
    return callback


# Reactions to events of given kinds (an escalation, a returned question, an SLA warning…),
# by kind: recording an event no one listens to costs nothing more.
_event_recorded: dict[str, _Hook] = {}


def on_event_recorded(kinds: list[str], callback: EventCallback) -> EventCallback:
    """`callback(event_id)` runs after an event of one of `kinds` commits, once per event."""
    for kind in kinds:
        _event_recorded.setdefault(kind, _Hook(f"event_recorded:{kind}")).register(
            callback, CREATED_DEFAULT
        )
    return callback


# Reactions that may want events of any kind (automation rules): each is asked, inside the
# change's transaction, whether it wants an event of a given kind, so it must answer without
# a query (from a cache); an event it does not want costs nothing more.
_any_event_recorded: dict[str, tuple[_Hook, Callable[[str], bool]]] = {}


def on_any_event_recorded(
    callback: EventCallback, *, wants: Callable[[str], bool]
) -> EventCallback:
    """`callback(event_id)` runs after an event commits whose kind `wants(kind)` accepts,
    once per event."""
    hook = _Hook("event_recorded:any")
    hook.register(callback, CREATED_DEFAULT)
    _any_event_recorded[hook.callbacks[0][1]] = (hook, wants)
    return callback


def unregister(callback: Callable[..., None]) -> None:
    for hook in (_case_created, _message_added, _case_status_changed, _case_updated):
        hook.unregister(callback)
    for hook in _event_recorded.values():
        hook.unregister(callback)
    for key, (hook, _wants) in list(_any_event_recorded.items()):
        if hook.callbacks and hook.callbacks[0][2] is callback:
            del _any_event_recorded[key]


# Called by the case services inside the transaction of the change.


def case_created(
    case_id: int, *, first_message_id: int | None = None, first_message: MessageFacts | None = None
) -> None:
    """A new case, and its first message when it has one: every reaction to both is
    recorded in one statement (the ids are new, so the once-only keys cannot clash)."""
    effects = _case_created.effects(case_id, case_id=case_id, once_key=str(case_id))
    if first_message_id is not None:
        effects += _message_added.effects(
            first_message_id,
            case_id=case_id,
            once_key=str(first_message_id),
            facts=first_message or MessageFacts(direction="inbound", opening=True),
        )
    outbox.effects_record(effects, keys_are_new=True)


def message_added(message_id: int, *, case_id: int, facts: MessageFacts) -> None:
    _message_added.announce(message_id, case_id=case_id, once_key=str(message_id), facts=facts)


def case_status_changed(case_id: int, before: str, after: str) -> None:
    _case_status_changed.announce(case_id, before, after, case_id=case_id)


def case_updated(case_id: int, fields: list[str]) -> None:
    _case_updated.announce(case_id, list(fields), case_id=case_id)


def events_recorded(events: list[Any]) -> None:
    """Case events just saved (with their ids): the reactions to their kinds, if any."""
    effects = []
    for event in events:
        hook = _event_recorded.get(event.kind)
        if hook is not None and hook.callbacks:
            effects += hook.effects(event.pk, case_id=event.case_id, once_key=str(event.pk))
        for any_hook, wants in _any_event_recorded.values():
            if wants(event.kind):
                effects += any_hook.effects(event.pk, case_id=event.case_id, once_key=str(event.pk))
    if effects:
        outbox.effects_record(effects, keys_are_new=True)
