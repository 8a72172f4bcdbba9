"""Freshdesk: a directory of API v2 JSON (`tickets`, `conversations` or conversations
embedded in each ticket, `contacts`, `companies`, `agents`, `groups`, `roles`,
`satisfaction_ratings`) or the API itself (`page`/`per_page`, the API key as the basic-auth
user with `X` as its password)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

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
    ident,
    when,
)
from .base import Source, basic_auth

STATUSES = {
    2: "open",
    3: "pending_customer",
    4: "solved",
    5: "closed",
    6: "pending_customer",  # "Waiting on customer", a common custom status
    7: "pending_internal",  # "Waiting on third party"
}
PRIORITIES = {1: "low", 2: "normal", 3: "high", 4: "urgent"}
SOURCES = {1: "email", 2: "web", 3: "phone", 7: "chat", 9: "web", 10: "email"}
# The default satisfaction survey's answers, from "extremely happy" down.
RATINGS = {103: 5, 102: 5, 101: 4, 100: 3, -101: 2, -102: 1, -103: 1}


def _attachments(rows: object) -> list[AttachmentRef]:
    return [
        AttachmentRef(
            filename=str(a.get("name") or "attachment"),
            url=str(a.get("attachment_url") or ""),
            content_type=str(a.get("content_type") or ""),
        )
        for a in rows or []  # type: ignore[attr-defined]
        if isinstance(a, dict)
    ]


def _number(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


class FreshdeskSource(Source):
    kind = "freshdesk"

    def __init__(
        self,
        *,
        directory: str | Path | None = None,
        url: str = "",
        api_key: str = "",
        key: str = "",
    ) -> None:
        super().__init__(key=key)
        self._connect(
            directory=directory, url=url, headers={"Authorization": basic_auth(api_key, "X")}
        )

    def organizations(self) -> Iterable[Organization]:
        for row in self._records("companies", "/api/v2/companies"):
            if ident(row.get("id")) and row.get("name"):
                yield Organization(ident(row["id"]), str(row["name"]))

    def teams(self) -> Iterable[Team]:
        for row in self._records("groups", "/api/v2/groups"):
            if ident(row.get("id")) and row.get("name"):
                yield Team(
                    ident(row["id"]),
                    str(row["name"]),
                    member_ids=[ident(a) for a in row.get("agent_ids") or []],
                )

    def people(self) -> Iterable[Person | Problem]:
        roles = {
            ident(r.get("id")): str(r.get("name") or "").lower()
            for r in self._records("roles", "/api/v2/roles")
        }
        for row in self._records("agents", "/api/v2/agents"):
            contact: dict[str, Any] = row["contact"] if isinstance(row.get("contact"), dict) else {}
            names = [roles.get(ident(r), "") for r in row.get("role_ids") or []]
            role = (
                "admin"
                if any("admin" in n for n in names)
                else "manager"
                if any("supervisor" in n or "manager" in n for n in names)
                else "agent"
            )
            yield Person(
                external_id=ident(row.get("id")),
                name=str(contact.get("name") or ""),
                email=str(contact.get("email") or ""),
                phone=str(contact.get("phone") or ""),
                role=role,
                team_ids=[ident(g) for g in row.get("group_ids") or []],
            )
        for row in self._records("contacts", "/api/v2/contacts"):
            if not ident(row.get("id")):
                yield Problem("contact", "", "no id")
                continue
            yield Person(
                external_id=ident(row.get("id")),
                name=str(row.get("name") or ""),
                email=str(row.get("email") or ""),
                phone=str(row.get("phone") or row.get("mobile") or ""),
                organization_id=ident(row.get("company_id")),
            )

    def ticket_total(self) -> int | None:
        return self.export.count("tickets") if self.export is not None else None

    def tickets(self) -> Tickets:
        ratings: dict[str, Rating] = {}
        for row in self._records("satisfaction_ratings", "/api/v2/surveys/satisfaction_ratings"):
            answers: dict[str, Any] = row["ratings"] if isinstance(row.get("ratings"), dict) else {}
            score = RATINGS.get(_number(answers.get("default_question")) or 0)
            if score is not None:
                try:
                    created = when(row.get("created_at"))
                except BadRecord:
                    created = None
                ratings[ident(row.get("ticket_id"))] = Rating(
                    score=score, comment=str(row.get("feedback") or ""), created_at=created
                )
        conversations: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if self.export is not None:
            for row in self.export.records("conversations"):
                conversations[ident(row.get("ticket_id"))].append(row)
            rows = self.export.records("tickets")
        else:
            assert self.client is not None
            rows = self.client.pages(
                "/api/v2/tickets?updated_since=2000-01-01T00:00:00Z&include=description",
                "tickets",
            )
        for row in rows:
            external_id = ident(row.get("id"))
            try:
                if self.export is None:
                    assert self.client is not None
                    own = list(
                        self.client.pages(
                            f"/api/v2/tickets/{external_id}/conversations", "conversations"
                        )
                    )
                else:
                    own = row.get("conversations") or conversations.pop(external_id, [])
                yield self.ticket(row, own, ratings.get(external_id))
            except BadRecord as error:
                yield Problem("ticket", external_id, str(error))

    def ticket(
        self, row: dict[str, Any], conversations: list[dict[str, Any]], rating: Rating | None
    ) -> Ticket:
        external_id = ident(row.get("id"))
        if not external_id:
            raise BadRecord("no id")
        status = STATUSES.get(_number(row.get("status")) or 0)
        if status is None:
            raise BadRecord(f"unknown status {row.get('status')!r}")
        requester = ident(row.get("requester_id"))
        if not requester:
            raise BadRecord("missing requester")
        created = when(row.get("created_at"), what="created_at")
        messages = [
            Message(
                external_id=f"ticket-{external_id}",
                direction="inbound",
                created_at=created,
                text=str(row.get("description_text") or ""),
                html=str(row.get("description") or ""),
                author_id=requester,
                attachments=_attachments(row.get("attachments")),
            )
        ]
        for c in conversations:
            messages.append(
                Message(
                    external_id=ident(c.get("id")),
                    direction="note"
                    if c.get("private")
                    else "inbound"
                    if c.get("incoming")
                    else "outbound",
                    created_at=when(c.get("created_at"), what="conversation created_at"),
                    text=str(c.get("body_text") or ""),
                    html=str(c.get("body") or ""),
                    author_id=ident(c.get("user_id")),
                    attachments=_attachments(c.get("attachments")),
                )
            )
        if rating is not None and rating.created_at is None:
            rating.created_at = messages[-1].created_at
        return Ticket(
            external_id=external_id,
            subject=str(row.get("subject") or ""),
            status=status,
            created_at=created,
            updated_at=when(row["updated_at"]) if row.get("updated_at") else None,
            requester_id=requester,
            priority=PRIORITIES.get(_number(row.get("priority")) or 0, "normal"),
            channel=SOURCES.get(_number(row.get("source")) or 0, "email"),
            assignee_id=ident(row.get("responder_id")),
            team_id=ident(row.get("group_id")),
            organization_id=ident(row.get("company_id")),
            tags=[str(t) for t in row.get("tags") or []],
            category=str(row.get("type") or ""),
            messages=messages,
            rating=rating,
        )

    def download(self, url: str) -> bytes:
        if self.client is not None:
            return self.client.download(url)
        return super().download(url)
