"""SMTP into the built-in gateway with smtplib: the real protocol on loopback."""

import smtplib

import pytest

from caseloop.cases.models import Case, Message
from caseloop.channels.email.models import EmailThread
from caseloop.channels.email.tokens import reply_address
from caseloop.channels.models import InboundReceipt, QuarantinedMessage

from .mail import make_email

pytestmark = pytest.mark.django_db(transaction=True)


def send(gateway, raw: bytes, *, to: str = "support@desk.test", sender: str = "ann@example.com"):
    with smtplib.SMTP(gateway.hostname, gateway.port, timeout=10) as client:
        return client.sendmail(sender, [to], raw)


def test_mail_for_a_configured_address_becomes_a_case(gateway, mailbox):
    send(gateway, make_email(subject="Kettle lid cracked"))
    case = Case.objects.get()
    assert case.subject == "Kettle lid cracked" and case.channel == "email"
    assert case.customer.contact_points.get(kind="email").value == "ann@example.com"
    assert EmailThread.objects.get(case=case).mailbox == mailbox
    inbound = case.messages.get(direction=Message.Direction.INBOUND)
    assert "cracked lid" in inbound.text
    assert inbound.metadata["email"]["source"] == "smtp:support@desk.test"


def test_mail_for_an_unknown_address_is_refused_with_550(gateway):
    with smtplib.SMTP(gateway.hostname, gateway.port, timeout=10) as client:
        client.ehlo()
        client.mail("ann@example.com")
        code, reply = client.rcpt("sales@desk.test")
        assert code == 550 and reply.startswith(b"5.1.1")
        code, _ = client.rcpt("support+anything@desk.test")
        assert code == 250
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(gateway, make_email(to="nobody@elsewhere.test"), to="nobody@elsewhere.test")
    assert not Case.objects.exists()


def test_mail_over_the_size_limit_is_refused_with_552(gateway):
    big = make_email(attachments=[("big.bin", b"x" * 300_000, "application/octet-stream")])
    with pytest.raises(smtplib.SMTPException) as info:
        send(gateway, big)
    assert getattr(info.value, "smtp_code", None) == 552
    assert not Case.objects.exists() and not QuarantinedMessage.objects.exists()


def test_the_same_message_id_twice_creates_nothing_new(gateway):
    raw = make_email(message_id="<same-1@example.com>")
    send(gateway, raw)
    send(gateway, raw)
    assert Case.objects.count() == 1 and Message.objects.filter(direction="inbound").count() == 1
    assert InboundReceipt.objects.filter(channel="email", external_id="same-1@example.com").exists()


def test_a_reply_with_in_reply_to_joins_the_same_case(gateway):
    send(gateway, make_email(message_id="<first-1@example.com>"))
    send(
        gateway,
        make_email(
            subject="Re: My kettle arrived broken",
            text="Any news?\n\nOn Monday Ann wrote:\n> old",
            message_id="<second-1@example.com>",
            in_reply_to="<first-1@example.com>",
            references="<first-1@example.com>",
        ),
    )
    case = Case.objects.get()
    texts = list(case.messages.filter(direction="inbound").values_list("text", flat=True))
    assert texts[1] == "Any news?"


def test_a_reply_to_the_signed_token_joins_the_case_even_from_another_address(gateway):
    send(gateway, make_email())
    case = Case.objects.get()
    token = reply_address(mailbox_address="support@desk.test", reference=case.reference)
    send(
        gateway,
        make_email(sender="Bob Lee <bob@example.com>", to=token, subject="About Ann's kettle"),
        to=token,
        sender="bob@example.com",
    )
    assert Case.objects.count() == 1
    assert case.messages.filter(direction="inbound").count() == 2
    reply = case.messages.filter(direction="inbound").last()
    assert reply.metadata["reference_verified"] is True


def test_a_tampered_token_is_not_trusted(gateway):
    send(gateway, make_email())
    case = Case.objects.get()
    token = reply_address(mailbox_address="support@desk.test", reference=case.reference)
    local, domain = token.split("@")
    reference, signature = local.split("+")[1].split(".")
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    forged = f"support+{reference}.{flipped}@{domain}"
    send(
        gateway,
        make_email(sender="Mallory <mallory@example.com>", to=forged, subject="Let me in"),
        to=forged,
        sender="mallory@example.com",
    )
    assert Case.objects.count() == 2
    assert case.messages.filter(direction="inbound").count() == 1


