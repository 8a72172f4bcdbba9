"""A reply copied to others (CC), signed with the agent's signature, and a message forwarded
to someone outside the desk: over a real SMTP server on loopback."""

import pytest

from caseloop.accounts.services import user_signature_set
from caseloop.cases import message_actions
from caseloop.cases.errors import CaseValidationError
from caseloop.cases.models import CaseEvent, Message
from caseloop.cases.outbox import effects_sweep
from caseloop.cases.services import reply_send
from caseloop.channels.email.services import email_ingest
from tests.builders import bearer, make_agent, make_case

from .mail import make_email

pytestmark = pytest.mark.django_db


def run_effects():
    while effects_sweep():
        pass


def test_a_signed_reply_with_copies_reaches_the_customer_and_each_copy(mailbox, smtp_sink):
    case = email_ingest(raw=make_email(), source="test").result.case
    run_effects()  # the acknowledgement
    smtp_sink.received.clear()
    agent = make_agent(first_name="Ana", last_name="Lopez")
    user_signature_set(user=agent, signature="Ana Lopez\nNorthwind Home support  \n\n")
    reply = reply_send(
        case=case,
        actor=agent,
        text="A replacement kettle leaves today.",
        cc=["Finance@Example.com", " ", "finance@example.com", "warehouse@example.com"],
    )
    run_effects()
    assert reply.text == "A replacement kettle leaves today.\n\nAna Lopez\nNorthwind Home support"
    [(mail_from, rcpts, sent)] = smtp_sink.received
    assert sorted(rcpts) == ["ann@example.com", "finance@example.com", "warehouse@example.com"]
    assert [a.addr_spec for a in sent["Cc"].addresses] == [
        "finance@example.com",
        "warehouse@example.com",
    ]
    assert sent.get_body(("plain",)).get_content().rstrip().endswith("Northwind Home support")

    # Already signed by hand: not signed twice.
    again = reply_send(case=case, actor=agent, text=reply.text)
    assert again.text.count("Ana Lopez") == 1


def test_copies_must_be_addresses_on_an_email_reply():
    agent = make_agent()
    email_case, chat_case = make_case(channel="email"), make_case(channel="chat")
    with pytest.raises(CaseValidationError, match="not an email address"):
        reply_send(case=email_case, actor=agent, text="Hello", cc=["not-an-address"])
    with pytest.raises(CaseValidationError, match="only with a reply by email"):
        reply_send(case=chat_case, actor=agent, text="Hello", cc=["a@example.com"])
    with pytest.raises(CaseValidationError, match="only with a reply by email"):
        reply_send(case=email_case, actor=agent, text="Hello", kind="note", cc=["a@example.com"])
    assert not Message.objects.filter(direction="outbound").exists()


def test_a_forwarded_message_goes_to_the_address_with_its_attachment_not_to_the_customer(
    mailbox, smtp_sink
):
    raw = make_email(
        text="The lid cracked; photo attached.",
        attachments=[("lid.png", b"\x89PNG fake", "image/png")],
    )
    case = email_ingest(raw=raw, source="test").result.case
    run_effects()
    smtp_sink.received.clear()
    agent = make_agent(first_name="Ana", last_name="Lopez")
    agent.email = "ana@desk.test"
    agent.save()
    first = case.messages.get(direction="inbound")
    messages_before = case.messages.count()
    message_actions.message_forward(
        case=case, message_id=first.pk, actor=agent, to="Supplier@Example.com", note="Known defect?"
    )
    run_effects()
    [(_, rcpts, sent)] = smtp_sink.received
    assert rcpts == ["supplier@example.com"]
    body = sent.get_body(("plain",)).get_content()
    assert body.startswith("Known defect?")
    assert "The lid cracked; photo attached." in body and case.reference in body
    assert sent["Reply-To"].addresses[0].addr_spec == "ana@desk.test"
    assert [part.get_filename() for part in sent.iter_attachments()] == ["lid.png"]
    event = CaseEvent.objects.get(case=case, kind="message_forwarded")
    assert event.data["to"] == "supplier@example.com"
    # Nothing new for the customer to see.
    assert case.messages.count() == messages_before

    with pytest.raises(CaseValidationError):
        message_actions.message_forward(case=case, message_id=first.pk, actor=agent, to="nobody")


def test_the_api_sends_copies_and_forwards(api, mailbox, smtp_sink):
    case = email_ingest(raw=make_email(), source="test").result.case
    agent = make_agent()
    sent = api.post(
        f"/api/v1/cases/{case.pk}/messages",
        {"text": "Here you are.", "cc": ["boss@example.com"]},
        headers=bearer(agent),
    )
    assert sent.status_code == 201, sent.content
    assert Message.objects.get(pk=sent.json()["id"]).metadata["cc"] == ["boss@example.com"]
    bad = api.post(
        f"/api/v1/cases/{case.pk}/messages", {"text": "Hi", "cc": ["x"]}, headers=bearer(agent)
    )
    assert bad.status_code == 422 and bad.json()["field"] == "cc"
    first = case.messages.get(direction="inbound")
    forwarded = api.post(
        f"/api/v1/cases/{case.pk}/messages/{first.pk}/forward",
        {"to": "carrier@example.com"},
        headers=bearer(agent),
    )
    assert forwarded.status_code == 202 and forwarded.json()["to"] == "carrier@example.com"
