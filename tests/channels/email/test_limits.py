"""Limits on what one email may make: MIME parts and attachments are capped (the message is
still filed; the whole of it is kept in quarantine with the reason), long lines pass the
SMTP gateway, and a reused Message-ID keeps both messages unless it is a true re-delivery."""

import smtplib

import pytest

from caseloop.cases.errors import CaseValidationError
from caseloop.cases.models import Attachment, Case, Message
from caseloop.cases.services import AttachmentUpload, message_add
from caseloop.channels.email.parser import email_parse
from caseloop.channels.email.services import email_ingest
from caseloop.channels.models import InboundReceipt, QuarantinedMessage
from tests.builders import bearer, make_agent, make_case

from .mail import make_email
from .test_webhook import signed

pytestmark = pytest.mark.django_db


def many_part_email(parts: int, *, message_id: str = "<bomb-1@example.com>") -> bytes:
    """A small message of `parts` empty attachments after a short text part (~50 bytes a
    part: 5,000 parts make ~245 KB)."""
    head = (
        "From: Mallory <mallory@example.com>\r\n"
        "To: support@desk.test\r\n"
        "Subject: Many parts\r\n"
        f"Message-ID: {message_id}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nPlease see the attached files.\r\n"
    )
    empty = "--b\r\nContent-Type: application/octet-stream\r\n\r\n\r\n"
    return (head + empty * parts + "--b--\r\n").encode()


# -- caps on MIME parts and attachments ------------------------------------------------------


def test_a_5000_part_email_is_filed_with_50_attachments_and_kept_whole_in_quarantine(mailbox):
    raw = many_part_email(5000)
    assert 200_000 < len(raw) < 300_000
    outcome = email_ingest(raw=raw, source="test", mailbox=mailbox)
    case = outcome.result.case
    message = case.messages.get()
    assert "Please see the attached files." in message.text
    assert Attachment.objects.count() == 50 and message.attachments.count() == 50
    held = QuarantinedMessage.objects.get()
    assert bytes(held.raw) == raw and held.case == case
    assert held.state == QuarantinedMessage.State.HELD
    assert "5002 MIME parts, more than the 500 allowed" in held.reason
    assert "attachments, more than the 50 allowed" in held.reason
    assert case.reference in held.reason
    note = message.metadata["email"]
    assert note["left_out"].startswith("5002 MIME parts") and note["left_out_quarantine"] == held.pk


def test_the_attachment_cap_alone_names_the_count_in_the_reason(mailbox, settings):
    settings.MAX_MIME_PARTS = 10_000
    email_ingest(raw=many_part_email(800), source="test", mailbox=mailbox)
    held = QuarantinedMessage.objects.get()
    assert held.reason.startswith("800 attachments, more than the 50 allowed; filed on CL-")
    assert Attachment.objects.count() == 50


def test_caps_come_from_the_settings(mailbox, settings):
    settings.MAX_ATTACHMENTS_PER_MESSAGE = 3
    email_ingest(raw=many_part_email(5), source="test", mailbox=mailbox)
    assert Attachment.objects.count() == 3
    assert QuarantinedMessage.objects.get().reason.startswith("5 attachments, more than the 3")


def test_a_message_within_the_caps_is_not_quarantined(mailbox):
    email_ingest(raw=many_part_email(50), source="test", mailbox=mailbox)
    assert Attachment.objects.count() == 50
    assert not QuarantinedMessage.objects.exists()
    assert "left_out" not in Message.objects.get().metadata["email"]


def test_a_redelivered_capped_message_is_neither_filed_nor_quarantined_again(mailbox):
    raw = many_part_email(600)
    email_ingest(raw=raw, source="test", mailbox=mailbox)
    email_ingest(raw=raw, source="test", mailbox=mailbox)
    assert Case.objects.count() == 1 and QuarantinedMessage.objects.count() == 1


def test_the_parser_reads_no_more_parts_than_allowed():
    parsed = email_parse(many_part_email(5000), max_parts=20, max_attachments=5)
    assert len(parsed.attachments) == 5
    assert parsed.left_out == (
        "5002 MIME parts, more than the 20 allowed; "
        "at least 18 attachments, more than the 5 allowed"
    )
    assert email_parse(make_email()).left_out == ""


def test_the_case_core_refuses_more_attachments_than_allowed_from_any_channel(settings):
    settings.MAX_ATTACHMENTS_PER_MESSAGE = 2
    case = make_case()
    uploads = [AttachmentUpload(filename=f"{n}.txt", content=b"x") for n in range(3)]
    with pytest.raises(CaseValidationError, match="3 attachments, more than the 2 allowed"):
        message_add(case=case, direction="inbound", text="files", attachments=uploads)
    assert not Attachment.objects.exists()


def test_the_api_answers_422_for_too_many_attachments(client, settings):
    settings.MAX_ATTACHMENTS_PER_MESSAGE = 2
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = make_case()
    files = [SimpleUploadedFile(f"{n}.txt", b"x") for n in range(3)]
    response = client.post(
        f"/api/v1/cases/{case.pk}/messages",
        {"text": "files", "direction": "note", "attachments": files},
        headers=bearer(make_agent()),
    )
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "case_invalid"


