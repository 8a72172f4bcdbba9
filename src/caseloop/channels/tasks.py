"""Jobs for channels: delivering outbound messages with retries and backoff."""

from __future__ import annotations

import logging

from huey import signals
from huey.contrib.djhuey import HUEY, task

from caseloop.cases.models import Message
from caseloop.cases.services import message_delivery_mark

from .base import DeliveryError, sender_for

logger = logging.getLogger(__name__)

DELIVERY_RETRIES = 5


def message_deliver_later(message_id: int) -> None:
    """Queue delivery of a committed outbound message; channels with no sender mark it not
    applicable."""
    channel = Message.objects.filter(pk=message_id).values_list("channel", flat=True).first()
    if channel is None:
        return
    if sender_for(channel) is None:
        message_delivery_mark(message_id=message_id, status=Message.Delivery.NOT_APPLICABLE)
        return
    message_deliver(message_id)


@task(retries=DELIVERY_RETRIES, retry_delay=30, context=True)
def message_deliver(message_id: int, task=None) -> None:
    """Deliver one outbound message on its channel. Transient failures retry with backoff;
    the final failure (or a permanent one) is recorded on the message and the case."""
    message = Message.objects.filter(pk=message_id).only("channel", "delivery_status").first()
    if message is None or message.delivery_status == Message.Delivery.SENT:
        return
    sender = sender_for(message.channel)
    if sender is None:
        message_delivery_mark(message_id=message_id, status=Message.Delivery.NOT_APPLICABLE)
        return
    try:
        sender(message_id)
    except DeliveryError as exc:
        retries_left = task.retries if task is not None else 0
        if exc.permanent or retries_left <= 0:
            message_delivery_mark(
                message_id=message_id, status=Message.Delivery.FAILED, error=str(exc)
            )
            return
        if task is not None:
            # Exponential backoff: 30s, 60s, 120s… between attempts.
            task.retry_delay = 30 * 2 ** (DELIVERY_RETRIES - retries_left)
        Message.objects.filter(pk=message_id).update(delivery_error=str(exc)[:2000])
        raise
    message_delivery_mark(message_id=message_id, status=Message.Delivery.SENT)


@HUEY.signal(signals.SIGNAL_ERROR)
def _log_task_error(signal, task, exc=None) -> None:
    logger.warning("job %s failed: %s", task.name, exc)