def test_the_subject_tag_threads_only_for_the_same_customer(gateway):
    send(gateway, make_email())
    case = Case.objects.get()
    send(gateway, make_email(subject=f"Re: kettle [{case.reference}]", text="Still broken."))
    send(
        gateway,
        make_email(sender="eve@example.com", subject=f"[{case.reference}] hi", text="Hi."),
        sender="eve@example.com",
    )
    assert case.messages.filter(direction="inbound").count() == 2
    assert Case.objects.count() == 2


def test_unplaceable_mail_is_quarantined_and_still_answered_250(gateway):
    raw = b"To: support@desk.test\r\nSubject: who am I\r\n\r\nno sender here\r\n"
    with smtplib.SMTP(gateway.hostname, gateway.port, timeout=10) as client:
        client.ehlo()
        client.mail("")
        client.rcpt("support@desk.test")
        code, _ = client.data(raw)
    assert code == 250
    item = QuarantinedMessage.objects.get()
    assert item.reason == "no usable sender address (From)" and bytes(item.raw) == raw
    assert item.channel == "email" and item.metadata["envelope_recipients"] == ["support@desk.test"]


def test_the_gateway_also_speaks_lmtp(transactional_db, mailbox):
    from caseloop.channels.email.gateway import GatewayController

    from .conftest import free_port

    controller = GatewayController(host="127.0.0.1", port=free_port(), lmtp=True)
    controller.start()
    try:
        with smtplib.LMTP(controller.hostname, controller.port, timeout=10) as client:
            refused = client.sendmail("ann@example.com", ["support@desk.test"], make_email())
        assert refused == {}
    finally:
        controller.stop()
    assert Case.objects.count() == 1


@pytest.fixture
def secured_gateway(transactional_db, mailbox, tmp_path):
    """The gateway with a certificate, STARTTLS required and a login."""
    import ssl

    from caseloop.channels.email.gateway import GatewayController, GatewayLogin, tls_context_load

    from .conftest import free_port, tls_certificate_make

    tls_certificate_make(tmp_path / "tls")
    controller = GatewayController(
        host="127.0.0.1",
        port=free_port(),
        tls_context=tls_context_load(
            cert_file=str(tmp_path / "tls" / "cert.pem"), key_file=str(tmp_path / "tls" / "key.pem")
        ),
        require_tls=True,
        login=GatewayLogin.parse("relay:s3cret-relay"),
    )
    controller.start()
    controller.client_context = ssl.create_default_context(
        cafile=str(tmp_path / "tls" / "cert.pem")
    )
    try:
        yield controller
    finally:
        controller.stop()


def test_a_secured_gateway_takes_mail_over_starttls_after_login(secured_gateway):
    with smtplib.SMTP(secured_gateway.hostname, secured_gateway.port, timeout=10) as client:
        client.starttls(context=secured_gateway.client_context)
        client.login("relay", "s3cret-relay")
        refused = client.sendmail("ann@example.com", ["support@desk.test"], make_email())
    assert refused == {}
    assert Case.objects.count() == 1


def test_a_secured_gateway_refuses_plaintext_and_wrong_logins(secured_gateway):
    gateway = secured_gateway
    with smtplib.SMTP(gateway.hostname, gateway.port, timeout=10) as client:
        client.ehlo()
        # Neither mail nor a login in the clear: AUTH is not even offered before TLS.
        assert not client.has_extn("auth")
        code, _ = client.mail("ann@example.com")
        assert code == 530
    with smtplib.SMTP(gateway.hostname, gateway.port, timeout=10) as client:
        client.starttls(context=gateway.client_context)
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            client.login("relay", "wrong-password")
        assert refused.value.smtp_code == 535
        code, _ = client.mail("ann@example.com")
        assert code == 530  # still not logged in
    assert not Case.objects.exists()


def test_requiring_tls_or_a_login_without_a_certificate_is_a_clear_error():
    from caseloop.channels.email.gateway import GatewayController, GatewayLogin

    with pytest.raises(ValueError, match="certificate"):
        GatewayController(require_tls=True)
    with pytest.raises(ValueError, match="certificate"):
        GatewayController(login=GatewayLogin.parse("relay:pw"))
    with pytest.raises(ValueError, match="user:password"):
        GatewayLogin.parse("no-colon")
