"""Web form intake: a submitted contact form becomes an inbound message for the one intake
service; a per-address rate limit keeps floods out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from caseloop.cases.models import Channel
from caseloop.cases.services import AttachmentUpload
from caseloop.channels.base import DeliveryError, InboundMessage, sender_for
from caseloop.channels.intake import IntakeResult, inbound_receive
from caseloop.lib.ratelimit import rate_limit_hit

from .models import DEFAULT_FORM_KEY, WebForm


@dataclass(frozen=True)
class ContactSubmission:
    subject: str
    message: str
    name: str = ""
    email: str = ""
    phone: str = ""
    order_reference: str = ""
    attachments: list[AttachmentUpload] = field(default_factory=list)


def webform_get(*, key: str) -> WebForm | None:
    """The active form with this key; the default form exists even when not configured."""
    form = WebForm.objects.filter(key=key, is_active=True).first()
    if form is None and key == DEFAULT_FORM_KEY:
        form = WebForm(key=DEFAULT_FORM_KEY)
    return form


def webform_rate_limit_hit(*, form: WebForm, address: str) -> bool:
    """Count one submission from `address`; True when it is over the form's limit."""
    return rate_limit_hit(
        f"webform:{form.key}:{address}", limit=form.rate_limit, window=form.rate_window_seconds
    )


def webform_submit(
    *, form: WebForm, submission: ContactSubmission, submission_id: str = ""
) -> IntakeResult:
    """Open a case from a contact form. The same `submission_id` (one per rendered form)
    submitted twice opens one case.
    Side effects: those of `inbound_receive` (customer, case, events, acknowledgement)."""
    text = submission.message
    metadata: dict = {"form": form.key}
    if submission.order_reference:
        metadata["order_reference"] = submission.order_reference
        text = f"{text}\n\nOrder number: {submission.order_reference}"
    return inbound_receive(
        InboundMessage(
            channel=Channel.WEB,
            subject=submission.subject,
            text=text,
            name=submission.name,
            email=submission.email,
            phone=submission.phone,
            attachments=list(submission.attachments),
            metadata=metadata,
            external_id=f"{form.key}:{submission_id}" if submission_id else "",
        )
    )


def webform_deliver(message_id: int) -> Mapping[str, str] | None:
    """Sender for the web channel: a form has no way back, so replies to web-form cases go
    out by email (the email channel's sender) to the address the customer gave."""
    email_sender = sender_for(Channel.EMAIL)
    if email_sender is None:
        raise DeliveryError("replies to web-form cases need the email channel", permanent=True)
    return email_sender(message_id)
