"""Mailgun inbound route (forward) through django-anymail: real payload shape and signature."""

import hashlib
import hmac
import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from caseloop.cases.models import Case, Message
from caseloop.channels.models import QuarantinedMessage

from .mail import make_email

pytestmark = pytest.mark.django_db

KEY = "key-mailgun-webhook-signing-test"
URL = "/channels/email/mailgun/inbound/"


@pytest.fixture(autouse=True)
def signing_key(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": KEY}


def signed(fields: dict, key: str = KEY) -> dict:
    timestamp = str(int(time.time()))
    token = hashlib.sha256(f"{timestamp}{len(fields)}".encode()).hexdigest()[:50]
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {**fields, "timestamp": timestamp, "token": token, "signature": signature}


def parsed_payload() -> dict:
    """The fields Mailgun posts for a forward() route in its fully-parsed format."""
    headers = [
        ["Received", "by mxa.mailgun.org with SMTP; Mon, 23 Nov 2026 15:00:00 +0000"],
        ["Mime-Version", "1.0"],
        ["From", "Ann Lee <ann@example.com>"],
        ["To", "Desk Support <support@desk.test>"],
        ["Subject", "Toaster burns everything"],
        ["Date", "Mon, 23 Nov 2026 15:00:00 +0000"],
        ["Message-Id", "<CAMailgunParsed-1@mail.example.com>"],
        ["Content-Type", 'multipart/mixed; boundary="b1"'],
    ]
    return {
        "recipient": "support@desk.test",
        "sender": "ann@example.com",
        "from": "Ann Lee <ann@example.com>",
        "subject": "Toaster burns everything",
        "body-plain": "Even on setting 1 the toast comes out black.\n\n-- \nAnn",
        "stripped-text": "Even on setting 1 the toast comes out black.",
        "stripped-signature": "Ann",
        "body-html": "<p>Even on setting 1 the toast comes out <b>black</b>.</p>",
        "stripped-html": "<p>Even on setting 1 the toast comes out <b>black</b>.</p>",
        "attachment-count": "1",
        "message-headers": json.dumps(headers),
        "content-id-map": "{}",
        "X-Mailgun-Incoming": "Yes",
    }


def test_a_signed_fully_parsed_post_becomes_a_case(client, mailbox):
    fields = signed(parsed_payload())
    fields["attachment-1"] = SimpleUploadedFile("toast.jpg", b"\xff\xd8\xff\xe0JFIF", "image/jpeg")
    response = client.post(URL, fields)
    assert response.status_code == 200
    case = Case.objects.get()
    assert case.subject == "Toaster burns everything"
    message = case.messages.get(direction=Message.Direction.INBOUND)
    assert message.text == "Even on setting 1 the toast comes out black."
    assert "<b>black</b>" in message.html
    assert message.external_id == "CAMailgunParsed-1@mail.example.com"
    assert message.metadata["email"]["source"] == "mailgun:support@desk.test"
    [attachment] = message.attachments.all()
    assert attachment.filename == "toast.jpg" and attachment.size == 8
    assert case.email_thread.mailbox == mailbox


def test_a_signed_raw_mime_post_becomes_a_case_once(client, mailbox):
    raw = make_email(subject="Fridge is noisy", message_id="<mime-1@example.com>")
    fields = {
        "recipient": "support+hello@desk.test",
        "sender": "ann@example.com",
        "from": "Ann Lee <ann@example.com>",
        "subject": "Fridge is noisy",
        "body-mime": raw.decode(),
    }
    assert client.post("/channels/email/mailgun/inbound_mime/", signed(fields)).status_code == 200
    assert client.post("/channels/email/mailgun/inbound_mime/", signed(fields)).status_code == 200
    assert Case.objects.get().subject == "Fridge is noisy"
    assert Message.objects.filter(direction="inbound").count() == 1


def test_a_bad_signature_is_refused_and_creates_nothing(client, mailbox):
    fields = signed(parsed_payload(), key="key-of-an-attacker")
    response = client.post(URL, fields)
    assert 400 <= response.status_code < 500
    unsigned = parsed_payload()
    assert 400 <= client.post(URL, unsigned).status_code < 500
    assert not Case.objects.exists() and not QuarantinedMessage.objects.exists()


def test_without_a_signing_key_the_endpoint_refuses_everything(client, mailbox, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": ""}
    # with an empty key anyone could compute a "valid" signature; it must not count
    response = client.post(URL, signed(parsed_payload(), key=""))
    assert response.status_code == 403
    assert not Case.objects.exists()
