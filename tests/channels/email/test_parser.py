from pathlib import Path

import pytest

from caseloop.cases.models import CaseEvent, Message
from caseloop.channels.email.parser import EmailUnparsable, email_parse
from caseloop.channels.email.quotes import reply_split
from caseloop.channels.email.services import email_ingest
from caseloop.lib.html import html_sanitize
from tests.builders import make_case

from .mail import make_email

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_multipart_alternative_gives_both_text_and_html():
    raw = make_email(text="Plain body here.", html="<p>HTML <b>body</b> here.</p>")
    parsed = email_parse(raw)
    assert parsed.text == "Plain body here."
    assert "<b>body</b>" in parsed.html
    assert parsed.attachments == []


def test_encoded_headers_charsets_inline_images_and_attachments_are_read():
    parsed = email_parse(fixture("related_inline_image.eml"))
    assert parsed.from_name == "María Gómez"
    assert parsed.subject == "Factura duplicada – pedido 4411"
    assert "Gracias, María" in parsed.text
    assert 'src="cid:shot-1@example.org"' in parsed.html
    by_name = {a.filename: a for a in parsed.attachments}
    assert set(by_name) == {"captura.png", "factura-4411.pdf"}
    assert by_name["captura.png"].content_id == "shot-1@example.org"
    assert by_name["captura.png"].content.startswith(b"\x89PNG")
    assert by_name["factura-4411.pdf"].content.startswith(b"%PDF")
    assert by_name["factura-4411.pdf"].content_id == ""


def test_unknown_charset_falls_back_instead_of_crashing():
    parsed = email_parse(fixture("unknown_charset.eml"))
    assert "Café grinder" in parsed.text and "—" in parsed.text


def test_eight_bit_windows_1252_body_is_decoded():
    parsed = email_parse(fixture("windows1252_8bit.eml"))
    assert parsed.subject == "Réclamation"
    assert "modèle reçu" in parsed.text and "–" in parsed.text


def test_reply_keeps_new_text_and_drops_quote_and_signature():
    parsed = email_parse(fixture("gmail_reply.eml"))
    assert parsed.new_text == "Thanks, a replacement would be perfect. I'm home all week."
    assert "Would you like a refund" in parsed.text


@pytest.mark.parametrize(
    "body",
    [
        "Yes please.\n\n-----Original Message-----\nFrom: Desk\nSent: Monday\n\nOld text",
        "Yes please.\n\n________________________________\nFrom: Desk <s@desk.test>\nSent: Mon",
        "Yes please.\n\nFrom: Desk <s@desk.test>\nSent: Monday\nTo: Ann\nSubject: Re: x\n\nOld",
        "Yes please.\n\nLe lun. 23 nov. 2026 à 10:12, Desk <s@desk.test> a écrit :\n> Old",
        "Yes please.\n\nSent from my iPhone",
        "Yes please.\n-- \nAnn Lee\nPhone 555",
        "Yes please.\n\n> Old line one\n> Old line two",
    ],
)
def test_reply_split_recognises_common_quote_and_signature_forms(body):
    assert reply_split(body) == "Yes please."


def test_interleaved_answers_are_kept_whole():
    body = "> Which colour?\nBlue.\n> Which size?\nLarge."
    assert reply_split(body) == body


def test_a_bare_forward_keeps_its_text():
    body = "-----Original Message-----\nFrom: Bob\nSent: Monday\n\nThe actual content"
    assert "The actual content" in reply_split(body)


@pytest.mark.django_db
def test_hostile_html_is_sanitized_before_it_is_stored(mailbox):
    outcome = email_ingest(raw=fixture("hostile_html.eml"), source="test")
    message = outcome.result.message
    html = message.html
    for bad in ("<script", "onload", "onerror", "javascript:", "<iframe", "<form", "<style"):
        assert bad not in html.lower()
    assert "<b>account</b>" in html and 'href="https://example.com/help"' in html
    assert html == html_sanitize(html)
    assert "account is locked" in message.text


def test_auto_reply_headers_are_recognised():
    for headers in (
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"Precedence": "list"},
        {"X-Autoreply": "yes"},
        {"List-Id": "<news.example.com>"},
    ):
        assert email_parse(make_email(headers=headers)).is_auto_reply, headers
    assert email_parse(make_email(sender="MAILER-DAEMON@mx.example.com")).is_auto_reply
    assert not email_parse(make_email(headers={"Auto-Submitted": "no"})).is_auto_reply
    assert not email_parse(make_email()).is_auto_reply


def test_delivery_status_notification_is_read_as_a_bounce():
    parsed = email_parse(fixture("bounce_dsn.eml"))
    assert parsed.is_auto_reply
    bounce = parsed.bounce
    assert bounce is not None and bounce.is_failure
    assert bounce.status == "5.1.1" and bounce.failed_recipients == ["gone@example.com"]
    assert bounce.original_ids == ["ORIGINAL_ID"]
    assert "User unknown" in bounce.diagnostic