# -- NUL bytes from mail ---------------------------------------------------------------------


def test_nul_bytes_in_a_mail_never_reach_the_database(mailbox):
    raw = (
        b"From: =?utf-8?q?Ann=00_Lee?= <ann@example.com>\r\nTo: support@desk.test\r\n"
        b"Subject: Kettle\x00 broken\r\nMessage-ID: <nul-1@example.com>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nThe lid\x00 cracked.\r\n"
    )
    outcome = email_ingest(raw=raw, source="test", mailbox=mailbox)
    case = outcome.result.case
    assert case.subject == "Kettle broken"
    message = case.messages.get()
    assert message.text.startswith("The lid cracked.")
    assert message.metadata["email"]["raw_encoding"] == "base64"
    assert "\x00" not in case.customer.name


def test_a_mailgun_post_with_a_nul_byte_is_filed_not_refused(client, mailbox, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": "k"}
    raw = make_email(message_id="<mg-nul@example.com>", text="Odd\x00 bytes")
    fields = {"recipient": "support@desk.test", "body-mime": raw.decode()}
    response = client.post("/channels/email/mailgun/inbound_mime/", signed(fields, key="k"))
    assert response.status_code == 200, response.content
    assert "Odd bytes" in Message.objects.get().text


# -- Message-ID reused -----------------------------------------------------------------------


def test_two_different_messages_with_one_message_id_are_both_kept(mailbox):
    first = make_email(message_id="<reused@broken.example>", text="My kettle leaks.")
    second = make_email(
        message_id="<reused@broken.example>", subject="Another thing", text="And the lid."
    )
    email_ingest(raw=first, source="test", mailbox=mailbox)
    outcome = email_ingest(raw=second, source="test", mailbox=mailbox)
    assert not outcome.result.duplicate
    texts = sorted(Message.objects.values_list("text", flat=True))
    assert texts == ["And the lid.", "My kettle leaks."]
    kept = outcome.result.message
    assert kept.external_id.startswith("reused@broken.example#")
    assert kept.metadata["email"]["message_id"] == "reused@broken.example"
    # and the second message's own re-delivery is still recognised
    assert email_ingest(raw=second, source="test", mailbox=mailbox).result.duplicate
    assert Message.objects.count() == 2


def test_a_true_redelivery_with_the_same_body_is_still_ignored(mailbox):
    raw = make_email(message_id="<once@example.com>")
    relayed = b"Received: from mx2.example.net by mx.desk.test; Mon, 23 Nov 2026\r\n" + raw
    email_ingest(raw=raw, source="test", mailbox=mailbox)
    again = email_ingest(raw=relayed, source="imap", mailbox=mailbox)
    assert again.result.duplicate
    assert Message.objects.count() == 1
    assert InboundReceipt.objects.get().external_id == "once@example.com"


def test_a_message_stored_before_digests_were_kept_is_compared_by_its_raw(mailbox):
    raw = make_email(message_id="<legacy@example.com>")
    email_ingest(raw=raw, source="test", mailbox=mailbox)
    message = Message.objects.get()
    del message.metadata["email"]["content_sha256"]
    message.save(update_fields=["metadata"])
    assert email_ingest(raw=raw, source="test", mailbox=mailbox).result.duplicate
    different = make_email(message_id="<legacy@example.com>", text="Something else.")
    assert not email_ingest(raw=different, source="test", mailbox=mailbox).result.duplicate


# -- long lines over SMTP --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_5000_character_line_passes_the_smtp_gateway(gateway):
    line = "word " * 1000
    raw = (
        "From: Ann Lee <ann@example.com>\r\nTo: support@desk.test\r\n"
        "Subject: One long line\r\nMessage-ID: <long-line@example.com>\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
        f"{line}\r\n"
    ).encode()
    assert max(len(row) for row in raw.split(b"\r\n")) == 5000
    with smtplib.SMTP(gateway.hostname, gateway.port, timeout=10) as client:
        refused = client.sendmail("ann@example.com", ["support@desk.test"], raw)
    assert refused == {}
    message = Message.objects.get(direction="inbound")
    assert message.text.strip() == line.strip()


@pytest.mark.django_db(transaction=True)
def test_the_gateway_line_limit_is_a_setting(mailbox, settings):
    from caseloop.channels.email.gateway import GatewayController

    from .conftest import free_port

    settings.MAIL_GATEWAY_MAX_LINE_BYTES = 2000
    controller = GatewayController(host="127.0.0.1", port=free_port())
    controller.start()
    try:
        raw = make_email(message_id="<too-long@example.com>").replace(
            b"\n\nHello", b"\n\n" + b"x" * 3000 + b"\r\nHello", 1
        )
        with (
            pytest.raises(smtplib.SMTPDataError) as refused,
            smtplib.SMTP(controller.hostname, controller.port, timeout=10) as client,
        ):
            client.sendmail("ann@example.com", ["support@desk.test"], raw)
        assert refused.value.smtp_code == 500
    finally:
        controller.stop()
