"""Writes of an import, second part: tickets become cases with their messages,
attachments, tags, category, rating and one `imported` event, in batches of one
transaction each, straight into the tables (no hook runs)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename, slugify

from caseloop.cases.models import (
    FINISHED_STATUSES,
    Attachment,
    Case,
    CaseEvent,
    Category,
    Channel,
    Message,
    Priority,
    Status,
    Tag,
)
from caseloop.customers.errors import InvalidContactPoint
from caseloop.customers.services import Identity, customer_find_or_create
from caseloop.insights.models import SatisfactionRating
from caseloop.lib.html import html_sanitize, html_to_text

from . import records as rec
from .events import IMPORTED
from .people import Kind, PeopleWriter, unique_name
from .sources.base import SourceError

logger = logging.getLogger(__name__)


@contextmanager
def original_times() -> Iterator[None]:
    """Lets the import write the other desk's times into the fields that otherwise take the
    time of the insert (`auto_now_add`/`auto_now`). For the import's own process only: the
    flags are the models' and are put back on the way out."""
    fields = [
        Case._meta.get_field("created_at"),
        Case._meta.get_field("updated_at"),
        Message._meta.get_field("created_at"),
        Attachment._meta.get_field("created_at"),
        CaseEvent._meta.get_field("created_at"),
        SatisfactionRating._meta.get_field("created_at"),
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class HistoryWriter(PeopleWriter):
    """Writes the whole history: the people first (`PeopleWriter`), then the tickets."""

    def tickets(self, rows: Iterable[rec.Ticket | rec.Problem], stop_after: int | None) -> None:
        self.tags = {t.name.lower(): t.pk for t in Tag.objects.all()}
        self.categories = {c.name.lower(): c.pk for c in Category.objects.all()}
        batch: list[rec.Ticket] = []
        for row in rows:
            if isinstance(row, rec.Problem):
                self.report.problem(row)
                self._advance(1)
                continue
            batch.append(row)
            if len(batch) >= self.batch_size:
                self.ticket_batch(batch)
                batch = []
                if stop_after is not None and self.report.batches >= stop_after:
                    self.report.stopped_early = True
                    return
        if batch:
            self.ticket_batch(batch)

    def _advance(self, n: int) -> None:
        if self.progress is not None:
            self.progress(n)

    def ticket_batch(self, tickets: list[rec.Ticket]) -> None:
        cases_done = self.mapped(Kind.CASE)
        todo: dict[str, rec.Ticket] = {}
        for ticket in tickets:
            if ticket.external_id in cases_done or ticket.external_id in todo:
                self.report.skipped["cases"] += 1
            else:
                todo[ticket.external_id] = ticket
        if todo:
            counted = self._counted()
            try:
                with transaction.atomic():
                    self._write(list(todo.values()))
            except Exception:  # noqa: BLE001 - one record the database refuses must not stop the rest
                self._rolled_back(counted)
                for ticket in todo.values():
                    self._write_alone(ticket)
        self.report.batches += 1
        self._advance(len(tickets))

    def _write_alone(self, ticket: rec.Ticket) -> None:
        """A ticket of a batch the database refused, on its own: refused again, it is
        reported with the database's reason and the import goes on."""
        counted = self._counted()
        try:
            with transaction.atomic():
                self._write([ticket])
        except Exception as error:  # noqa: BLE001 - reported with its reason, never a crash
            logger.warning("ticket %s not imported: %s", ticket.external_id, error)
            self._rolled_back(counted)
            self.report.problem(rec.Problem("ticket", ticket.external_id, f"refused: {error}"))

    def _counted(self) -> tuple[Counter[str], int]:
        return self.report.created.copy(), len(self.report.problems)

    def _rolled_back(self, counted: tuple[Counter[str], int]) -> None:
        """After a rollback: forget what was counted and remembered since `counted` (the
        ids remembered in memory may name rows that are gone)."""
        self.report.created = counted[0]
        del self.report.problems[counted[1] :]
        self.maps = {}
        self.tags = {t.name.lower(): t.pk for t in Tag.objects.all()}
        self.categories = {c.name.lower(): c.pk for c in Category.objects.all()}

    def _customer_for(self, ticket: rec.Ticket) -> int | None:
        customers = self.mapped(Kind.CUSTOMER)
        if ticket.requester_id in customers:
            return customers[ticket.requester_id]
        inline = ticket.requester
        email = self.agent_emails.get(ticket.requester_id, "")
        if inline is None and email:
            inline = rec.Person(external_id=ticket.requester_id, email=email)
        if inline is None:
            return None
        try:
            identity = Identity(email=inline.email, phone=inline.phone, name=inline.name)
            customer = customer_find_or_create(identity=identity)
        except InvalidContactPoint:
            return None
        self.remember(Kind.CUSTOMER, [(ticket.requester_id, customer.pk)])
        return customer.pk

    def _ids(self, names: list[str], cache: dict[str, int], create: Callable) -> list[int]:
        ids = []
        for name in names:
            name = name.strip()
            if not name:
                continue
            if name.lower() not in cache:
                cache[name.lower()] = create(name).pk
                self.report.created["tags" if cache is self.tags else "categories"] += 1
            ids.append(cache[name.lower()])
        return list(dict.fromkeys(ids))

    def _write(self, tickets: list[rec.Ticket]) -> None:
        agents, teams = self.mapped(Kind.AGENT), self.mapped(Kind.TEAM)
        customers = self.mapped(Kind.CUSTOMER)
        now = timezone.now()
        cases: list[tuple[rec.Ticket, Case, list[int]]] = []
        for ticket in tickets:
            customer_id = self._customer_for(ticket)
            if customer_id is None:
                self.report.problem(
                    rec.Problem(
                        "ticket",
                        ticket.external_id,
                        f"missing requester {ticket.requester_id or '(none)'}",
                    )
                )
                continue
            if ticket.status not in Status.values:
                self.report.problem(
                    rec.Problem("ticket", ticket.external_id, f"unknown status {ticket.status!r}")
                )
                continue
            thread = sorted(ticket.messages, key=lambda m: m.created_at)
            inbound = [m for m in thread if m.direction == Message.Direction.INBOUND]
            outbound = [m for m in thread if m.direction == Message.Direction.OUTBOUND]
            last = thread[-1].created_at if thread else ticket.created_at
            updated = max(ticket.updated_at or last, last)
            awaiting = None
            if ticket.status in (Status.NEW, Status.OPEN, Status.PENDING_INTERNAL):
                answered = outbound[-1].created_at if outbound else None
                waiting = [m for m in inbound if answered is None or m.created_at > answered]
                awaiting = waiting[0].created_at if waiting else None
            category = self._ids(
                [ticket.category[:100]] if ticket.category else [],
                self.categories,
                _category_create,
            )
            owner = agents.get(ticket.assignee_id)
            case = Case(
                subject=_nul_free(ticket.subject.strip() or _first_line(thread))[:300],
                customer_id=customer_id,
                channel=ticket.channel if ticket.channel in Channel.values else Channel.EMAIL,
                status=ticket.status,
                priority=ticket.priority if ticket.priority in Priority.values else Priority.NORMAL,
                category_id=category[0] if category else None,
                team_id=teams.get(ticket.team_id),
                owner_id=owner,
                assignee_id=owner,
                created_at=ticket.created_at,
                updated_at=updated,
                first_response_at=outbound[0].created_at if outbound else None,
                solved_at=updated if ticket.status in FINISHED_STATUSES else None,
                closed_at=updated if ticket.status == Status.CLOSED else None,
                last_customer_message_at=inbound[-1].created_at if inbound else ticket.created_at,
                awaiting_reply_since=awaiting,
            )
            tags = self._ids([t[:64] for t in ticket.tags], self.tags, _tag_create)
            ticket.messages = thread
            cases.append((ticket, case, tags))
        if not cases:
            return
        Case.objects.bulk_create([case for _, case, _ in cases])
        Case.tags.through.objects.bulk_create(
            [
                Case.tags.through(case_id=case.pk, tag_id=tag)
                for _, case, tags in cases
                for tag in tags
            ]
        )
        messages: list[Message] = []
        files: list[tuple[Message, list[tuple[rec.AttachmentRef, bytes]]]] = []
        for ticket, case, _ in cases:
            for m in ticket.messages:
                incoming = m.direction == Message.Direction.INBOUND
                clean = html_sanitize(m.html) if m.html else ""
                metadata: dict[str, Any] = {"imported": {"source": self.key, "id": m.external_id}}
                if self.attachments:
                    fetched, failed = self._attachments(m.attachments)
                else:
                    fetched, failed = [], []
                    if m.attachments:
                        metadata["attachments_not_fetched"] = [
                            _failure(ref, "--no-attachments") for ref in m.attachments
                        ]
                if failed:
                    metadata["attachments_failed"] = failed
                    for item in failed:
                        self.report.problem(
                            rec.Problem(
                                "attachment",
                                f"{ticket.external_id}/{item['filename']}",
                                item["error"],
                            )
                        )
                author_user = None if incoming else agents.get(m.author_id)
                message = Message(
                    case=case,
                    direction=m.direction,
                    channel=case.channel,
                    text=_nul_free(m.text or html_to_text(clean)),
                    html=_nul_free(clean),
                    raw=_nul_free(m.html or m.text),
                    metadata=metadata,
                    author_user_id=author_user,
                    author_customer_id=(customers.get(m.author_id) or case.customer_id)
                    if incoming
                    else None,
                    created_at=m.created_at,
                )
                messages.append(message)
                if fetched:
                    files.append((message, fetched))
        Message.objects.bulk_create(messages, batch_size=1000)
        self.report.created["messages"] += len(messages)
        stored = []
        for message, fetched in files:
            for ref, content in fetched:
                name = get_valid_filename(ref.filename) or "attachment"
                attachment = Attachment(
                    case_id=message.case_id,
                    message=message,
                    filename=name[:255],
                    content_type=(ref.content_type or "application/octet-stream")[:200],
                    size=len(content),
                    created_at=message.created_at,
                )
                if self.report.dry_run:
                    attachment.file.name = name
                else:
                    attachment.file.save(name, ContentFile(content), save=False)
                stored.append(attachment)
        Attachment.objects.bulk_create(stored)
        self.report.created["attachments"] += len(stored)
        ratings = [
            SatisfactionRating(
                case=case,
                customer_id=case.customer_id,
                score=ticket.rating.score,
                comment=ticket.rating.comment,
                channel="imported",
                created_at=ticket.rating.created_at or case.updated_at,
            )
            for ticket, case, _ in cases
            if ticket.rating is not None and 1 <= ticket.rating.score <= 5
        ]
        SatisfactionRating.objects.bulk_create(ratings)
        self.report.created["ratings"] += len(ratings)
        CaseEvent.objects.bulk_create(
            [
                CaseEvent(
                    case=case,
                    kind=IMPORTED,
                    created_at=ticket.created_at,
                    data={
                        "source": self.key,
                        "source_id": ticket.external_id,
                        "imported_at": now.isoformat(),
                        "status": ticket.status,
                        "messages": len(ticket.messages),
                    },
                )
                for ticket, case, _ in cases
            ],
            batch_size=1000,
        )
        self.remember(Kind.CASE, [(ticket.external_id, case.pk) for ticket, case, _ in cases])

    def _attachments(
        self, refs: list[rec.AttachmentRef]
    ) -> tuple[list[tuple[rec.AttachmentRef, bytes]], list[dict[str, str]]]:
        """The attachments' bytes, and those that could not be had with the reason. A dry
        run fetches nothing (each counts as stored, empty)."""
        fetched: list[tuple[rec.AttachmentRef, bytes]] = []
        failed: list[dict[str, str]] = []
        for ref in refs:
            if len(fetched) >= settings.MAX_ATTACHMENTS_PER_MESSAGE:
                failed.append(_failure(ref, "more attachments than a message may hold"))
                continue
            if self.report.dry_run:
                fetched.append((ref, b""))
                continue
            try:
                content = self.source.fetch(ref.path or ref.url)
            except (SourceError, OSError) as error:
                failed.append(_failure(ref, str(error)))
                continue
            if len(content) > settings.MAX_ATTACHMENT_BYTES:
                failed.append(_failure(ref, f"{len(content)} bytes, over the limit"))
            else:
                fetched.append((ref, content))
        return fetched, failed


def _failure(ref: rec.AttachmentRef, error: str) -> dict[str, str]:
    return {"filename": ref.filename, "url": ref.url or ref.path, "error": error}


def _nul_free(text: str) -> str:
    """PostgreSQL's text holds no NUL character; exports sometimes do."""
    return text.replace("\x00", "")


def _first_line(messages: list[rec.Message]) -> str:
    for m in messages:
        for line in (m.text or html_to_text(m.html)).splitlines():
            if line.strip():
                return line.strip()[:120]
    return "(no subject)"


def _tag_create(name: str) -> Tag:
    return Tag.objects.get_or_create(name=name)[0]


def _category_create(name: str) -> Category:
    found = Category.objects.filter(name__iexact=name).first()
    if found is not None:
        return found
    taken = set(Category.objects.values_list("slug", flat=True))
    return Category.objects.create(name=name, slug=unique_name(slugify(name)[:90], taken))
