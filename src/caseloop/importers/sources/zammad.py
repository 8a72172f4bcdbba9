"""Zammad: a directory of its API's JSON (`tickets`, `ticket_articles` or articles embedded
in each ticket, `users`, `organizations`, `groups`, `roles`) or the API itself (REST v1,
`page`/`per_page`, `Authorization: Token token=…`)."""

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
    Team,
    Ticket,
    Tickets,
    ident,
    when,
)
from .base import Source

STATES = {
    "new": "new",
    "open": "open",
    "pending reminder": "pending_internal",
    "pending close": "pending_customer",
    "closed": "closed",
    "merged": "closed",
}
# Zammad's default states and priorities, for exports that carry only their ids.
STATE_IDS = {
    1: "new",
    2: "open",
    3: "pending reminder",
    4: "closed",
    5: "merged",
    7: "pending close",
}
ATTACHMENT_PATH = "/api/v1/ticket_attachment/{ticket}"
PRIORITIES = {1: "low", 2: "normal", 3: "high"}
ROLE_IDS = {1: "admin", 2: "agent", 3: "customer"}
CHANNELS = {"email": "email", "web": "web", "phone": "phone", "chat": "chat", "sms": "phone"}
CHANNELS.update(
    {"twitter status": "social", "twitter direct-message": "social", "facebook feed post": "social"}
)


def _role(row: dict[str, Any], names: dict[str, str]) -> str:
    given = [str(r).lower() for r in row.get("roles") or [] if isinstance(r, str)]
    given += [
        names.get(ident(r), ROLE_IDS.get(int(r), ""))
        for r in row.get("role_ids") or []
        if str(r).isdigit()
    ]
    if "admin" in given:
        return "admin"
    if "agent" in given:
        return "agent"
    return "customer"


