"""Reads for cases: querysets already joined, and fetches that check permission."""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Prefetch, QuerySet, Subquery
from django.http import Http404

from caseloop.accounts.models import Team, User
from caseloop.lib.errors import DomainError, ErrorKind

from .extensions import case_triage_columns
from .models import PRIORITY_RANK, Attachment, Case, CaseEvent, Category, Message
from .search import case_search_condition

# A list's rows are cases, or dicts of their values (`case_rows_visible_to`).
Row = TypeVar("Row", Case, dict[str, Any])


def case_base_queryset() -> QuerySet[Case]:
    return Case.objects.select_related(
        "customer", "owner", "assignee", "team", "category", "triage"
    ).prefetch_related("tags")


def case_visible_to(*, user: User | AnonymousUser | None) -> QuerySet[Case]:
    """Cases `user` may see: staff see every case; a customer only their own."""
    return _visible(case_base_queryset(), user=user)


def _visible(
    cases: QuerySet[Case, Row], *, user: User | AnonymousUser | None
) -> QuerySet[Case, Row]:
    if user is None or not user.is_authenticated:
        return cases.none()
    if user.is_agent_like:
        return cases
    if user.customer_id is None:
        return cases.none()
    return cases.filter(customer_id=user.customer_id)


def _case_pk(case_id: int | str) -> int:
    """The id `case_id` names (an id or a reference); 404 when it names none."""
    pk = (
        case_id
        if isinstance(case_id, int)
        else (Case.pk_from_reference(case_id) or (int(case_id) if _is_id(str(case_id)) else None))
    )
    if pk is None:
        raise Http404("No such case.")
    return pk


def case_get_for_user(*, user: User | AnonymousUser | None, case_id: int | str) -> Case:
    """The case, if `user` may see it; 404 otherwise, so existence is not leaked."""
    pk = _case_pk(case_id)
    try:
        return case_visible_to(user=user).get(pk=pk)
    except Case.DoesNotExist as exc:
        raise Http404("No such case.") from exc


# --- Rows: what the API shows of a case, read as plain values ---------------------------
# Reads answer from these rather than from model instances: building an instance of the case
# and of each joined row costs more than the query. The triage app adds its columns
# (`case_triage_columns`).

CASE_ROW_COLUMNS = (
    "id",
    "reference",
    "subject",
    "status",
    "channel",
    "priority",
    "category__slug",
    "team__slug",
    "owner_id",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "assignee_id",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
    "customer_id",
    "customer__name",
    "created_at",
    "updated_at",
    "first_response_at",
    "awaiting_reply_since",
    "solved_at",
    "closed_at",
)


@functools.cache
def _case_rows_all() -> QuerySet[Case, dict[str, Any]]:
    # Built once per process and cloned by every read: resolving some forty columns across
    # six joins costs more than running the query they make.
    rows: QuerySet[Case, dict[str, Any]] = Case.objects.values(
        *CASE_ROW_COLUMNS, *case_triage_columns()
    )
    return rows


def case_rows_visible_to(*, user: User | AnonymousUser | None) -> QuerySet[Case, dict[str, Any]]:
    """`case_visible_to` as dicts of CASE_ROW_COLUMNS and the triage columns
    (`case_triage_columns`), one query joining them."""
    return _visible(_case_rows_all(), user=user)


def case_row_get_for_user(
    *, user: User | AnonymousUser | None, case_id: int | str
) -> dict[str, Any]:
    """`case_get_for_user` as a row of `case_rows_visible_to`: the same permission, the
    same 404."""
    pk = _case_pk(case_id)
    try:
        return case_rows_visible_to(user=user).get(pk=pk)
    except Case.DoesNotExist as exc:
        raise Http404("No such case.") from exc


def case_tag_names(*, case_ids: list[int]) -> dict[int, list[str]]:
    """Each case's tag names, sorted, in one query for all of `case_ids`."""
    names: dict[int, list[str]] = {pk: [] for pk in case_ids}
    if not case_ids:
        return names
    through = Case.tags.through.objects.filter(case_id__in=case_ids)
    for case_id, name in through.values_list("case_id", "tag__name"):
        names[case_id].append(name)
    for tags in names.values():
        tags.sort()
    return names


def attachment_get_for_user(
    *, user: User | AnonymousUser | None, case_id: int | str, attachment_id: int
) -> Attachment:
    """The attachment, if `user` may see its case and the message it came with: customers
    reach only the attachments of their own cases' messages, never an internal note's (nor
    one filed without a message). 404 otherwise, so existence is not leaked."""
    case = case_get_for_user(user=user, case_id=case_id)
    if not 0 < attachment_id <= MAX_ID:
        raise Http404("No such attachment.")
    attachments = Attachment.objects.filter(case=case)
    staff = user is not None and user.is_authenticated and user.is_agent_like
    if not staff:
        attachments = attachments.filter(message__isnull=False).exclude(
            message__direction=Message.Direction.NOTE
        )
    try:
        return attachments.get(pk=attachment_id)
    except Attachment.DoesNotExist as exc:
        raise Http404("No such attachment.") from exc


