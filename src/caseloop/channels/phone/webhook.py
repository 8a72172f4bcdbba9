"""Telephony providers report calls to POST /channels/phone/webhook, signed like every
Caseloop webhook (see caseloop.lib.signing). Payload:

    {"event_id": "evt_1", "call": {"id": "CA123", "direction": "inbound", "from": "+1415…",
     "to": "+1800…", "duration_seconds": 95, "started_at": "2026-11-24T10:00:00Z",
     "caller_name": "", "notes": "", "case_reference": ""}}

Inbound calls are from the `from` number, outbound calls to the `to` number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from django.db import transaction
from django.utils.dateparse import parse_datetime

from caseloop.channels.intake import IntakeRejected, inbound_quarantine
from caseloop.channels.webhook.models import WebhookDelivery, WebhookEndpoint
from caseloop.channels.webhook.services import (
    WebhookIncomplete,
    WebhookRefused,
    webhook_body_parse,
    webhook_verify,
)
from caseloop.lib.idempotency import idempotent

from .services import CallDetails, CallRejected, call_log

DIRECTIONS = {"inbound": "inbound", "in": "inbound", "outbound": "outbound", "out": "outbound"}


@dataclass(frozen=True)
class PhoneWebhookResult:
    status: int
    body: dict


def _str(value, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _details(*, endpoint: WebhookEndpoint, payload: dict) -> CallDetails:
    call = payload.get("call")
    errors = []
    if not _str(payload.get("event_id"), 200):
        errors.append({"field": "event_id", "message": "a non-empty string is required"})
    if not isinstance(call, dict):
        errors.append({"field": "call", "message": "an object is required"})
        raise WebhookIncomplete("the payload is missing required fields", errors)
    direction = DIRECTIONS.get(_str(call.get("direction"), 10).lower())
    if direction is None:
        errors.append({"field": "call.direction", "message": "inbound or outbound"})
    number_field = "to" if direction == "outbound" else "from"
    if not _str(call.get(number_field), 40):
        errors.append({"field": f"call.{number_field}", "message": "the customer's number"})
    if not _str(call.get("id"), 200):
        errors.append({"field": "call.id", "message": "the provider's call id"})
    duration = call.get("duration_seconds", 0)
    if not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
        errors.append({"field": "call.duration_seconds", "message": "a whole number ≥ 0"})
    started = parse_datetime(_str(call.get("started_at"), 40)) if call.get("started_at") else None
    if call.get("started_at") and started is None:
        errors.append({"field": "call.started_at", "message": "an ISO 8601 date-time"})
    if errors:
        raise WebhookIncomplete("the payload is missing required fields", errors)
    return CallDetails(
        direction=cast(str, direction),  # a missing direction raised above
        phone=_str(call.get(number_field), 40),
        duration_seconds=duration,
        notes=_str(call.get("notes"), 20_000),
        name=_str(call.get("caller_name"), 200),
        case_reference=_str(call.get("case_reference"), 20),
        started_at=started,
        provider=endpoint.slug,
        external_id=_str(call.get("id"), 200),
    )


def phone_webhook_receive(
    *, endpoint: WebhookEndpoint, header: str, body: bytes
) -> PhoneWebhookResult:
    """Verify a provider's call report and log the call; a replayed event id changes
    nothing; a well-formed report that cannot be placed (e.g. an unusable number) is
    quarantined with the reason.
    Side effects: a WebhookDelivery row; those of `call_log` or `inbound_quarantine`."""
    webhook_verify(endpoint=endpoint, header=header, body=body)
    payload = webhook_body_parse(body=body)
    details = _details(endpoint=endpoint, payload=payload)
    event_id = _str(payload["event_id"], 200)
    return idempotent(
        seen=WebhookDelivery.objects.filter(endpoint=endpoint, event_id=event_id),
        replay=_duplicate,
        perform=lambda: _log_once(endpoint=endpoint, details=details, event_id=event_id, body=body),
    )


def _log_once(
    *, endpoint: WebhookEndpoint, details: CallDetails, event_id: str, body: bytes
) -> PhoneWebhookResult:
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_id=event_id, outcome=WebhookDelivery.Outcome.ACCEPTED
    )
    try:
        with transaction.atomic():
            call = call_log(details=details)
    except CallRejected as exc:
        held = inbound_quarantine(
            channel="phone",
            raw=body,
            reason=str(exc),
            source=f"webhook:{endpoint.slug}",
            metadata={"event_id": event_id, "endpoint": endpoint.slug, "payload": "call"},
        )
        delivery.outcome = WebhookDelivery.Outcome.QUARANTINED
        delivery.quarantine = held
        delivery.save(update_fields=["outcome", "quarantine"])
        return PhoneWebhookResult(
            202, {"status": "quarantined", "quarantine_id": held.pk, "reason": str(exc)}
        )
    delivery.case_id = call.case_id
    delivery.save(update_fields=["case"])
    return PhoneWebhookResult(
        201,
        {
            "status": "accepted",
            "call": call.pk,
            "case": {"id": call.case_id, "reference": call.case.reference},
        },
    )


def _duplicate(delivery: WebhookDelivery) -> PhoneWebhookResult:
    body: dict = {"status": "duplicate"}
    if delivery.case_id:
        body["case"] = {"id": delivery.case_id}
    return PhoneWebhookResult(200, body)


def phone_report_retry(*, endpoint: WebhookEndpoint, payload: dict):
    """Log a quarantined call report again; returns its case or raises IntakeRejected."""
    try:
        details = _details(endpoint=endpoint, payload=payload)
        return call_log(details=details).case
    except (WebhookRefused, CallRejected) as exc:
        raise IntakeRejected(getattr(exc, "detail", None) or str(exc)) from exc
