"""Email out over a real SMTP server on loopback (an aiosmtpd server capturing mail)."""

import pytest

from caseloop.cases.models import CaseEvent, Message
from caseloop.cases.services import message_add
from caseloop.channels.email.services import email_ingest
from caseloop.channels.email.tokens import reply_token_verify
from tests.builders import make_agent

from .conftest import free_port
from .mail import make_email

pytestmark = pytest.mark.django_db


def inbound_case(raw: bytes):
    return email_ingest(raw=raw, source="test").result


def test_agent_reply_goes_out_from_the_mailbox_threaded_with_a_reply_token(mailbox, smtp_sink):
    first = inbound_case(make_email(message_id="<ask-1@example.com>"))
    second = inbound_case(
        make_email(
            subject="Re: My kettle arrived broken",
            text="Also the handle is loose.",
            message_id="<ask-2@example.com>",
            in_reply_to="<ask-1@example.com>",
        )
    )
    case = first.case
    assert second.case == case
    agent = make_agent()
    reply = message_add(
        case=case,
        direction=Message.Direction.OUTBOUND,
        text="Sorry about that — a replacement is on its way.",
        html="<p>Sorry about that — a <b>replacement</b> is on its way.</p>",
        actor=agent,
    )
    # the reply is delivered after commit; outside a transaction test that happens at once
    from caseloop.cases.outbox import effects_sweep

    effects_sweep()
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT
    [(mail_from, rcpts, sent)] = smtp_sink.received
    assert mail_from == "support@desk.test" and rcpts == ["ann@example.com"]
    assert sent["From"].addresses[0].addr_spec == "support@desk.test"
    assert sent["From"].addresses[0].display_name == "Desk Support"
    assert sent["Message-ID"] == f"<{reply.external_id}>"
    assert sent["In-Reply-To"] == "<ask-2@example.com>"
    assert sent["References"] == "<ask-1@example.com> <ask-2@example.com>"
    assert sent["Subject"] == f"Re: My kettle arrived broken [{case.reference}]"
    reference, verified = reply_token_verify(sent["Reply-To"].addresses[0].addr_spec)
    assert reference == case.reference and verified
    assert "replacement is on its way" in sent.get_body(("plain",)).get_content()
    assert "<b>replacement</b>" in sent.get_body(("html",)).get_content()
    assert "Auto-Submitted" not in sent
    assert reply.raw and reply.external_id in reply.raw

    # the customer's answer to that mail threads by In-Reply-To onto the same case
    answer = inbound_case(
        make_email(
            subject=f"Re: My kettle arrived broken [{case.reference}]",
            text="Great, thanks!",
            in_reply_to=sent["Message-ID"],
        )
    )
    assert answer.case == case


def test_a_refused_recipient_fails_permanently_and_shows_on_the_case(mailbox, smtp_sink):
    smtp_sink.refuse.add("gone@example.com")
    case = inbound_case(make_email(sender="gone@example.com")).case
    reply = message_add(
        case=case, direction=Message.Direction.OUTBOUND, text="Hello", actor=make_agent()
    )
    from caseloop.cases.outbox import effects_sweep

    effects_sweep()
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED
    assert "550" in reply.delivery_error and "gone@example.com" in reply.delivery_error
    event = CaseEvent.objects.filter(case=case, kind="delivery_changed").last()
    assert event.data["after"] == "failed" and "550" in event.data["error"]
    assert smtp_sink.received == []


def test_an_unreachable_server_is_retried_not_failed(mailbox, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_TIMEOUT = 2
    case = inbound_case(make_email()).case
    reply = message_add(
        case=case, direction=Message.Direction.OUTBOUND, text="Hello", actor=make_agent()
    )
    from caseloop.channels.base import DeliveryError
    from caseloop.channels.email.sender import email_send

    with pytest.raises(DeliveryError) as info:
        email_send(reply.pk)
    assert info.value.permanent is False
    from caseloop.cases.outbox import effects_sweep

    effects_sweep()  # the retry is scheduled with backoff, not run now
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.QUEUED
    assert "could not reach the mail server" in reply.delivery_error


def test_a_case_without_mailbox_sends_from_the_default_address(smtp_sink, settings):
    from tests.builders import make_case

    settings.DEFAULT_FROM_EMAIL = "help@desk.test"
    case = make_case(subject="Where is my parcel")
    message_add(
        case=case, direction=Message.Direction.OUTBOUND, text="On its way", actor=make_agent()
    )
    from caseloop.cases.outbox import effects_sweep

    effects_sweep()
    [(mail_from, _rcpts, sent)] = smtp_sink.received
    assert mail_from == "help@desk.test"
    assert sent["Reply-To"].addresses[0].addr_spec.startswith(f"help+{case.reference}.")
    assert "In-Reply-To" not in sent
