"""The one registry of case-event kinds.

Every event in a case's log has a kind registered here, with the words the timeline uses for
it. The core registers its own kinds below; the loop's are in `cases.loop.events`; each outer
app registers its kinds in its own `events` module, imported by its AppConfig.ready().
`event_record` refuses a kind nobody registered, so a typo cannot slip into the log.

A kind may also say how one of its events reads: `describe(event, names)` returns a sentence
("Assigned to Priya Shah (was Alex Kim)"). The ids in an event's data that name rows — people,
teams, categories, an app's own records — are declared in `refs` (data key → model label), so
`event_lines` can load every row a page of events names at once, one query per model at
most, instead of one per event.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Model
from django.utils.functional import Promise
from django.utils.translation import gettext as _, gettext_noop

from .models import CaseEvent, Channel, Message, Priority, Status

KIND_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

Describe = Callable[[CaseEvent, "EventNames"], "str | EventLine"]


class EventKind(str):
    """An event kind's name (it compares and stores as the plain string) with its label and,
    optionally, how one of its events reads and which of its data's ids name rows."""

    label: str | Promise
    describe: Describe | None
    refs: Mapping[str, str]

    def __new__(
        cls,
        name: str,
        label: str | Promise,
        describe: Describe | None = None,
        refs: Mapping[str, str] | None = None,
    ) -> EventKind:
        kind = super().__new__(cls, name)
        kind.label = label
        kind.describe = describe
        kind.refs = {key: model.lower() for key, model in (refs or {}).items()}
        return kind


class UnknownEventKind(LookupError):
    """A service tried to record an event of a kind no app registered: a programming error."""


_kinds: dict[str, EventKind] = {}


def event_kind(
    name: str,
    label: str | Promise = "",
    *,
    describe: Describe | None = None,
    refs: Mapping[str, str] | None = None,
) -> EventKind:
    """Register (or look up) a kind; registering the same name twice keeps one entry.
    `describe(event, names)` returns the sentence the timeline shows for one event;
    `refs` maps the data keys that hold row ids to the model (`"accounts.User"`) they name."""
    if not KIND_NAME.match(name):
        raise ValueError(f"an event kind is a short snake_case name, not {name!r}")
    kind = EventKind(name, label or name.replace("_", " ").capitalize(), describe, refs)
    _kinds[name] = kind
    return kind


def event_kind_get(name: str) -> EventKind:
    try:
        return _kinds[name]
    except KeyError:
        raise UnknownEventKind(f"no app registered the case-event kind {name!r}") from None


def event_kinds() -> dict[str, EventKind]:
    return dict(_kinds)


# --- How events read -----------------------------------------------------------------------


