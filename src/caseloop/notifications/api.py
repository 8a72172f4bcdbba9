"""API endpoints for notifications and followers, mounted under /api/v1/: a person's own
notifications (newest first, unread ones only on request), marking them read, and
following a case. Staff only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from ninja import Field, Query, Router, Schema

from caseloop.accounts.auth import ApiRequest, require_staff
from caseloop.cases import selectors as case_selectors
from caseloop.cases.selectors import MAX_ID

from . import selectors, services
from .models import Notification

router = Router(tags=["notifications"])
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


class NotificationOut(Schema):
    id: int
    kind: str
    case_id: int | None
    actor_id: int | None
    text: str
    created_at: datetime
    read_at: datetime | None


class NotificationPage(Schema):
    unread: int
    items: list[NotificationOut]


class NotificationFilter(Schema):
    unread: bool = False
    before: RowId | None = None


class MarkRead(Schema):
    ids: list[RowId] | None = Field(None, max_length=1000)


class Marked(Schema):
    marked: int


class Following(Schema):
    case_id: int
    following: bool


def _out(item: Notification) -> NotificationOut:
    return NotificationOut(
        id=item.pk,
        kind=item.kind,
        case_id=item.case_id,
        actor_id=item.actor_id,
        text=item.text,
        created_at=item.created_at,
        read_at=item.read_at,
    )


@router.get("/notifications", response=NotificationPage)
def notifications_list(request: ApiRequest, filters: Query[NotificationFilter]) -> NotificationPage:
    """Your notifications, newest first, 50 at a time (`before` = the last id you have)."""
    require_staff(request)
    user = request.auth
    items = selectors.notifications_page(user=user, before=filters.before)
    if filters.unread:
        items = [item for item in items if item.read_at is None]
    return NotificationPage(
        unread=selectors.notifications_unread_count(user=user), items=[_out(i) for i in items]
    )


@router.post("/notifications/read", response=Marked)
def notifications_read(request: ApiRequest, body: MarkRead) -> Marked:
    """Mark your notifications read: those of `ids`, or all of them."""
    require_staff(request)
    user = request.auth
    return Marked(marked=services.notifications_mark_read(user=user, ids=body.ids))


@router.post("/cases/{case_id}/followers", response=Following)
def case_follow(request: ApiRequest, case_id: int) -> Following:
    """Follow a case: its customer's replies, notes and escalations reach you."""
    require_staff(request)
    user = request.auth
    case = case_selectors.case_get_for_user(user=user, case_id=case_id)
    services.case_follow(case=case, user=user)
    return Following(case_id=case.pk, following=True)


@router.delete("/cases/{case_id}/followers", response=Following)
def case_unfollow(request: ApiRequest, case_id: int) -> Following:
    require_staff(request)
    user = request.auth
    case = case_selectors.case_get_for_user(user=user, case_id=case_id)
    services.case_unfollow(case=case, user=user)
    return Following(case_id=case.pk, following=False)
