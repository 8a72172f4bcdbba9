"""Email-provider inbound webhooks through django-anymail (Mailgun's inbound route).

Anymail checks Mailgun's signature (HMAC-SHA256 of timestamp + token with the webhook
signing key) and parses the post; its `inbound` signal hands the message to the pipeline.
Without a configured signing key the endpoint refuses everything, so an empty key can
never validate forged posts.
"""

from __future__ import annotations

import logging

from anymail.signals import AnymailInboundEvent, inbound
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from caseloop.lib.inputcheck import input_check_exempt

from .services import email_ingest, mailbox_for_address

logger = logging.getLogger(__name__)


def _signing_key() -> str:
    anymail = getattr(settings, "ANYMAIL", {}) or {}
    return anymail.get("MAILGUN_WEBHOOK_SIGNING_KEY") or anymail.get("MAILGUN_API_KEY") or ""


# The posted message is kept whatever bytes it holds: the email pipeline cleans what it stores.
@input_check_exempt
@csrf_exempt
def mailgun_inbound(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    if not _signing_key():
        return HttpResponse("inbound webhook not configured", status=403)
    return MailgunInboundWebhookView.as_view()(request, *args, **kwargs)


def inbound_received(sender, event: AnymailInboundEvent, esp_name: str, **kwargs) -> None:
    """Anymail `inbound` signal receiver: the message goes through the email pipeline."""
    message = event.message
    if message is None:
        return
    raw = message.as_bytes()
    recipient = getattr(message, "envelope_recipient", None) or ""
    mailbox = mailbox_for_address(recipient) if recipient else None
    email_ingest(
        raw=raw,
        source=f"{esp_name.lower()}:{mailbox.address if mailbox else recipient or '?'}",
        mailbox=mailbox,
        envelope_recipients=[recipient] if recipient else [],
    )


def connect() -> None:
    inbound.connect(inbound_received, dispatch_uid="caseloop.email.inbound")
