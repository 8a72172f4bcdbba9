"""The one registry of case-event kinds.

Every event in a case's log has a kind registered here, with the words the timeline uses for
it. The core registers its own kinds below; the loop's are in `cases.loop.events`; each outer
app registers its kinds in its own `events` module, imported by its AppConfig.ready().
`event_record` refuses a kind nobody registered, so a typo cannot slip into the log.
"""

from __future__ import annotations

import re

from .models import CaseEvent

KIND_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class EventKind(str):
    """An event kind's name (it compares and stores as the plain string) with its label."""

    label: str

    def __new__(cls, name: str, label: str) -> EventKind:
        kind = super().__new__(cls, name)
        kind.label = label
        return kind


class UnknownEventKind(LookupError):
    """A service tried to record an event of a kind no app registered: a programming error."""


_kinds: dict[str, EventKind] = {}


def event_kind(name: str, label: str = "") -> EventKind:
    """Register (or look up) a kind; registering the same name twice keeps one entry."""
    if not KIND_NAME.match(name):
        raise ValueError(f"an event kind is a short snake_case name, not {name!r}")
    kind = EventKind(name, label or name.replace("_", " ").capitalize())
    _kinds[name] = kind
    return kind


def event_kind_get(name: str) -> EventKind:
    try:
        return _kinds[name]
    except KeyError:
        raise UnknownEventKind(f"no app registered the case-event kind {name!r}") from None


def event_kinds() -> dict[str, EventKind]:
    return dict(_kinds)


for _choice in CaseEvent.Kind:
    event_kind(_choice.value, str(_choice.label))
