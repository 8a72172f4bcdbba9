"""Delivering outbound messages on their channel: the outbox effect `message.deliver`.

The case services record the effect with the message; the dispatcher runs it at least once.
A transient failure is retried with backoff by the outbox (30 s, 1 min, 2 min…); a permanent
one, or the last attempt, is recorded on the message and the case."""

from __future__ import annotations

import logging

from caseloop.cases.models import Message
from caseloop.cases.outbox import EffectRetry, Payload
from caseloop.cases.services import message_delivery_mark

from .base import DeliveryError, sender_for

logger = logging.getLogger(__name__)

# The first try and five retries.
DELIVERY_ATTEMPTS = 6


def message_deliver(payload: Payload) -> None:
    """Deliver one outbound message, unless it already went (a re-run after a crash)."""
    message_id = payload["message"]
    message = Message.objects.filter(pk=message_id).only("channel", "delivery_status").first()
    if message is None or message.delivery_status != Message.Delivery.QUEUED:
        return
    sender = sender_for(message.channel)
    if sender is None:
        message_delivery_mark(message_id=message_id, status=Message.Delivery.NOT_APPLICABLE)
        return
    try:
        kept = sender(message_id)
    except DeliveryError as exc:
        if exc.permanent:
            message_delivery_mark(
                message_id=message_id, status=Message.Delivery.FAILED, error=str(exc)
            )
            return
        raise EffectRetry(str(exc)) from exc
    message_delivery_mark(message_id=message_id, status=Message.Delivery.SENT, kept=kept)


def message_delivery_waiting(payload: Payload, error: str) -> None:
    """Shown on the case while the delivery is retried; the message stays queued."""
    Message.objects.filter(pk=payload["message"]).update(delivery_error=error[:2000])


def message_delivery_give_up(payload: Payload, error: str) -> None:
    message_delivery_mark(
        message_id=payload["message"], status=Message.Delivery.FAILED, error=error
    )
