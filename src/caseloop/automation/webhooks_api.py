"""API endpoints for integrations, mounted under /api/v1/: the event feed (managers and
admins), and outgoing webhook subscriptions with their delivery log (admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status as Reply

from caseloop.accounts.auth import ApiRequest, require_role
from caseloop.accounts.models import Role
from caseloop.cases.selectors import MAX_ID

from . import webhooks
from .models import WebhookDelivery, WebhookSubscription

router = Router(tags=["integrations"])
RowId = Annotated[int, Field(ge=0, le=MAX_ID)]


class EventOut(Schema):
    id: int
    kind: str
    case_id: int | None
    reference: str
    actor_id: int | None
    data: dict[str, Any]
    created_at: str


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: int = Field(..., description="Pass it as `cursor` for the events after these.")


class EventFilter(Schema):
    cursor: RowId = 0
    limit: int = Field(100, ge=1, le=webhooks.FEED_PAGE_MAX)
    kind: list[str] = Field([], description="Only these kinds (repeat the parameter).")


@router.get("/events", response=EventPage, summary="The case-event feed")
def events_feed(request: ApiRequest, filters: Query[EventFilter]) -> EventPage:
    """Every case event after `cursor` (an event id; 0 from the start), oldest first. Poll
    with the `next_cursor` of the last page; an empty page returns the same cursor."""
    require_role(request, Role.MANAGER, Role.ADMIN)
    events = webhooks.events_after(
        cursor=filters.cursor, limit=filters.limit, kinds=filters.kind or None
    )
    return EventPage(
        items=[EventOut(**webhooks.event_payload(e)) for e in events],
        next_cursor=events[-1].pk if events else filters.cursor,
    )


class SubscriptionIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    url: str = Field(..., max_length=500)
    secret: str = Field(..., min_length=16, max_length=100)
    event_kinds: list[Annotated[str, Field(max_length=40)]] = Field([], max_length=100)
    is_active: bool = True


class SubscriptionOut(Schema):
    id: int
    name: str
    url: str
    event_kinds: list[str]
    is_active: bool
    created_at: datetime

    @staticmethod
    def of(row: WebhookSubscription) -> SubscriptionOut:
        return SubscriptionOut(
            id=row.pk,
            name=row.name,
            url=row.url,
            event_kinds=list(row.event_kinds),
            is_active=row.is_active,
            created_at=row.created_at,
        )


class DeliveryOut(Schema):
    id: int
    event_id: int
    kind: str
    state: str
    attempts: int
    response_status: int | None
    error: str
    created_at: datetime
    delivered_at: datetime | None

    @staticmethod
    def of(row: WebhookDelivery) -> DeliveryOut:
        return DeliveryOut(
            id=row.pk,
            event_id=row.event_id,
            kind=row.kind,
            state=row.state,
            attempts=row.attempts,
            response_status=row.response_status,
            error=row.error,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
        )


def _subscription(pk: int) -> WebhookSubscription:
    row = WebhookSubscription.objects.filter(pk=min(pk, MAX_ID)).first()
    if row is None:
        raise Http404("No such webhook.")
    return row


@router.get("/webhooks", response=list[SubscriptionOut], summary="Webhook subscriptions")
def webhooks_list(request: ApiRequest) -> list[SubscriptionOut]:
    require_role(request, Role.ADMIN)
    return [SubscriptionOut.of(row) for row in WebhookSubscription.objects.order_by("name")]


@router.post("/webhooks", response={201: SubscriptionOut}, summary="Subscribe a URL")
def webhooks_create(request: ApiRequest, body: SubscriptionIn) -> Any:
    """Events of `event_kinds` (all when empty) are POSTed to `url`, signed with `secret`."""
    require_role(request, Role.ADMIN)
    row = webhooks.webhook_subscription_save(actor=request.auth, **body.dict())
    return Reply(201, SubscriptionOut.of(row))


@router.put("/webhooks/{webhook_id}", response=SubscriptionOut, summary="Change a webhook")
def webhooks_update(request: ApiRequest, webhook_id: int, body: SubscriptionIn) -> Any:
    require_role(request, Role.ADMIN)
    row = webhooks.webhook_subscription_save(
        actor=request.auth, subscription=_subscription(webhook_id), **body.dict()
    )
    return SubscriptionOut.of(row)


@router.delete("/webhooks/{webhook_id}", response={204: None}, summary="Remove a webhook")
def webhooks_delete(request: ApiRequest, webhook_id: int) -> Any:
    require_role(request, Role.ADMIN)
    _subscription(webhook_id).delete()
    return Reply(204, None)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response=list[DeliveryOut],
    summary="A webhook's delivery log",
)
def webhooks_deliveries(request: ApiRequest, webhook_id: int) -> list[DeliveryOut]:
    """The latest 100 deliveries, newest first."""
    require_role(request, Role.ADMIN)
    rows = _subscription(webhook_id).deliveries.order_by("-id")[:100]
    return [DeliveryOut.of(row) for row in rows]


@router.post(
    "/webhooks/deliveries/{delivery_id}/resend",
    response={202: DeliveryOut},
    summary="Send a delivery again",
)
def webhooks_resend(request: ApiRequest, delivery_id: int) -> Any:
    require_role(request, Role.ADMIN)
    delivery = WebhookDelivery.objects.filter(pk=min(delivery_id, MAX_ID)).first()
    if delivery is None:
        raise Http404("No such delivery.")
    return Reply(
        202, DeliveryOut.of(webhooks.webhook_resend(delivery=delivery, actor=request.auth))
    )
