"""API endpoints of the channels app, mounted under /api/v1/: the intake quarantine.

Input that could not become a case waits here with its reason; admins and managers read
it, retry it through its channel's pipeline, or discard it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import Http404
from ninja import Query, Router, Schema

from caseloop.accounts.auth import ApiRequest, require_role
from caseloop.cases.errors import CaseError
from caseloop.cases.selectors import InvalidCursor, cursor_decode, cursor_encode
from caseloop.lib.errors import ErrorKind

from .intake import IntakeRejected, quarantine_discard, quarantine_retry
from .models import QuarantinedMessage

router = Router(tags=["quarantine"])

RAW_PREVIEW_BYTES = 100_000
StateName = Literal["held", "retried", "discarded"]


class QuarantineRetryFailed(CaseError):
    code = "quarantine_retry_failed"
    kind = ErrorKind.INVALID

    def __init__(self, reason: str) -> None:
        self.payload = {"reason": reason}
        super().__init__(f"the retry failed: {reason}")


class QuarantineOut(Schema):
    id: int
    channel: str
    source: str
    reason: str
    state: StateName
    attempts: int
    case_id: int | None
    case_reference: str | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def of(item: QuarantinedMessage) -> dict:
        return {
            "id": item.pk,
            "channel": item.channel,
            "source": item.source,
            "reason": item.reason,
            "state": item.state,
            "attempts": item.attempts,
            "case_id": item.case_id,
            "case_reference": item.case.reference if item.case else None,
            "created_at": item.created_at,
            "updated_at": item.updated_at,
        }


class QuarantineDetailOut(QuarantineOut):
    metadata: dict
    raw_size: int
    raw: str
    raw_truncated: bool

    @staticmethod
    def of(item: QuarantinedMessage) -> dict:
        raw = bytes(item.raw)
        return {
            **QuarantineOut.of(item),
            "metadata": item.metadata,
            "raw_size": len(raw),
            "raw": raw[:RAW_PREVIEW_BYTES].decode("utf-8", "replace"),
            "raw_truncated": len(raw) > RAW_PREVIEW_BYTES,
        }


class QuarantinePage(Schema):
    items: list[QuarantineOut]
    next_cursor: str | None


def _require_admin(request: ApiRequest) -> None:
    require_role(request, "admin", "manager")


def _get(quarantine_id: int) -> QuarantinedMessage:
    item = QuarantinedMessage.objects.select_related("case").filter(pk=quarantine_id).first()
    if item is None:
        raise Http404("No such quarantine record.")
    return item


@router.get("/quarantine", response=QuarantinePage, summary="List quarantined input")
def quarantine_list(
    request: ApiRequest,
    state: StateName | None = None,
    channel: str = "",
    cursor: str = "",
    limit: int = Query(50, ge=1, le=200),
):
    """Newest first, without the raw bytes. Follow `next_cursor` for the next page."""
    _require_admin(request)
    items = QuarantinedMessage.objects.select_related("case").defer("raw").order_by("-id")
    if state:
        items = items.filter(state=state)
    if channel:
        items = items.filter(channel=channel)
    if cursor:
        before = cursor_decode(cursor)
        if before is None:
            raise InvalidCursor("the cursor is not valid")
        items = items.filter(pk__lt=before)
    page = list(items[: limit + 1])
    next_cursor = cursor_encode(page[limit - 1].pk) if len(page) > limit else None
    return {"items": [QuarantineOut.of(item) for item in page[:limit]], "next_cursor": next_cursor}


@router.get(
    "/quarantine/{quarantine_id}", response=QuarantineDetailOut, summary="Read quarantined input"
)
def quarantine_read(request: ApiRequest, quarantine_id: int):
    _require_admin(request)
    return QuarantineDetailOut.of(_get(quarantine_id))


@router.post(
    "/quarantine/{quarantine_id}/retry",
    response=QuarantineDetailOut,
    summary="Run quarantined input through its channel again",
)
def quarantine_retry_endpoint(request: ApiRequest, quarantine_id: int):
    """On success the record is `retried` and names its case; on failure 422 gives the reason
    (kept on the record) and the record stays held."""
    _require_admin(request)
    _get(quarantine_id)
    try:
        item = quarantine_retry(quarantined_id=quarantine_id)
    except IntakeRejected as exc:
        raise QuarantineRetryFailed(str(exc)) from exc
    return QuarantineDetailOut.of(_get(item.pk))


@router.post(
    "/quarantine/{quarantine_id}/discard",
    response=QuarantineDetailOut,
    summary="Discard quarantined input",
)
def quarantine_discard_endpoint(request: ApiRequest, quarantine_id: int):
    _require_admin(request)
    _get(quarantine_id)
    item = quarantine_discard(quarantined_id=quarantine_id)
    return QuarantineDetailOut.of(_get(item.pk))