@dataclass(frozen=True)
class CaseFilters:
    """What the API's list and the inbox filter by. `team`, `owner`, `assignee` and
    `category` take an id or a slug/username ("none" for no owner/assignee)."""

    status: str = ""
    priority: str = ""
    channel: str = ""
    team: str = ""
    owner: str = ""
    assignee: str = ""
    customer: int | None = None
    category: str = ""
    tag: str = ""
    q: str = ""


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


def _person(cases: QuerySet[Case, Row], field: str, value: str) -> QuerySet[Case, Row]:
    if value == "none":
        return cases.filter(**{f"{field}__isnull": True})
    if _is_id(value):
        return cases.filter(**{f"{field}_id": int(value)})
    return cases.filter(**{f"{field}_id": _id_of(User, username=value)})


def case_search_is_text(q: str) -> bool:
    """A search for words, not for a case's reference or id."""
    return bool(q) and not q.isdigit() and Case.pk_from_reference(q) is None


def cases_filtered(
    cases: QuerySet[Case, Row], filters: CaseFilters, *, conversation: bool = True
) -> QuerySet[Case, Row]:
    """The one filter and search of case lists, the API's and the inbox's. A search finds a
    case by its reference or id, or by any part of its subject and (with `conversation`,
    for staff: internal notes are searched too) of its customer's name or contact points,
    or by words in its conversation; every field through an index (see `search`)."""
    if filters.status:
        cases = cases.filter(status__in=filters.status.split(","))
    if filters.priority:
        cases = cases.filter(priority__in=filters.priority.split(","))
    if filters.channel:
        cases = cases.filter(channel=filters.channel)
    if filters.team:
        cases = (
            cases.filter(team_id=int(filters.team))
            if _is_id(filters.team)
            else cases.filter(team_id=_id_of(Team, slug=filters.team))
        )
    if filters.owner:
        cases = _person(cases, "owner", filters.owner)
    if filters.assignee:
        cases = _person(cases, "assignee", filters.assignee)
    if filters.customer:
        cases = (
            cases.filter(customer_id=filters.customer)
            if filters.customer <= MAX_ID
            else cases.none()
        )
    if filters.category:
        cases = (
            cases.filter(category_id=int(filters.category))
            if _is_id(filters.category)
            else cases.filter(category_id=_id_of(Category, slug=filters.category))
        )
    if filters.tag:
        cases = cases.filter(tags__name=filters.tag.lower()).distinct()
    if filters.q:
        pk = Case.pk_from_reference(filters.q)
        if pk:
            cases = cases.filter(pk=pk)
        elif filters.q.isdigit():
            cases = cases.filter(pk=int(filters.q)) if _is_id(filters.q) else cases.none()
        else:
            cases = cases.filter(case_search_condition(filters.q, conversation=conversation))
    return cases


# --- Pages: keyset cursors, stable while new cases arrive --------------------------------

SORTS = ("newest", "oldest", "priority", "waiting")
PRIORITIES_HIGH_FIRST = sorted(PRIORITY_RANK, key=lambda p: -PRIORITY_RANK[p])


def cursor_encode(pk: int, *, rank: int | None = None) -> str:
    """An opaque page cursor: the last row's id, and its priority rank when sorting by
    priority."""
    text = str(pk) if rank is None else f"{rank}.{pk}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _cursor_text(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
    except (ValueError, UnicodeDecodeError):
        return ""


def cursor_decode(cursor: str) -> int | None:
    text = _cursor_text(cursor)
    # Beyond every id reads as "from the start": no id is that large.
    return min(int(text), MAX_ID) if text.isascii() and text.isdigit() else None


def _priority_cursor_decode(cursor: str) -> tuple[int, int] | None:
    rank, _, pk = _cursor_text(cursor).partition(".")
    return (int(rank), int(pk)) if rank.isdigit() and _is_id(pk) else None


def _row_value(row: Case | dict[str, Any], field: str) -> Any:
    return row[field] if isinstance(row, dict) else getattr(row, field)


def _waiting_cursor_encode(row: Case | dict[str, Any]) -> str:
    """The waiting-longest order's cursor: the last row's wait (or none) and id."""
    since, pk = _row_value(row, "awaiting_reply_since"), _row_value(row, "id")
    text = f"w{since.isoformat()}|{pk}" if since else f"n|{pk}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _waiting_cursor_decode(cursor: str) -> tuple[datetime | None, int] | None:
    head, _, pk = _cursor_text(cursor).partition("|")
    if not _is_id(pk):
        return None
    if head == "n":
        return None, int(pk)
    if not head.startswith("w"):
        return None
    try:
        since = datetime.fromisoformat(head[1:])
    except ValueError:
        return None
    return (since, int(pk)) if since.tzinfo else None


