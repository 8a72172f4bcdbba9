"""The intake keeps whatever a channel hands over, as text a database can store: NUL
characters are dropped and unpaired surrogates become U+FFFD, in every field (PostgreSQL
refuses U+0000 in text and jsonb; no database takes a lone surrogate)."""

import pytest

from caseloop.cases.models import Attachment, Message
from caseloop.cases.services import AttachmentUpload
from caseloop.channels.base import InboundMessage
from caseloop.channels.intake import inbound_quarantine, inbound_receive

pytestmark = pytest.mark.django_db


def test_nul_and_lone_surrogates_from_a_channel_are_cleaned_before_storing():
    result = inbound_receive(
        InboundMessage(
            channel="chat",
            text="The app\x00 crashes \ud83d when I pay",
            subject="Crash\x00",
            name="Zoë\x00 \udcff",
            chat_id="visitor-\x0042",
            raw='{"text": "The app\\u0000 crashes"}\x00',
            external_id="chat-msg-\x001",
            metadata={"chat\x00": {"session": "s\x00", "tags": ["a\ud800"]}},
            attachments=[AttachmentUpload(filename="log\x00.txt", content=b"\x00binary ok")],
        )
    )
    case = result.case
    assert case.subject == "Crash"
    message = Message.objects.get(pk=result.message.pk)
    assert message.text == "The app crashes \ufffd when I pay"
    assert message.external_id == "chat-msg-1"
    assert message.metadata["chat"] == {"session": "s", "tags": ["a\ufffd"]}
    assert case.customer.name == "Zoë \ufffd"
    attachment = Attachment.objects.get()
    assert attachment.filename == "log.txt"
    assert attachment.file.read() == b"\x00binary ok"  # bytes are kept as they came


def test_a_repeat_of_a_cleaned_message_is_still_recognised():
    inbound = InboundMessage(channel="chat", text="hi", chat_id="v1", external_id="m\x001")
    assert not inbound_receive(inbound).duplicate
    assert inbound_receive(inbound).duplicate


def test_quarantine_keeps_text_with_a_lone_surrogate_and_cleans_its_reason():
    held = inbound_quarantine(
        channel="webhook", raw="payload \ud800", reason="bad\x00 input", metadata={"k": "\x00"}
    )
    assert bytes(held.raw) == "payload \ud800".encode("utf-8", "surrogatepass")
    assert held.reason == "bad input" and held.metadata == {"k": ""}
