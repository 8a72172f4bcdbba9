"""The one shape every desk's export is read into before anything is written: people,
organizations, teams and tickets with their messages, in the desk's own ids. A reader
that cannot make sense of a record yields a `Problem` instead, and the import goes on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime


class BadRecord(ValueError):
    """A record an import cannot use, with the reason it says."""


@dataclass(frozen=True)
class Problem:
    kind: str
    external_id: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.external_id, "reason": self.reason}


@dataclass
class Organization:
    external_id: str
    name: str


@dataclass
class Team:
    external_id: str
    name: str
    member_ids: list[str] = field(default_factory=list)


@dataclass
class Person:
    """Someone the other desk knew: a customer (end user) or staff (agent, manager, admin)."""

    external_id: str
    name: str = ""
    email: str = ""
    phone: str = ""
    role: str = "customer"
    organization_id: str = ""
    team_ids: list[str] = field(default_factory=list)

    @property
    def is_staff(self) -> bool:
        return self.role in ("agent", "manager", "admin")


@dataclass
class AttachmentRef:
    """An attachment as the export names it: a file beside the export or a URL to fetch."""

    filename: str
    url: str = ""
    path: str = ""
    content_type: str = ""


@dataclass
class Message:
    external_id: str
    direction: str  # inbound, outbound or note (cases.Message.Direction)
    created_at: datetime
    text: str = ""
    html: str = ""
    author_id: str = ""
    attachments: list[AttachmentRef] = field(default_factory=list)


@dataclass
class Rating:
    score: int  # 1-5
    comment: str = ""
    created_at: datetime | None = None


@dataclass
class Ticket:
    external_id: str
    subject: str
    status: str  # cases.Status
    created_at: datetime
    requester_id: str = ""
    priority: str = "normal"
    channel: str = "email"
    assignee_id: str = ""
    team_id: str = ""
    organization_id: str = ""
    tags: list[str] = field(default_factory=list)
    category: str = ""
    updated_at: datetime | None = None
    messages: list[Message] = field(default_factory=list)
    rating: Rating | None = None
    # A requester the export names only inline (CSV rows): used when requester_id is unknown.
    requester: Person | None = None


TicketOrProblem = Ticket | Problem
Tickets = Iterator[TicketOrProblem]


def when(value: object, *, what: str = "date") -> datetime:
    """An export's timestamp as an aware datetime (UTC when it names no zone); a
    `BadRecord` when it is missing or unreadable."""
    if isinstance(value, datetime):
        parsed: datetime | None = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        parsed = datetime.fromtimestamp(value, tz=UTC)
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace(" UTC", "+00:00")
        try:
            parsed = parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                parsed = None
    else:
        parsed = None
    if parsed is None:
        raise BadRecord(f"unparseable {what} {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def ident(value: object) -> str:
    """An id as the import keeps it: the text of an int or string, "" for none."""
    if value is None or value == "":
        return ""
    return str(value)
