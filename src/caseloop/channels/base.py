"""The adapter contract for channels.

Inbound: every channel turns its raw input into an `InboundMessage` and hands it to
`caseloop.channels.intake.inbound_receive` — the one intake service.
Outbound: a channel that can carry agent replies registers a sender; replies are delivered
by a job with retries, and the outcome is recorded on the message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from caseloop.cases.services import AttachmentUpload

logger = logging.getLogger(__name__)


@dataclass
class InboundMessage:
    """One message from a customer, whatever the channel."""

    channel: str
    text: str = ""
    html: str = ""
    subject: str = ""
    email: str = ""
    phone: str = ""
    chat_id: str = ""
    social_handle: str = ""
    name: str = ""
    raw: str = ""
    external_id: str = ""
    thread_ids: list[str] = field(default_factory=list)
    case_reference: str = ""
    attachments: list[AttachmentUpload] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    is_auto_reply: bool = False


class DeliveryError(Exception):
    """A sender could not deliver; `permanent` failures are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        self.permanent = permanent
        super().__init__(message)


# A sender delivers an outbound message (by id) and returns what to keep on the message
# with the outcome (its id on the channel, the source sent), or None.
Sender = Callable[[int], Mapping[str, str] | None]
_senders: dict[str, Sender] = {}


def sender_register(channel: str, sender: Sender) -> None:
    """Register the function that delivers an outbound message (by id) on `channel`."""
    _senders[channel] = sender


def sender_for(channel: str) -> Sender | None:
    return _senders.get(channel)


Retrier = Callable[..., object]
_retriers: dict[str, Retrier] = {}


def quarantine_retrier_register(channel: str, retrier: Retrier) -> None:
    """Register how a quarantined input of `channel` is run through its pipeline again:
    retrier(raw=..., metadata=...) returns an IntakeResult or raises IntakeRejected."""
    _retriers[channel] = retrier


def quarantine_retrier_for(channel: str) -> Retrier | None:
    return _retriers.get(channel)
