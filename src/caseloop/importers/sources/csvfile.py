"""A spreadsheet any desk can export: one row per message, with a header naming the columns
(`COLUMNS`; the README lists them). Rows of one ticket share its `ticket_id`; the ticket's
fields come from its first row that has them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from caseloop.lib.text import bytes_decode

from ..records import (
    AttachmentRef,
    BadRecord,
    Message,
    Organization,
    Person,
    Problem,
    Rating,
    Team,
    Ticket,
    Tickets,
    when,
)
from .base import Source, SourceError

COLUMNS = (
    "ticket_id",
    "subject",
    "customer_email",
    "customer_name",
    "organization",
    "agent_email",
    "agent_name",
    "team",
    "tags",
    "category",
    "status",
    "priority",
    "direction",
    "sent_at",
    "body",
    "rating",
    "rating_comment",
    "attachments",
)
REQUIRED = ("ticket_id", "direction", "sent_at", "body")
STATUSES = {
    "new": "new",
    "open": "open",
    "pending": "pending_customer",
    "pending_customer": "pending_customer",
    "waiting on customer": "pending_customer",
    "hold": "pending_internal",
    "on hold": "pending_internal",
    "pending_internal": "pending_internal",
    "solved": "solved",
    "resolved": "solved",
    "closed": "closed",
}
DIRECTIONS = {
    "inbound": "inbound",
    "in": "inbound",
    "customer": "inbound",
    "outbound": "outbound",
    "out": "outbound",
    "agent": "outbound",
    "reply": "outbound",
    "note": "note",
    "internal": "note",
    "internal note": "note",
}
PRIORITIES = {
    "low": "low",
    "normal": "normal",
    "medium": "normal",
    "high": "high",
    "urgent": "urgent",
}


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


class CsvSource(Source):
    kind = "csv"

    def __init__(self, *, path: str | Path, key: str = "") -> None:
        super().__init__(key=key)
        self.path = Path(path)
        self.root = self.path.parent
        if not self.path.is_file():
            raise SourceError(f"no such file: {self.path}")
        text, _encoding = bytes_decode(self.path.read_bytes())
        reader = csv.DictReader(io.StringIO(text))
        header = {(name or "").strip().lower() for name in reader.fieldnames or []}
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            raise SourceError(f"{self.path.name} has no column(s) {', '.join(missing)}")
        self.rows: list[tuple[int, dict[str, str]]] = [
            (number, {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k})
            for number, row in enumerate(reader, start=2)
        ]

    def organizations(self) -> Iterable[Organization]:
        names = {row.get("organization", "") for _, row in self.rows} - {""}
        return [Organization(name, name) for name in sorted(names)]

    def teams(self) -> Iterable[Team]:
        names = {row.get("team", "") for _, row in self.rows} - {""}
        return [Team(name, name) for name in sorted(names)]

    def people(self) -> Iterable[Person | Problem]:
        agents: dict[str, Person] = {}
        customers: dict[str, Person] = {}
        for _, row in self.rows:
            email = row.get("agent_email", "").lower()
            if email and email not in agents:
                agents[email] = Person(
                    email, name=row.get("agent_name", ""), email=email, role="agent"
                )
            if email and row.get("team"):
                agents[email].team_ids = list(dict.fromkeys([*agents[email].team_ids, row["team"]]))
            key = self._customer_key(row)
            if key and key not in customers:
                customers[key] = Person(
                    key,
                    name=row.get("customer_name", ""),
                    email=row.get("customer_email", ""),
                    organization_id=row.get("organization", ""),
                )
        return [*agents.values(), *customers.values()]

    @staticmethod
    def _customer_key(row: dict[str, str]) -> str:
        email = row.get("customer_email", "").lower()
        if email:
            return email
        return f"name:{row['customer_name']}" if row.get("customer_name") else ""

    def ticket_total(self) -> int | None:
        return len({row.get("ticket_id") for _, row in self.rows})

    def tickets(self) -> Tickets:
        grouped: dict[str, list[tuple[int, dict[str, str]]]] = {}
        for number, row in self.rows:
            if not row.get("ticket_id"):
                yield Problem("row", str(number), "no ticket_id")
                continue
            grouped.setdefault(row["ticket_id"], []).append((number, row))
        for ticket_id, rows in grouped.items():
            try:
                yield self.ticket(ticket_id, rows)
            except BadRecord as error:
                yield Problem("ticket", ticket_id, str(error))

    def ticket(self, ticket_id: str, rows: list[tuple[int, dict[str, str]]]) -> Ticket:
        def first(column: str) -> str:
            return next((row[column] for _, row in rows if row.get(column)), "")

        requester = next(
            (self._customer_key(row) for _, row in rows if self._customer_key(row)), ""
        )
        if not requester:
            raise BadRecord("missing requester (no customer_email or customer_name)")
        status_text = first("status").lower() or "open"
        status = STATUSES.get(status_text)
        if status is None:
            raise BadRecord(f"unknown status {status_text!r}")
        messages = []
        for number, row in rows:
            direction = DIRECTIONS.get(row.get("direction", "").lower())
            if direction is None:
                raise BadRecord(f"row {number}: unknown direction {row.get('direction')!r}")
            try:
                sent = when(row.get("sent_at"), what="sent_at")
            except BadRecord as error:
                raise BadRecord(f"row {number}: {error}") from None
            messages.append(
                Message(
                    external_id=str(number),
                    direction=direction,
                    created_at=sent,
                    text=row.get("body", ""),
                    author_id=row.get("agent_email", "").lower()
                    if direction != "inbound"
                    else requester,
                    attachments=[
                        AttachmentRef(
                            filename=item.rsplit("/", 1)[-1] or "attachment",
                            url=item if "://" in item else "",
                            path="" if "://" in item else item,
                        )
                        for item in row.get("attachments", "").split()
                    ],
                )
            )
        messages.sort(key=lambda m: m.created_at)
        rating = None
        score = first("rating")
        if score:
            if not score.isdigit() or not 1 <= int(score) <= 5:
                raise BadRecord(f"rating {score!r} is not 1 to 5")
            rating = Rating(int(score), first("rating_comment"), messages[-1].created_at)
        assignee = next(
            (row["agent_email"].lower() for _, row in rows if row.get("agent_email")), ""
        )
        return Ticket(
            external_id=ticket_id,
            subject=first("subject"),
            status=status,
            created_at=messages[0].created_at,
            requester_id=requester,
            priority=PRIORITIES.get(first("priority").lower(), "normal"),
            assignee_id=assignee,
            team_id=first("team"),
            organization_id=first("organization"),
            tags=list(dict.fromkeys(t for _, row in rows for t in _split(row.get("tags", "")))),
            category=first("category"),
            messages=messages,
            rating=rating,
        )
