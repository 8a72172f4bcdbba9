"""Signed inbound webhooks: verify, parse, dedupe by event id, hand to the intake service.

The payload integrators post (JSON):

    {"event_id": "evt_1", "message": {"id": "m1", "text": "…", "html": "", "subject": "",
     "thread_id": "", "in_reply_to": ""},
     "sender": {"handle": "@ann", "name": "Ann", "email": "", "phone": ""},
     "case_reference": "", "auto_reply": false}
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet

from caseloop.cases.errors import CaseError
from caseloop.cases.models import Case, Message
from caseloop.channels.base import InboundMessage
from caseloop.channels.intake import (
    IntakeRejected,
    IntakeResult,
    inbound_quarantine,
    inbound_receive,
)
from caseloop.channels.models import QuarantinedMessage
from caseloop.lib.errors import DomainError, ErrorKind
from caseloop.lib.idempotency import idempotent
from caseloop.lib.signing import SignatureError, signature_verify

from .models import WebhookDelivery, WebhookEndpoint

MAX_BODY_BYTES = 1024 * 1024


class WebhookRefused(DomainError):
    """The request is refused as a whole; the subclass says why, `errors` lists the fields."""

    code = "webhook_refused"
    kind = ErrorKind.INVALID

    def __init__(self, detail: str, errors: list[dict] | None = None) -> None:
        self.detail, self.errors = detail, errors or []
        super().__init__(detail)

    def facts(self) -> dict:
        return {"errors": self.errors} if self.errors else {}


class WebhookUnverified(WebhookRefused):
    code = "webhook_unverified"
    kind = ErrorKind.UNAUTHENTICATED


class WebhookMalformed(WebhookRefused):
    code = "webhook_malformed"
    kind = ErrorKind.MALFORMED


class WebhookTooLarge(WebhookRefused):
    code = "webhook_too_large"
    kind = ErrorKind.TOO_LARGE


class WebhookIncomplete(WebhookRefused):
    code = "webhook_incomplete"
    kind = ErrorKind.INVALID


@dataclass(frozen=True)
class WebhookResult:
    status: str  # "accepted", "duplicate" or "quarantined"
    case: Case | None = None
    created: bool = False
    quarantine: QuarantinedMessage | None = None
    reason: str = ""


def webhook_body_parse(*, body: bytes) -> dict:
    """The JSON object in `body`; WebhookMalformed when it is not JSON at all."""
    if len(body) > MAX_BODY_BYTES:
        raise WebhookTooLarge(f"body over {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookMalformed(f"malformed JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise WebhookIncomplete("the body must be a JSON object")
    return payload


def _text(value, limit: int = 100_000) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def webhook_payload_check(*, payload: dict) -> list[dict]:
    """Field errors of a social-message payload ([] when it is complete)."""
    errors = []
    if not _text(payload.get("event_id"), 200):
        errors.append({"field": "event_id", "message": "a non-empty string is required"})
    message = payload.get("message")
    if not isinstance(message, dict) or not (
        _text(message.get("text")) or _text(message.get("html"))
    ):
        errors.append(
            {"field": "message.text", "message": "message.text or message.html is required"}
        )
    sender = payload.get("sender")
    if not isinstance(sender, dict) or not any(
        _text(sender.get(key)) for key in ("handle", "email", "phone")
    ):
        errors.append(
            {
                "field": "sender.handle",
                "message": "sender.handle, sender.email or sender.phone is required",
            }
        )
    return errors


def webhook_verify(*, endpoint: WebhookEndpoint, header: str, body: bytes) -> None:
    """Refuse a request whose signature is missing, wrong or outside the window."""
    try:
        signature_verify(
            secret=endpoint.secret, header=header, body=body, tolerance=endpoint.tolerance_seconds
        )
    except SignatureError as exc:
        raise WebhookUnverified(str(exc)) from exc


def webhook_receive(*, endpoint: WebhookEndpoint, header: str, body: bytes) -> WebhookResult:
    """Verify and take one signed delivery for `endpoint`.

    Refused with a WebhookRefused: bad signature or stale timestamp (WebhookUnverified), not
    JSON (WebhookMalformed), missing fields (WebhookIncomplete). A replayed event id changes
    nothing. A well-formed message that cannot be placed is quarantined with the reason.
    Side effects: a WebhookDelivery row; those of `inbound_receive` or `inbound_quarantine`."""
    webhook_verify(endpoint=endpoint, header=header, body=body)
    payload = webhook_body_parse(body=body)
    errors = webhook_payload_check(payload=payload)
    if errors:
        raise WebhookIncomplete("the payload is missing required fields", errors)
    return _deliver(endpoint=endpoint, payload=payload, body=body)


def _inbound(*, endpoint: WebhookEndpoint, payload: dict, body: bytes) -> InboundMessage:
    message, sender = payload["message"], payload["sender"]
    handle = _text(sender.get("handle"), 200)
    external = _text(message.get("id"), 200) or _text(payload["event_id"], 200)
    thread_id = _text(message.get("thread_id"), 200)
    in_reply_to = _text(message.get("in_reply_to"), 200)
    thread = f"{endpoint.slug}:{thread_id}" if thread_id else ""
    reference = _text(payload.get("case_reference"), 20) or _thread_reference(thread=thread)
    return InboundMessage(
        channel=endpoint.channel,
        text=_text(message.get("text")),
        html=_text(message.get("html")),
        subject=_text(message.get("subject"), 300),
        email=_text(sender.get("email"), 320),
        phone=_text(sender.get("phone"), 40),
        social_handle=f"{endpoint.handle_prefix}:{handle}" if handle else "",
        name=_text(sender.get("name"), 200),
        raw=body.decode("utf-8"),
        external_id=f"{endpoint.slug}:{external}",
        thread_ids=[f"{endpoint.slug}:{in_reply_to}"] if in_reply_to else [],
        case_reference=reference,
        metadata={
            "webhook": endpoint.slug,
            "event_id": _text(payload["event_id"], 200),
            **({"thread": thread} if thread else {}),
        },
        is_auto_reply=payload.get("auto_reply") is True,
    )


def _thread_reference(*, thread: str) -> str:
    """The reference of the latest case carrying this conversation thread. Intake threads on
    it only for the same customer, so a shared public thread never mixes two people."""
    if not thread:
        return ""
    earlier = thread_messages(thread).select_related("case").order_by("-id").first()
    return (earlier.case.reference or "") if earlier is not None else ""


def thread_messages(thread: str) -> QuerySet[Message]:
    """Messages that came with this conversation thread id (an indexed column)."""
    return Message.objects.filter(thread_key=thread)


def _deliver(*, endpoint: WebhookEndpoint, payload: dict, body: bytes) -> WebhookResult:
    event_id = _text(payload["event_id"], 200)
    return idempotent(
        seen=WebhookDelivery.objects.select_related("case").filter(
            endpoint=endpoint, event_id=event_id
        ),
        replay=lambda earlier: WebhookResult(status="duplicate", case=earlier.case),
        perform=lambda: _deliver_once(
            endpoint=endpoint, payload=payload, body=body, event_id=event_id
        ),
    )


def _deliver_once(
    *, endpoint: WebhookEndpoint, payload: dict, body: bytes, event_id: str
) -> WebhookResult:
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_id=event_id, outcome=WebhookDelivery.Outcome.ACCEPTED
    )
    try:
        with transaction.atomic():
            result = inbound_receive(_inbound(endpoint=endpoint, payload=payload, body=body))
    except (IntakeRejected, CaseError) as exc:
        quarantined = inbound_quarantine(
            channel=endpoint.channel,
            raw=body,
            reason=str(exc),
            source=f"webhook:{endpoint.slug}",
            metadata={"event_id": event_id, "endpoint": endpoint.slug, "payload": "message"},
        )
        delivery.outcome = WebhookDelivery.Outcome.QUARANTINED
        delivery.quarantine = quarantined
        delivery.save(update_fields=["outcome", "quarantine"])
        return WebhookResult(status="quarantined", quarantine=quarantined, reason=str(exc))
    delivery.case = result.case
    delivery.save(update_fields=["case"])
    status = "duplicate" if result.duplicate else "accepted"
    return WebhookResult(status=status, case=result.case, created=result.created)


@dataclass(frozen=True)
class RetryResult:
    case: Case


PayloadRetrier = Callable[..., Case]
_payload_retriers: dict[str, PayloadRetrier] = {}


def webhook_payload_retrier_register(payload: str, retrier: PayloadRetrier) -> None:
    """Register how a quarantined delivery of another app's payload kind (its metadata's
    "payload", e.g. "call") is retried: retrier(endpoint=..., payload=...) returns the case
    or raises IntakeRejected. Deliveries of no registered kind are messages."""
    _payload_retriers[payload] = retrier


def webhook_quarantine_retry(*, raw: bytes, metadata: dict) -> IntakeResult | RetryResult:
    """Run a quarantined webhook delivery through its pipeline again (its signature was
    checked when it arrived). Raises IntakeRejected with the reason when it still fails.
    Side effects: those of `inbound_receive` or `call_log`; the delivery row names the case."""
    endpoint = WebhookEndpoint.objects.filter(slug=metadata.get("endpoint", "")).first()
    if endpoint is None:
        raise IntakeRejected(f"the webhook endpoint {metadata.get('endpoint')!r} no longer exists")
    try:
        payload = webhook_body_parse(body=raw)
    except WebhookRefused as exc:
        raise IntakeRejected(exc.detail) from exc
    retrier = _payload_retriers.get(metadata.get("payload", ""))
    if retrier is not None:
        result: IntakeResult | RetryResult = RetryResult(
            case=retrier(endpoint=endpoint, payload=payload)
        )
    else:
        errors = webhook_payload_check(payload=payload)
        if errors:
            raise IntakeRejected("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        try:
            result = inbound_receive(_inbound(endpoint=endpoint, payload=payload, body=raw))
        except CaseError as exc:
            raise IntakeRejected(str(exc)) from exc
    WebhookDelivery.objects.filter(
        endpoint=endpoint, event_id=_text(metadata.get("event_id"), 200)
    ).update(outcome=WebhookDelivery.Outcome.ACCEPTED, case=result.case)
    return result