def _by_priority(
    cases: QuerySet[Case, Row], *, after: tuple[int, int] | None, limit: int, priorities: list[str]
) -> list[Row]:
    """Up to `limit + 1` cases, highest priority first and newest first within a priority,
    after the (rank, id) cursor. One indexed walk per priority rather than a sort of the
    whole list, so a page costs the same on a desk of any size. Only the `priorities` the
    filter asks for are walked."""
    rows: list[Row] = []
    for priority in PRIORITIES_HIGH_FIRST:
        rank = PRIORITY_RANK[priority]
        if priority not in priorities or (after is not None and rank > after[0]):
            continue
        bucket = cases.filter(priority=priority)
        if after is not None and rank == after[0]:
            bucket = bucket.filter(pk__lt=after[1])
        rows += bucket.order_by("-id")[: limit + 1 - len(rows)]
        if len(rows) > limit:
            break
    return rows


def _by_waiting(
    cases: QuerySet[Case, Row], *, after: tuple[datetime | None, int] | None, limit: int
) -> list[Row]:
    """Up to `limit + 1` cases: those awaiting a reply, longest wait first, then the rest
    newest first. Two indexed walks, each resumed from the (wait, id) cursor."""
    rows: list[Row] = []
    if after is None or after[0] is not None:
        waiting = cases.filter(awaiting_reply_since__isnull=False)
        if after is not None:
            since, pk = after
            # A range and an exclusion rather than an OR, so SQLite walks the index too.
            waiting = waiting.filter(awaiting_reply_since__gte=since).exclude(
                awaiting_reply_since=since, pk__lte=pk
            )
        rows += waiting.order_by("awaiting_reply_since", "id")[: limit + 1]
    if len(rows) <= limit:
        answered = cases.filter(awaiting_reply_since__isnull=True)
        if after is not None and after[0] is None:
            answered = answered.filter(pk__lt=after[1])
        rows += answered.order_by("-id")[: limit + 1 - len(rows)]
    return rows


def case_page(
    cases: QuerySet[Case, Row],
    *,
    sort: str = "newest",
    cursor: str = "",
    limit: int = 50,
    priorities: list[str] | None = None,
) -> tuple[list[Row], str | None]:
    """One page of `cases` (instances, or the dicts of `case_rows_visible_to`) in `sort`
    order after `cursor`: (rows, next_cursor). Raises InvalidCursor for a cursor no page
    returned."""
    if sort == "priority":
        after_rank = _priority_cursor_decode(cursor) if cursor else None
        if cursor and after_rank is None:
            raise InvalidCursor("the cursor is not one this list returned")
        rows = _by_priority(
            cases, after=after_rank, limit=limit, priorities=priorities or PRIORITIES_HIGH_FIRST
        )
        last = rows[limit - 1] if len(rows) > limit else None
        next_cursor = (
            cursor_encode(_row_value(last, "id"), rank=PRIORITY_RANK[_row_value(last, "priority")])
            if last is not None
            else None
        )
    elif sort == "waiting":
        after_wait = _waiting_cursor_decode(cursor) if cursor else None
        if cursor and after_wait is None:
            raise InvalidCursor("the cursor is not one this list returned")
        rows = _by_waiting(cases, after=after_wait, limit=limit)
        next_cursor = _waiting_cursor_encode(rows[limit - 1]) if len(rows) > limit else None
    else:
        after = cursor_decode(cursor) if cursor else None
        if cursor and after is None:
            raise InvalidCursor("the cursor is not one this list returned")
        ascending = sort == "oldest"
        if after is not None:
            cases = cases.filter(pk__gt=after) if ascending else cases.filter(pk__lt=after)
        rows = list(cases.order_by("id" if ascending else "-id")[: limit + 1])
        next_cursor = (
            cursor_encode(_row_value(rows[limit - 1], "id")) if len(rows) > limit else None
        )
    return rows[:limit], next_cursor


def case_list(
    *,
    user: User | AnonymousUser | None,
    filters: CaseFilters,
    cursor: str = "",
    limit: int = 50,
    sort: str = "newest",
) -> tuple[list[Case], str | None]:
    """A page of the cases `user` may see, filtered, in `sort` order (newest first by
    default). Returns (cases, next_cursor)."""
    return _listed(case_visible_to(user=user), user, filters, cursor, limit, sort)


def case_list_rows(
    *,
    user: User | AnonymousUser | None,
    filters: CaseFilters,
    cursor: str = "",
    limit: int = 50,
    sort: str = "newest",
) -> tuple[list[dict[str, Any]], str | None]:
    """`case_list` as rows of `case_rows_visible_to`: the same cases in the same order."""
    return _listed(case_rows_visible_to(user=user), user, filters, cursor, limit, sort)


def _listed(
    visible: QuerySet[Case, Row],
    user: User | AnonymousUser | None,
    filters: CaseFilters,
    cursor: str,
    limit: int,
    sort: str,
) -> tuple[list[Row], str | None]:
    staff = user is not None and user.is_authenticated and user.is_agent_like
    priorities = filters.priority.split(",") if filters.priority else None
    return case_page(
        cases_filtered(visible, filters, conversation=staff),
        sort=sort,
        cursor=cursor,
        limit=limit,
        priorities=priorities,
    )


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
