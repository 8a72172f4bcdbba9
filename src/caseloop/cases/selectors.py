"""Reads for cases: querysets already joined, and fetches that check permission."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from caseloop.accounts.models import Team, User
from caseloop.lib.errors import DomainError, ErrorKind

from .models import Attachment, Case, CaseEvent, Category, Message


def case_base_queryset() -> QuerySet[Case]:
    return Case.objects.select_related(
        "customer", "owner", "assignee", "team", "category", "triage"
    ).prefetch_related("tags")


def case_visible_to(*, user: User | AnonymousUser | None) -> QuerySet[Case]:
    """Cases `user` may see: staff see every case; a customer only their own."""
    cases = case_base_queryset()
    if user is None or not user.is_authenticated:
        return cases.none()
    if user.is_agent_like:
        return cases
    if user.customer_id is None:
        return cases.none()
    return cases.filter(customer_id=user.customer_id)


def case_get_for_user(*, user: User | AnonymousUser | None, case_id: int | str) -> Case:
    """The case, if `user` may see it; 404 otherwise, so existence is not leaked."""
    pk = (
        case_id
        if isinstance(case_id, int)
        else (Case.pk_from_reference(case_id) or (int(case_id) if _is_id(str(case_id)) else None))
    )
    if pk is None:
        raise Http404("No such case.")
    try:
        return case_visible_to(user=user).get(pk=pk)
    except Case.DoesNotExist as exc:
        raise Http404("No such case.") from exc


@dataclass(frozen=True)
class CaseFilters:
    status: str = ""
    team: str = ""
    owner: str = ""
    assignee: str = ""
    customer: int | None = None
    category: str = ""
    priority: str = ""
    q: str = ""


def _cursor_decode(cursor: str) -> int | None:
    if not cursor:
        return None
    try:
        return int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
    except (ValueError, UnicodeDecodeError):
        return None


def cursor_encode(pk: int) -> str:
    return base64.urlsafe_b64encode(str(pk).encode()).decode().rstrip("=")


class InvalidCursor(DomainError, ValueError):
    code = "invalid_cursor"
    kind = ErrorKind.INVALID
    field = "cursor"


# Ids beyond a 64-bit integer match nothing; SQLite would refuse to bind them.
MAX_ID = 2**63 - 1


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and int(value) <= MAX_ID


def _id_of(model: type[Team] | type[User] | type[Category], **lookup: Any) -> Subquery:
    """The id of the row matching `lookup`, as a scalar subquery: the database knows the id
    before it plans the scan, so the (team|owner|…, status, -id) indexes serve the filter."""
    return Subquery(model.objects.filter(**lookup).values("id")[:1])


def case_list(
    *, user: User | AnonymousUser | None, filters: CaseFilters, cursor: str = "", limit: int = 50
) -> tuple[list[Case], str | None]:
    """A page of cases newest first, keyset-paginated on id so inserts never shift pages.
    Returns (cases, next_cursor)."""
    cases = case_visible_to(user=user)
    if filters.status:
        cases = cases.filter(status__in=filters.status.split(","))
    if filters.team:
        cases = (
            cases.filter(team_id=_id_of(Team, slug=filters.team))
            if not _is_id(filters.team)
            else cases.filter(team_id=int(filters.team))
        )
    if filters.owner:
        if filters.owner == "none":
            cases = cases.filter(owner__isnull=True)
        elif _is_id(filters.owner):
            cases = cases.filter(owner_id=int(filters.owner))
        else:
            cases = cases.filter(owner_id=_id_of(User, username=filters.owner))
    if filters.assignee:
        if filters.assignee == "none":
            cases = cases.filter(assignee__isnull=True)
        elif _is_id(filters.assignee):
            cases = cases.filter(assignee_id=int(filters.assignee))
        else:
            cases = cases.filter(assignee_id=_id_of(User, username=filters.assignee))
    if filters.customer:
        cases = (
            cases.filter(customer_id=filters.customer)
            if filters.customer <= MAX_ID
            else cases.none()
        )
    if filters.category:
        cases = (
            cases.filter(category_id=_id_of(Category, slug=filters.category))
            if not _is_id(filters.category)
            else cases.filter(category_id=int(filters.category))
        )
    if filters.priority:
        cases = cases.filter(priority__in=filters.priority.split(","))
    if filters.q:
        pk = Case.pk_from_reference(filters.q)
        cases = cases.filter(pk=pk) if pk else cases.filter(subject__icontains=filters.q)
    if cursor:
        after = _cursor_decode(cursor)
        if after is None:
            raise InvalidCursor("the cursor is not one this API returned")
        cases = cases.filter(pk__lt=after)
    page = list(cases.order_by("-id")[: limit + 1])
    next_cursor = cursor_encode(page[limit - 1].pk) if len(page) > limit else None
    return page[:limit], next_cursor


def case_messages(*, case: Case, user: User) -> QuerySet[Message]:
    """The case's messages; customers never see internal notes."""
    messages = (
        Message.objects.filter(case=case)
        .select_related("author_user", "author_customer")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )
    if not user.is_agent_like:
        messages = messages.exclude(direction=Message.Direction.NOTE)
    return messages


def case_events(*, case: Case) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(case=case).select_related("actor").order_by("id")


def customer_cases(*, customer_id: int) -> QuerySet[Case]:
    return case_base_queryset().filter(customer_id=customer_id).order_by("-id")


def case_counts_by_status(*, user: User | AnonymousUser | None) -> dict[str, int]:

    rows = case_visible_to(user=user).order_by().values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def case_search_q(q: str) -> Q:
    return Q(subject__icontains=q) | Q(reference__iexact=q)