@pytest.mark.django_db
def test_auto_reply_joins_without_an_acknowledgement(mailbox, django_capture_on_commit_callbacks):
    raw = fixture("out_of_office.eml")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = email_ingest(raw=raw, source="test")
    case = outcome.result.case
    assert outcome.result.message.metadata["auto_reply"] is True
    assert not case.messages.filter(direction=Message.Direction.OUTBOUND).exists()
    assert CaseEvent.objects.filter(case=case, kind="acknowledgement_skipped").exists()


@pytest.mark.django_db
def test_a_normal_email_is_acknowledged_by_mail(mailbox, django_capture_on_commit_callbacks):
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        outcome = email_ingest(raw=make_email(), source="test")
    case = outcome.result.case
    ack = case.messages.get(direction=Message.Direction.OUTBOUND)
    assert ack.delivery_status == Message.Delivery.SENT
    [sent] = mail.outbox
    assert sent.to == ["ann@example.com"] and case.reference in sent.subject
    assert sent.extra_headers["Auto-Submitted"] == "auto-replied"
    assert sent.extra_headers["In-Reply-To"] == f"<{outcome.result.message.external_id}>"


@pytest.mark.django_db
def test_bounce_of_our_reply_marks_it_failed_and_lands_on_its_case(mailbox):
    case = make_case(customer=None)
    sent = Message.objects.create(
        case=case,
        direction=Message.Direction.OUTBOUND,
        channel="email",
        text="Here is your refund.",
        external_id="reply-77@desk.test",
        delivery_status=Message.Delivery.SENT,
    )
    raw = fixture("bounce_dsn.eml").replace(b"ORIGINAL_ID", b"reply-77@desk.test")
    outcome = email_ingest(raw=raw, source="test")
    sent.refresh_from_db()
    assert sent.delivery_status == Message.Delivery.FAILED
    assert "5.1.1" in sent.delivery_error and "gone@example.com" in sent.delivery_error
    assert CaseEvent.objects.filter(case=case, kind="delivery_changed").exists()
    assert outcome.result.case == case
    assert outcome.result.message.metadata["auto_reply"] is True


@pytest.mark.django_db
def test_bounce_matching_nothing_we_sent_is_quarantined(mailbox):
    outcome = email_ingest(raw=fixture("bounce_dsn.eml"), source="test")
    assert outcome.result is None
    assert "matches no message we sent" in outcome.quarantined.reason


@pytest.mark.django_db
def test_message_without_sender_is_quarantined_with_reason(mailbox):
    raw = make_email().replace(b"From: Ann Lee <ann@example.com>\n", b"")
    outcome = email_ingest(raw=raw, source="test")
    assert (
        outcome.result is None and outcome.quarantined.reason == "no usable sender address (From)"
    )
    assert bytes(outcome.quarantined.raw) == raw


def test_empty_input_is_unparsable():
    with pytest.raises(EmailUnparsable):
        email_parse(b"   \r\n")
    with pytest.raises(EmailUnparsable):
        email_parse(b"\r\n\r\njust a body, no headers at all\r\n")


@pytest.mark.django_db
def test_raw_source_and_full_text_are_kept(mailbox):
    raw = fixture("gmail_reply.eml")
    message = email_ingest(raw=raw, source="test").result.message
    assert message.raw.encode("utf-8") == raw
    assert message.text.startswith("Thanks, a replacement")
    assert "Would you like a refund" in message.metadata["email"]["full_text"]


@pytest.mark.django_db
def test_eight_bit_raw_source_is_kept_byte_for_byte(mailbox):
    from caseloop.channels.email.parser import raw_from_text

    raw = fixture("windows1252_8bit.eml")
    message = email_ingest(raw=raw, source="test").result.message
    encoding = message.metadata["email"]["raw_encoding"]
    assert raw_from_text(message.raw, encoding) == raw


@pytest.mark.django_db
def test_an_out_of_office_reply_does_not_reopen_a_solved_case(mailbox):
    from caseloop.cases.services import case_transition
    from tests.builders import make_agent

    first = email_ingest(raw=make_email(message_id="<ask-9@example.com>"), source="test").result
    agent = make_agent()
    case_transition(case=first.case, to="open", actor=agent)
    case_transition(case=first.case, to="solved", actor=agent)
    ooo = make_email(
        subject="Automatic reply: My kettle arrived broken",
        text="I am away until Monday.",
        in_reply_to="<ask-9@example.com>",
        headers={"Auto-Submitted": "auto-replied"},
    )
    assert email_ingest(raw=ooo, source="test").result.case == first.case
    first.case.refresh_from_db()
    assert first.case.status == "solved"
    real = make_email(text="It broke again.", in_reply_to="<ask-9@example.com>")
    email_ingest(raw=real, source="test")
    first.case.refresh_from_db()
    assert first.case.status == "open"


@pytest.mark.django_db
def test_an_attachment_over_the_limit_quarantines_the_mail_with_a_clear_reason(mailbox, settings):
    settings.MAX_ATTACHMENT_BYTES = 1000
    raw = make_email(attachments=[("scan.pdf", b"%PDF" + b"0" * 5000, "application/pdf")])
    outcome = email_ingest(raw=raw, source="test")
    assert outcome.result is None
    assert outcome.quarantined.reason.startswith("attachment 'scan.pdf' is 5004 bytes")
    assert bytes(outcome.quarantined.raw) == raw
    assert not Message.objects.exists()
