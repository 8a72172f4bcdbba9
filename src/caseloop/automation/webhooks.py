"""Outgoing webhooks and the event feed: the desk's case events, for the tools around it.

A job reads the case-event log from where it stopped (an `EventCursor`) and, for each event
a subscription wants, records a `WebhookDelivery` and an outbox effect that POSTs it, signed
like inbound webhooks (`X-Caseloop-Signature: t=<unix>,v1=<hex>`, HMAC-SHA256 of
"<t>.<body>" with the subscription's secret). The outbox retries a failed delivery with
backoff; a receiver's 4xx (but 408 and 429) is final. Every attempt shows in the delivery
log, and a delivery can be sent again. Integrations that poll read the same events from
`GET /api/v1/events?cursor=`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from caseloop.accounts.models import Role, User
from caseloop.cases import outbox
from caseloop.cases.events import event_kinds
from caseloop.cases.models import CaseEvent
from caseloop.cases.outbox import EffectRetry
from caseloop.lib.errors import DomainError, ErrorKind
from caseloop.lib.signing import SIGNATURE_HEADER, signature_header

from .models import EventCursor, WebhookDelivery, WebhookSubscription

DELIVER_EFFECT = "automation.webhook_deliver"
CURSOR = "webhooks"
BATCH = 500
TIMEOUT_SECONDS = 10
# A receiver's answer kept in the log, at most.
EXCERPT = 300
# Client errors that may pass: the receiver was busy or slow.
RETRIED_CLIENT_ERRORS = (408, 429)
FEED_PAGE_MAX = 500


class WebhookError(DomainError):
    code = "webhook_invalid"
    kind = ErrorKind.INVALID

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class WebhookForbidden(WebhookError):
    code = "forbidden"
    kind = ErrorKind.FORBIDDEN


def require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise WebhookForbidden("only admins manage webhooks")


def event_kinds_check(kinds: list[str]) -> list[str]:
    """The kinds named, each one the desk knows (an empty list: every kind)."""
    known = event_kinds()
    cleaned = list(dict.fromkeys(kind.strip() for kind in kinds if kind and kind.strip()))
    unknown = [kind for kind in cleaned if kind not in known]
    if unknown:
        raise WebhookError(f"unknown event kind(s): {', '.join(unknown[:5])}", field="event_kinds")
    return cleaned


def event_payload(event: CaseEvent) -> dict[str, Any]:
    """An event as integrations receive it (the webhook body and the feed's items)."""
    return {
        "id": event.pk,
        "kind": event.kind,
        "case_id": event.case_id,
        "reference": event.case.reference if event.case_id else "",
        "actor_id": event.actor_id,
        "data": event.data if isinstance(event.data, dict) else {},
        "created_at": event.created_at.isoformat(),
    }


# --- the feed -----------------------------------------------------------------------------


def events_after(
    *, cursor: int, limit: int = 100, kinds: list[str] | None = None
) -> list[CaseEvent]:
    """The events after id `cursor`, oldest first, `limit` (at most FEED_PAGE_MAX) at most."""
    rows = CaseEvent.objects.filter(pk__gt=cursor).select_related("case").order_by("id")
    if kinds:
        rows = rows.filter(kind__in=kinds)
    return list(rows[: max(1, min(limit, FEED_PAGE_MAX))])


# --- fan-out ------------------------------------------------------------------------------


def _cursor() -> EventCursor:
    cursor = EventCursor.objects.select_for_update().filter(name=CURSOR).first()
    if cursor is None:
        # A desk that starts sending webhooks starts from now, not from its history.
        latest = CaseEvent.objects.aggregate(last=Max("id"))["last"] or 0
        EventCursor.objects.get_or_create(name=CURSOR, defaults={"last_event_id": latest})
        cursor = EventCursor.objects.select_for_update().get(name=CURSOR)
    return cursor


@transaction.atomic
def webhooks_fan_out(*, limit: int = BATCH) -> int:
    """Read the next events of the log and record a delivery (and its outbox effect) for
    each subscription that wants one. Returns how many events were read. Concurrent runs
    wait for each other on the cursor row."""
    cursor = _cursor()
    events = list(
        CaseEvent.objects.filter(pk__gt=cursor.last_event_id)
        .select_related("case")
        .order_by("id")[:limit]
    )
    if not events:
        return 0
    subscriptions = list(WebhookSubscription.objects.filter(is_active=True))
    for event in events:
        for subscription in subscriptions:
            if subscription.wants(event.kind) and event.created_at >= subscription.created_at:
                _delivery_record(
                    subscription=subscription,
                    event_id=event.pk,
                    kind=event.kind,
                    payload=event_payload(event),
                    case_id=event.case_id,
                )
    cursor.last_event_id = events[-1].pk
    cursor.save(update_fields=["last_event_id"])
    return len(events)


def _delivery_record(
    *,
    subscription: WebhookSubscription,
    event_id: int,
    kind: str,
    payload: dict,
    case_id: int | None,
) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event_id=event_id, kind=kind, payload=payload
    )
    outbox.effect_record(
        kind=DELIVER_EFFECT,
        payload={"delivery": delivery.pk},
        key=f"{DELIVER_EFFECT}:{delivery.pk}",
        case_id=case_id,
    )
    return delivery