def _row_id(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def row_name(row: Model) -> str:
    """What people call a row: a person's or customer's display name, else its str()."""
    return str(getattr(row, "display_name", "") or row)


class EventNames:
    """The rows a page's events name, by model label and id, loaded together."""

    def __init__(self, rows: Mapping[tuple[str, int], Model]) -> None:
        self._rows = dict(rows)

    def row(self, event: CaseEvent, key: str) -> Model | None:
        """The row `event.data[key]` names (per its kind's `refs`); None when the data names
        none or the row is gone."""
        model = _ref_model(event, key)
        pk = _row_id(_data(event).get(key))
        if model is None or pk is None:
            return None
        return self._rows.get((model, pk))

    def name(self, event: CaseEvent, key: str) -> str:
        """The name of the row `event.data[key]` names: "" when it names none, "a deleted
        team" (or the like) when the row is gone."""
        if _data(event).get(key) is None:
            return ""
        row = self.row(event, key)
        if row is not None:
            return row_name(row)
        model = _ref_model(event, key)
        noun = apps.get_model(model)._meta.verbose_name if model else _("record")
        return _("a deleted %(noun)s") % {"noun": noun}


def _ref_model(event: CaseEvent, key: str) -> str | None:
    kind = _kinds.get(event.kind)
    return kind.refs.get(key) if kind is not None else None


def _data(event: CaseEvent) -> dict[str, Any]:
    return event.data if isinstance(event.data, dict) else {}


def event_names(*, events: Sequence[CaseEvent], known: Iterable[Model | None] = ()) -> EventNames:
    """The rows `events` name. Rows the caller already holds (the case's owner, team…) and
    the events' loaded actors are used as they are; the rest are read in one query per
    model."""
    rows: dict[tuple[str, int], Model] = {}
    for row in known:
        if row is not None and row.pk is not None:
            rows[(row._meta.label_lower, row.pk)] = row
    for event in events:
        if event.actor_id is not None and CaseEvent.actor.is_cached(event):
            actor = event.actor
            if actor is not None:
                rows[(actor._meta.label_lower, actor.pk)] = actor
    wanted: dict[str, set[int]] = {}
    for event in events:
        kind = _kinds.get(event.kind)
        if kind is None:
            continue
        data = _data(event)
        for key, model in kind.refs.items():
            pk = _row_id(data.get(key))
            if pk is not None and (model, pk) not in rows:
                wanted.setdefault(model, set()).add(pk)
    for model, pks in sorted(wanted.items()):
        manager = apps.get_model(model)._default_manager
        for pk, row in manager.in_bulk(sorted(pks)).items():
            rows[(model, pk)] = row
    return EventNames(rows)


@dataclass(frozen=True)
class EventLine:
    """One event as the timeline shows it: a sentence, and why (when the event says)."""

    text: str
    reason: str = ""


def _fallback(event: CaseEvent, label: str | Promise) -> str:
    """A kind that does not describe its events reads as its label, with a plain before →
    after or a case reference when its data has one."""
    data = _data(event)
    before, after = data.get("before"), data.get("after")
    if after and before is not None and all(isinstance(v, str | int) for v in (before, after)):
        return f"{label}: {before} → {after}"
    if isinstance(data.get("reference"), str):
        return f"{label}: {data['reference']}"
    return str(label)


def _sentence(event: CaseEvent, names: EventNames) -> str | EventLine:
    kind = _kinds.get(event.kind)
    if kind is None:
        return event.kind.replace("_", " ").capitalize()
    if kind.describe is not None:
        try:
            return kind.describe(event, names)
        except (KeyError, TypeError, ValueError, AttributeError):
            # The log is append-only and kept for years: an event written before its kind's
            # data changed shape still reads, as its label.
            pass
    return _fallback(event, kind.label)


def _same_reason(a: str, b: str) -> bool:
    """Whether two reasons say the same thing: equal, or one is the other with a prefix
    ("triage: …" on each field a triage pass changed, "…" on the pass itself)."""
    a, b = a.strip().lower(), b.strip().lower()
    return bool(a and b) and (a.endswith(b) or b.endswith(a))


def event_lines(
    *, events: Sequence[CaseEvent], known: Iterable[Model | None] = ()
) -> dict[int, EventLine]:
    """How each of `events` (in log order) reads, by event id: the kind's sentence and the
    event's reason (a describe hook may word the reason itself by returning an EventLine).
    A run of events recorded together for the same reason (a triage pass setting category,
    priority and tags) gives it once, on the run's last event. Queries: those of
    `event_names`."""
    names = event_names(events=events, known=known)
    reasons = [str(_data(event).get("reason") or "").strip() for event in events]
    lines: dict[int, EventLine] = {}
    for index, event in enumerate(events):
        sentence = _sentence(event, names)
        line = sentence if isinstance(sentence, EventLine) else EventLine(sentence, reasons[index])
        following = events[index + 1] if index + 1 < len(events) else None
        if (
            following is not None
            and following.actor_id == event.actor_id
            and _same_reason(reasons[index], reasons[index + 1])
        ):
            line = EventLine(line.text)
        lines[event.pk] = line
    return lines


# --- The core's own kinds ------------------------------------------------------------------


def choice_label(choices: type[Any], value: object) -> str:
    """The label of `value` among Django `choices`, or the value itself, words spaced."""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value).replace("_", " ")


def _was(names: EventNames, event: CaseEvent) -> str:
    before = names.name(event, "before")
    return _(" (was %(before)s)") % {"before": before} if before else ""


def _status(event: CaseEvent, names: EventNames) -> str:
    data = _data(event)
    return _("Status: %(before)s → %(after)s") % {
        "before": choice_label(Status, data["before"]),
        "after": choice_label(Status, data["after"]),
    }


def _priority(event: CaseEvent, names: EventNames) -> str:
    data = _data(event)
    return _("Priority: %(before)s → %(after)s") % {
        "before": choice_label(Priority, data["before"]),
        "after": choice_label(Priority, data["after"]),
    }


def _field(noun: str) -> Callable[[CaseEvent, EventNames], str]:
    """A field naming a row reads as "Team: Billing (was Returns)" or "Team removed"
    (`noun` is marked with gettext_noop and translated when the event is read)."""

    def describe(event: CaseEvent, names: EventNames) -> str:
        after = names.name(event, "after")
        if not after:
            return _("%(noun)s removed") % {"noun": _(noun)} + _was(names, event)
        return f"{_(noun)}: {after}{_was(names, event)}"

    return describe


def _owner_assigned(event: CaseEvent, names: EventNames) -> str:
    data = _data(event)
    if (
        event.actor_id is not None
        and data.get("after") == event.actor_id
        and not data.get("before")
    ):
        return _("Became the owner")
    return _field(gettext_noop("Owner"))(event, names)