class ZammadSource(Source):
    kind = "zammad"

    def __init__(
        self,
        *,
        directory: str | Path | None = None,
        url: str = "",
        token: str = "",
        key: str = "",
    ) -> None:
        super().__init__(key=key)
        self._connect(
            directory=directory, url=url, headers={"Authorization": f"Token token={token}"}
        )

    def organizations(self) -> Iterable[Organization]:
        for row in self._records("organizations", "/api/v1/organizations"):
            if ident(row.get("id")) and row.get("name"):
                yield Organization(ident(row["id"]), str(row["name"]))

    def teams(self) -> Iterable[Team]:
        for row in self._records("groups", "/api/v1/groups"):
            if ident(row.get("id")) and row.get("name"):
                yield Team(ident(row["id"]), str(row["name"]))

    def people(self) -> Iterable[Person | Problem]:
        names = {
            ident(r.get("id")): str(r.get("name") or "").lower()
            for r in self._records("roles", "/api/v1/roles")
        }
        for row in self._records("users", "/api/v1/users?expand=true"):
            external_id = ident(row.get("id"))
            if not external_id:
                yield Problem("user", "", "no id")
                continue
            groups = row.get("group_ids")
            yield Person(
                external_id=external_id,
                name=f"{row.get('firstname') or ''} {row.get('lastname') or ''}".strip(),
                email=str(row.get("email") or ""),
                phone=str(row.get("phone") or row.get("mobile") or ""),
                role=_role(row, names),
                organization_id=ident(row.get("organization_id")),
                team_ids=[
                    ident(g) for g in (groups.keys() if isinstance(groups, dict) else groups or [])
                ],
            )

    def ticket_total(self) -> int | None:
        return self.export.count("tickets") if self.export is not None else None

    def tickets(self) -> Tickets:
        articles: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if self.export is not None:
            for row in self.export.records("ticket_articles", "articles"):
                articles[ident(row.get("ticket_id"))].append(row)
            rows = self.export.records("tickets")
        else:
            assert self.client is not None
            rows = self.client.pages("/api/v1/tickets?expand=true", "tickets")
        for row in rows:
            external_id = ident(row.get("id"))
            try:
                tags = row.get("tags")
                if self.export is None:
                    assert self.client is not None
                    own = self.client.get(f"/api/v1/ticket_articles/by_ticket/{external_id}")
                    if tags is None:
                        found = self.client.get(
                            "/api/v1/tags", {"object": "Ticket", "o_id": external_id}
                        )
                        tags = found.get("tags") if isinstance(found, dict) else []
                else:
                    own = row.get("articles") or articles.pop(external_id, [])
                yield self.ticket(row, [a for a in own or [] if isinstance(a, dict)], tags or [])
            except BadRecord as error:
                yield Problem("ticket", external_id, str(error))

    def ticket(
        self, row: dict[str, Any], articles: list[dict[str, Any]], tags: list[Any]
    ) -> Ticket:
        external_id = ident(row.get("id"))
        if not external_id:
            raise BadRecord("no id")
        state = row.get("state")
        if not isinstance(state, str):
            state = STATE_IDS.get(int(row.get("state_id") or 0), "")
        status = STATES.get(state.lower())
        if status is None:
            raise BadRecord(f"unknown status {state or row.get('state_id')!r}")
        requester = ident(row.get("customer_id"))
        if not requester:
            raise BadRecord("missing requester")
        created = when(row.get("created_at"), what="created_at")
        priority = row.get("priority")
        if isinstance(priority, str):
            priority_name = priority.split(" ")[-1].lower()
        else:
            priority_name = PRIORITIES.get(int(row.get("priority_id") or 2), "normal")
        messages = []
        for a in sorted(articles, key=lambda a: str(a.get("created_at") or "")):
            sender = str(a.get("sender") or "")
            direction = (
                "note"
                if a.get("internal") or sender == "System"
                else "inbound"
                if sender == "Customer"
                else "outbound"
            )
            body = str(a.get("body") or "")
            html = "html" in str(a.get("content_type") or "")
            messages.append(
                Message(
                    external_id=ident(a.get("id")),
                    direction=direction,
                    created_at=when(a.get("created_at"), what="article created_at"),
                    text="" if html else body,
                    html=body if html else "",
                    author_id=ident(a.get("created_by_id") or a.get("origin_by_id")),
                    attachments=[
                        AttachmentRef(
                            filename=str(f.get("filename") or "attachment"),
                            url=str(
                                f.get("url") or f"{ATTACHMENT_PATH}/{a.get('id')}/{f.get('id')}"
                            ).replace("{ticket}", external_id),
                            path=str(f.get("path") or ""),
                            content_type=str(
                                (f.get("preferences") or {}).get("Content-Type")
                                or f.get("content_type")
                                or ""
                            ),
                        )
                        for f in a.get("attachments") or []
                        if isinstance(f, dict)
                    ],
                )
            )
        channel = "email"
        if articles:
            channel = CHANNELS.get(str(articles[0].get("type") or "").lower(), "email")
        return Ticket(
            external_id=external_id,
            subject=str(row.get("title") or ""),
            status=status,
            created_at=created,
            updated_at=when(row["updated_at"]) if row.get("updated_at") else None,
            requester_id=requester,
            priority=priority_name
            if priority_name in ("low", "normal", "high", "urgent")
            else "normal",
            channel=channel,
            assignee_id=ident(row.get("owner_id")) if ident(row.get("owner_id")) != "1" else "",
            team_id=ident(row.get("group_id")),
            organization_id=ident(row.get("organization_id")),
            tags=[str(t) for t in tags],
            category=str(row.get("category") or ""),
            messages=messages,
        )

    def fetch(self, location: str) -> bytes:
        if self.client is not None and location.startswith("/api/"):
            return self.client.download(location)
        return super().fetch(location)

    def download(self, url: str) -> bytes:
        if self.client is not None:
            return self.client.download(url)
        return super().download(url)