# --- delivery -----------------------------------------------------------------------------


def _post(*, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) only, checked on save
            return response.status, response.read(EXCERPT).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(EXCERPT).decode("utf-8", "replace")


def webhook_deliver(payload: dict[str, Any]) -> None:
    """Outbox effect: POST one delivery, signed. 2xx: delivered. A 4xx (but 408, 429): failed
    for good. Anything else, or no answer: retried by the outbox with backoff."""
    delivery = (
        WebhookDelivery.objects.select_related("subscription")
        .filter(pk=payload["delivery"])
        .first()
    )
    if delivery is None or delivery.state == WebhookDelivery.State.DELIVERED:
        return
    subscription = delivery.subscription
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Caseloop-Webhooks/1",
        SIGNATURE_HEADER: signature_header(secret=subscription.secret, body=body),
        "X-Caseloop-Event": delivery.kind,
        "X-Caseloop-Delivery": str(delivery.pk),
    }
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    try:
        status, text = _post(url=subscription.url, body=body, headers=headers)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        # The effect's transaction is undone: `webhook_retrying` writes the attempt down.
        raise EffectRetry(f"no answer: {exc}") from exc
    delivery.response_status = status
    if 200 <= status < 300:
        delivery.state, delivery.delivered_at, delivery.error = (
            WebhookDelivery.State.DELIVERED,
            now,
            "",
        )
    elif 400 <= status < 500 and status not in RETRIED_CLIENT_ERRORS:
        delivery.state, delivery.error = WebhookDelivery.State.FAILED, f"{status}: {text}"[:500]
    else:
        raise EffectRetry(f"{status}: {text}")
    delivery.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "response_status",
            "state",
            "delivered_at",
            "error",
        ]
    )


def _attempt_noted(payload: dict[str, Any], error: str, **extra: Any) -> None:
    status = error.split(":", 1)[0]
    WebhookDelivery.objects.filter(pk=payload["delivery"]).exclude(
        state=WebhookDelivery.State.DELIVERED
    ).update(
        attempts=F("attempts") + 1,
        last_attempt_at=timezone.now(),
        response_status=int(status) if status.isdigit() else None,
        error=error[:500],
        **extra,
    )


def webhook_retrying(payload: dict[str, Any], error: str) -> None:
    """The attempt that will be retried, in the delivery log."""
    _attempt_noted(payload, error)


def webhook_give_up(payload: dict[str, Any], error: str) -> None:
    _attempt_noted(payload, error, state=WebhookDelivery.State.FAILED)


@transaction.atomic
def webhook_resend(*, delivery: WebhookDelivery, actor: User) -> WebhookDelivery:
    """Send a delivery's event again, as a new delivery (admins)."""
    require_admin(actor)
    return _delivery_record(
        subscription=delivery.subscription,
        event_id=delivery.event_id,
        kind=delivery.kind,
        payload=delivery.payload,
        case_id=delivery.payload.get("case_id"),
    )


def webhook_subscription_save(
    *,
    actor: User,
    name: str,
    url: str,
    secret: str,
    event_kinds: list[str],
    is_active: bool = True,
    subscription: WebhookSubscription | None = None,
) -> WebhookSubscription:
    require_admin(actor)
    if not url.startswith(("https://", "http://")):
        raise WebhookError("the URL must start with https:// or http://", field="url")
    if len(secret) < 16:
        raise WebhookError("the secret needs at least 16 characters", field="secret")
    subscription = subscription or WebhookSubscription()
    subscription.name, subscription.url, subscription.secret = name.strip()[:100], url, secret
    subscription.event_kinds = event_kinds_check(event_kinds)
    subscription.is_active = is_active
    subscription.save()
    return subscription


outbox.effect_type_register(
    DELIVER_EFFECT, webhook_deliver, give_up=webhook_give_up, on_retry=webhook_retrying
)