def _assignee(event: CaseEvent, names: EventNames) -> str:
    after = names.name(event, "after")
    if after:
        return _("Assigned to %(name)s") % {"name": after} + _was(names, event)
    return _("Unassigned") + _was(names, event)


def _owner_transferred(event: CaseEvent, names: EventNames) -> str:
    before = names.name(event, "before")
    after = names.name(event, "after")
    if before:
        return _("Ownership passed from %(before)s to %(after)s") % {
            "before": before,
            "after": after,
        }
    return _("Owner: %(name)s") % {"name": after}


def _tags(event: CaseEvent, names: EventNames) -> str:
    data = _data(event)
    before, after = list(data.get("before") or []), list(data.get("after") or [])
    added = [tag for tag in after if tag not in before]
    removed = [tag for tag in before if tag not in after]
    parts = []
    if added:
        parts.append(_("Tagged %(tags)s") % {"tags": ", ".join(added)})
    if removed:
        untagged = _("untagged %(tags)s") if parts else _("Untagged %(tags)s")
        parts.append(untagged % {"tags": ", ".join(removed)})
    return "; ".join(parts) or _("Tags unchanged")


def _subject(event: CaseEvent, names: EventNames) -> str:
    data = _data(event)
    return _("Subject: “%(after)s” (was “%(before)s”)") % {
        "after": data["after"],
        "before": data["before"],
    }


def _created(event: CaseEvent, names: EventNames) -> str:
    after = _data(event).get("after") or {}
    channel = choice_label(Channel, after.get("channel", ""))
    priority = choice_label(Priority, after.get("priority", Priority.NORMAL))
    return _("Case opened (%(channel)s, %(priority)s priority)") % {
        "channel": channel,
        "priority": priority.lower(),
    }


def _attachment(event: CaseEvent, names: EventNames) -> str:
    return _("Attachment added: %(name)s") % {"name": _data(event)["filename"]}


def _delivery(event: CaseEvent, names: EventNames) -> str:
    data = _data(event)
    after = data["after"]
    if after == Message.Delivery.SENT:
        return _("Reply delivered")
    if after == Message.Delivery.FAILED:
        error = str(data.get("error") or "").strip()
        return _("Delivery failed: %(error)s") % {"error": error} if error else _("Delivery failed")
    if after == Message.Delivery.NOT_APPLICABLE:
        return _("Not sent out: no sender is set up for this channel")
    return _("Delivery: %(state)s") % {"state": choice_label(Message.Delivery, after)}


def _merged_into(event: CaseEvent, names: EventNames) -> str:
    return _("Merged into %(reference)s") % {"reference": _data(event)["reference"]}


def _merged_from(event: CaseEvent, names: EventNames) -> str:
    return _("%(reference)s merged into this case") % {"reference": _data(event)["reference"]}


USER, TEAM, CATEGORY, CUSTOMER = (
    "accounts.User",
    "accounts.Team",
    "cases.Category",
    "customers.Customer",
)
_CORE: dict[str, tuple[Describe | None, dict[str, str]]] = {
    CaseEvent.Kind.CREATED: (_created, {}),
    CaseEvent.Kind.STATUS_CHANGED: (_status, {}),
    CaseEvent.Kind.OWNER_ASSIGNED: (_owner_assigned, {"before": USER, "after": USER}),
    CaseEvent.Kind.OWNER_TRANSFERRED: (_owner_transferred, {"before": USER, "after": USER}),
    CaseEvent.Kind.CATEGORY_CHANGED: (
        _field(gettext_noop("Category")),
        {"before": CATEGORY, "after": CATEGORY},
    ),
    CaseEvent.Kind.PRIORITY_CHANGED: (_priority, {}),
    CaseEvent.Kind.TEAM_CHANGED: (_field(gettext_noop("Team")), {"before": TEAM, "after": TEAM}),
    CaseEvent.Kind.ASSIGNEE_CHANGED: (_assignee, {"before": USER, "after": USER}),
    CaseEvent.Kind.TAGS_CHANGED: (_tags, {}),
    CaseEvent.Kind.SUBJECT_CHANGED: (_subject, {}),
    CaseEvent.Kind.CUSTOMER_CHANGED: (
        _field(gettext_noop("Customer")),
        {"before": CUSTOMER, "after": CUSTOMER},
    ),
    CaseEvent.Kind.ATTACHMENT_ADDED: (_attachment, {}),
    CaseEvent.Kind.DELIVERY_CHANGED: (_delivery, {}),
    CaseEvent.Kind.MERGED_INTO: (_merged_into, {}),
    CaseEvent.Kind.MERGED_FROM: (_merged_from, {}),
}

for _choice in CaseEvent.Kind:
    _describe, _refs = _CORE.get(_choice.value, (None, {}))
    event_kind(_choice.value, _choice.label, describe=_describe, refs=_refs)
