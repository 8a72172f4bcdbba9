"""Zendesk: a directory of its JSON/NDJSON export (`tickets`, `users`, `organizations`,
`groups`, `ticket_comments`, or comments embedded in each ticket) or its REST API (v2:
users, organizations and groups paged by `next_page`, tickets from the incremental cursor
export, each ticket's comments)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
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
from .base import ApiClient, Source, SourceError, basic_auth

STATUSES = {
    "new": "new",
    "open": "open",
    "pending": "pending_customer",
    "hold": "pending_internal",
    "solved": "solved",
    "closed": "closed",
}
PRIORITIES = {"low": "low", "normal": "normal", "high": "high", "urgent": "urgent"}
ROLES = {"end-user": "customer", "agent": "agent", "admin": "admin"}
CHANNELS = {
    "email": "email",
    "web": "web",
    "web_form": "web",
    "chat": "chat",
    "native_messaging": "chat",
    "voice": "phone",
    "phone": "phone",
    "api": "api",
    "twitter": "social",
    "facebook": "social",
    "instagram_dm": "social",
    "whatsapp": "social",
}
RATINGS = {"good": 5, "bad": 1}


def _follow(client: ApiClient, path: str, key: str) -> Iterator[dict[str, Any]]:
    """A Zendesk list: offset pages (`next_page`), cursor pages (`meta.has_more`,
    `links.next`) and the incremental export (`after_url` until `end_of_stream`)."""
    url: str | None = client.url(path)
    seen: set[str] = set()
    while url and url not in seen:
        seen.add(url)
        page = client.get(url)
        if not isinstance(page, dict):
            raise SourceError(f"{path} did not answer an object")
        yield from (row for row in page.get(key) or [] if isinstance(row, dict))
        if "end_of_stream" in page:
            url = None if page.get("end_of_stream") else page.get("after_url")
        elif (page.get("meta") or {}).get("has_more"):
            url = (page.get("links") or {}).get("next")
        else:
            url = page.get("next_page")


class ZendeskSource(Source):
    kind = "zendesk"

    def __init__(
        self,
        *,
        directory: str | Path | None = None,
        url: str = "",
        email: str = "",
        token: str = "",
        category_field: str = "",
        key: str = "",
    ) -> None:
        super().__init__(key=key)
        self._connect(
            directory=directory,
            url=url,
            headers={"Authorization": basic_auth(f"{email}/token", token)},
        )
        self.category_field = category_field
        self.staff: set[str] = set()

    def _records(self, stem: str, path: str, key: str = "") -> Iterator[dict[str, Any]]:
        if self.export is not None:
            return self.export.records(stem, key or stem)
        assert self.client is not None
        return _follow(self.client, path, key or stem)

    def organizations(self) -> Iterable[Organization]:
        for row in self._records("organizations", "/api/v2/organizations.json"):
            if ident(row.get("id")) and row.get("name"):
                yield Organization(ident(row["id"]), str(row["name"]))

    def teams(self) -> Iterable[Team]:
        members: dict[str, list[str]] = defaultdict(list)
        for row in self._records("group_memberships", "/api/v2/group_memberships.json"):
            members[ident(row.get("group_id"))].append(ident(row.get("user_id")))
        for row in self._records("groups", "/api/v2/groups.json"):
            if ident(row.get("id")) and row.get("name") and not row.get("deleted"):
                yield Team(ident(row["id"]), str(row["name"]), members[ident(row["id"])])

    def people(self) -> Iterable[Person | Problem]:
        for row in self._records("users", "/api/v2/users.json"):
            external_id = ident(row.get("id"))
            role = ROLES.get(str(row.get("role") or "end-user"))
            if not external_id:
                yield Problem("user", "", "no id")
                continue
            if role is None:
                yield Problem("user", external_id, f"unknown role {row.get('role')!r}")
                continue
            if role != "customer":
                self.staff.add(external_id)
            yield Person(
                external_id=external_id,
                name=str(row.get("name") or ""),
                email=str(row.get("email") or ""),
                phone=str(row.get("phone") or ""),
                role=role,
                organization_id=ident(row.get("organization_id")),
                team_ids=[ident(g) for g in row.get("group_ids") or []],
            )

    def ticket_total(self) -> int | None:
        return self.export.count("tickets") if self.export is not None else None

    def tickets(self) -> Tickets:
        comments: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if self.export is not None:
            for stem in ("ticket_comments", "comments"):
                for row in self.export.records(stem, "comments"):
                    comments[ident(row.get("ticket_id"))].append(row)
        rows = (
            self.export.records("tickets")
            if self.export is not None
            else self._records("tickets", "/api/v2/incremental/tickets/cursor.json?start_time=0")
        )
        for row in rows:
            external_id = ident(row.get("id"))
            try:
                if self.export is None and row.get("status") not in (None, "deleted"):
                    assert self.client is not None
                    own = list(
                        _follow(
                            self.client, f"/api/v2/tickets/{external_id}/comments.json", "comments"
                        )
                    )
                else:
                    own = row.get("comments") or comments.pop(external_id, [])
                yield self.ticket(row, own)
            except BadRecord as error:
                yield Problem("ticket", external_id, str(error))

    def ticket(self, row: dict[str, Any], comments: list[dict[str, Any]]) -> Ticket:
        external_id = ident(row.get("id"))
        if not external_id:
            raise BadRecord("no id")
        status = STATUSES.get(str(row.get("status") or ""))
        if status is None:
            raise BadRecord(f"unknown status {row.get('status')!r}")
        requester = ident(row.get("requester_id"))
        if not requester:
            raise BadRecord("missing requester")
        created = when(row.get("created_at"), what="created_at")
        messages = []
        for comment in sorted(comments, key=lambda c: str(c.get("created_at") or "")):
            author = ident(comment.get("author_id"))
            if comment.get("public") is False:
                direction = "note"
            elif author in self.staff:
                direction = "outbound"
            else:
                direction = "inbound"
            messages.append(
                Message(
                    external_id=ident(comment.get("id")),
                    direction=direction,
                    created_at=when(comment.get("created_at"), what="comment created_at"),
                    text=str(comment.get("plain_body") or comment.get("body") or ""),
                    html=str(comment.get("html_body") or ""),
                    author_id=author,
                    attachments=[
                        AttachmentRef(
                            filename=str(a.get("file_name") or "attachment"),
                            url=str(a.get("content_url") or ""),
                            content_type=str(a.get("content_type") or ""),
                        )
                        for a in comment.get("attachments") or []
                        if isinstance(a, dict)
                    ],
                )
            )
        if not messages:
            messages.append(
                Message(
                    external_id="",
                    direction="inbound",
                    created_at=created,
                    text=str(row.get("description") or ""),
                    author_id=requester,
                )
            )
        rating = None
        satisfaction = row.get("satisfaction_rating")
        if isinstance(satisfaction, dict) and satisfaction.get("score") in RATINGS:
            rating = Rating(
                score=RATINGS[satisfaction["score"]],
                comment=str(satisfaction.get("comment") or ""),
                created_at=messages[-1].created_at,
            )
        category = str(row.get("type") or "")
        if self.category_field:
            for custom in row.get("custom_fields") or row.get("fields") or []:
                if isinstance(custom, dict) and ident(custom.get("id")) == self.category_field:
                    category = str(custom.get("value") or "")
        via: dict[str, Any] = row["via"] if isinstance(row.get("via"), dict) else {}
        return Ticket(
            external_id=external_id,
            subject=str(row.get("subject") or row.get("raw_subject") or ""),
            status=status,
            created_at=created,
            updated_at=when(row["updated_at"]) if row.get("updated_at") else None,
            requester_id=requester,
            priority=PRIORITIES.get(str(row.get("priority") or ""), "normal"),
            channel=CHANNELS.get(str(via.get("channel") or ""), "email"),
            assignee_id=ident(row.get("assignee_id")),
            team_id=ident(row.get("group_id")),
            organization_id=ident(row.get("organization_id")),
            tags=[str(t) for t in row.get("tags") or []],
            category=category.replace("_", " ").strip(),
            messages=messages,
            rating=rating,
        )

    def download(self, url: str) -> bytes:
        if self.client is not None:
            return self.client.download(url)
        return super().download(url)
