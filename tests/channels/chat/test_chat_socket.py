"""The chat socket in process, through the project's ASGI application."""

import re

import pytest
from channels.db import database_sync_to_async
from django.core import mail

from caseloop.asgi import application
from caseloop.cases.models import Case, CaseEvent, Message
from caseloop.cases.services import message_add
from caseloop.channels.chat.models import ChatConversation, ChatWidget
from caseloop.customers.models import ContactPoint, Customer
from tests.builders import make_agent, make_customer
from tests.sockets import SocketPeer

pytestmark = pytest.mark.django_db(transaction=True)

SHOP = "https://shop.example"


@pytest.fixture
def widget():
    return ChatWidget.objects.create(
        key="shop", name="Shop", allowed_origins=SHOP, greeting="Hi! Ask us anything."
    )


async def open_socket(key="shop", *, origin=SHOP, visitor=""):
    path = f"/ws/chat/{key}/" + (f"?visitor={visitor}" if visitor else "")
    socket = SocketPeer(application, path, headers=[(b"origin", origin.encode())])
    connected, code = await socket.connect()
    return socket, connected, code


async def until(socket, kind, *, text_contains=""):
    """Read frames until one of `kind` (and containing the text) arrives."""
    for _ in range(20):
        frame = await socket.receive_json_from(timeout=20)
        if frame["type"] == kind and text_contains in str(frame):
            return frame
    raise AssertionError(f"no {kind} frame")


async def test_an_anonymous_visitor_opens_a_case_and_hears_the_acknowledgement_live(widget):
    socket, connected, _ = await open_socket()
    assert connected
    welcome = await socket.receive_json_from()
    assert welcome["type"] == "welcome" and welcome["greeting"] == "Hi! Ask us anything."
    visitor = welcome["visitor"]
    await socket.send_json_to({"type": "message", "text": "Where is my order?", "id": "c1"})
    received = await until(socket, "received")
    ack = await until(socket, "message")
    assert ack["message"]["system"] and received["reference"] in ack["message"]["text"]
    assert "first response" in ack["message"]["text"]
    case = await database_sync_to_async(Case.objects.get)(reference=received["reference"])
    assert case.channel == "chat" and case.subject == "Chat: Where is my order?"
    point = await database_sync_to_async(ContactPoint.objects.get)(kind="chat")
    assert point.value == visitor and point.customer_id == case.customer_id
    ack_message = await database_sync_to_async(Message.objects.get)(pk=ack["message"]["id"])
    assert ack_message.delivery_status == Message.Delivery.SENT
    await socket.disconnect()


async def test_agent_replies_arrive_live_and_notes_never_do(widget):
    socket, _, _ = await open_socket()
    await socket.receive_json_from()
    await socket.send_json_to({"type": "message", "text": "Kettle broken", "id": "c1"})
    received = await until(socket, "received")
    await until(socket, "message")  # acknowledgement
    agent = await database_sync_to_async(make_agent)(first_name="Dana")
    case = await database_sync_to_async(Case.objects.get)(reference=received["reference"])
    await database_sync_to_async(message_add)(
        case=case, direction="note", text="internal: check stock", actor=agent
    )
    reply = await database_sync_to_async(message_add)(
        case=case, direction="outbound", text="Sorry! A new one is on its way.", actor=agent
    )
    frame = await until(socket, "message")
    assert frame["message"]["text"] == "Sorry! A new one is on its way."
    assert frame["message"]["author"] == "Dana" and frame["message"]["id"] == reply.pk
    await reply.arefresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT
    assert await socket.receive_nothing(timeout=0.2)
    await socket.disconnect()


async def test_a_returning_visitor_continues_the_conversation_with_its_history(widget):
    socket, _, _ = await open_socket()
    visitor = (await socket.receive_json_from())["visitor"]
    await socket.send_json_to({"type": "message", "text": "First question", "id": "c1"})
    first = await until(socket, "received")
    await socket.disconnect()
    again, connected, _ = await open_socket(visitor=visitor)
    welcome = await again.receive_json_from()
    assert connected and welcome["visitor"] == visitor
    assert welcome["reference"] == first["reference"]
    assert [m["text"] for m in welcome["history"]][0] == "First question"
    # a resent client id (after a dropped connection) is taken once
    await again.send_json_to({"type": "message", "text": "First question", "id": "c1"})
    await until(again, "received")
    await again.send_json_to({"type": "message", "text": "Second question", "id": "c2"})
    second = await until(again, "received")
    assert second["reference"] == first["reference"]
    count = await database_sync_to_async(Message.objects.filter(direction="inbound").count)()
    assert count == 2
    await again.disconnect()


def mailed_code(address: str) -> str:
    sent = [m for m in mail.outbox if m.to == [address] and "chat code" in m.subject]
    return re.search(r"enter (\d{6})", sent[-1].body).group(1)


async def test_claiming_a_customers_address_links_the_chat_only_with_the_mailed_code(widget):
    known = await database_sync_to_async(make_customer)(email="ann@example.com", name="Ann")
    socket, _, _ = await open_socket()
    await socket.receive_json_from()
    await socket.send_json_to({"type": "message", "text": "Hello", "id": "c1"})
    received = await until(socket, "received")
    await socket.send_json_to({"type": "identify", "email": "ANN@example.com"})
    assert (await until(socket, "code_sent"))["email"] == "ann@example.com"
    case = await database_sync_to_async(Case.objects.get)(reference=received["reference"])
    # Only a claim so far: the chat is not in Ann's history and Ann's profile is untouched.
    assert case.customer_id != known.pk
    code = mailed_code("ann@example.com")
    wrong = "000000" if code != "000000" else "111111"
    await socket.send_json_to({"type": "verify", "code": wrong})
    assert (await until(socket, "error"))["field"] == "code"
    await database_sync_to_async(case.refresh_from_db)()
    assert case.customer_id != known.pk

    await socket.send_json_to({"type": "verify", "code": code})
    assert (await until(socket, "identified"))["email"] == "ann@example.com"
    await database_sync_to_async(case.refresh_from_db)()
    assert case.customer_id == known.pk
    points = await database_sync_to_async(
        lambda: sorted(known.contact_points.values_list("kind", flat=True))
    )()
    assert points == ["chat", "email"]
    merged = await database_sync_to_async(Customer.objects.exclude(pk=known.pk).get)()
    assert merged.merged_into_id == known.pk
    events = await database_sync_to_async(
        lambda: list(case.events.filter(kind__startswith="chat_").values_list("kind", "data"))
    )()
    assert ("chat_email_claimed", {"email": "ann@example.com", "verified": False}) in events
    assert (
        "chat_identified",
        {"email": "ann@example.com", "customer": known.pk, "verified": True},
    ) in events
    # later messages from the same browser still join the same case
    await socket.send_json_to({"type": "message", "text": "Still there?", "id": "c2"})
    assert (await until(socket, "received"))["reference"] == received["reference"]
    # a used code cannot be replayed
    await socket.send_json_to({"type": "verify", "code": code})
    assert (await until(socket, "error"))["field"] == "code"
    await socket.disconnect()


async def test_a_claim_dies_after_too_many_wrong_codes_or_when_it_expires(widget):
    from datetime import timedelta

    from django.utils import timezone

    from caseloop.channels.chat.models import ChatEmailClaim
    from caseloop.channels.chat.services import CLAIM_ATTEMPTS

    known = await database_sync_to_async(make_customer)(email="cy@example.com")
    socket, _, _ = await open_socket()
    await socket.receive_json_from()
    await socket.send_json_to({"type": "identify", "email": "cy@example.com"})
    await until(socket, "code_sent")
    code = mailed_code("cy@example.com")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(CLAIM_ATTEMPTS):
        await socket.send_json_to({"type": "verify", "code": wrong})
        await until(socket, "error")
    await socket.send_json_to({"type": "verify", "code": code})
    assert "too many" in (await until(socket, "error"))["detail"]

    await socket.send_json_to({"type": "identify", "email": "cy@example.com"})
    await until(socket, "code_sent")
    fresh = mailed_code("cy@example.com")
    await database_sync_to_async(
        lambda: ChatEmailClaim.objects.filter(verified_at=None, attempts=0).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    )()
    await socket.send_json_to({"type": "verify", "code": fresh})
    assert "no code is waiting" in (await until(socket, "error"))["detail"]
    linked = await database_sync_to_async(known.contact_points.filter(kind="chat").exists)()
    assert not linked
    await socket.disconnect()


async def test_an_email_before_any_message_is_attached_to_a_new_profile(widget):
    socket, _, _ = await open_socket()
    visitor = (await socket.receive_json_from())["visitor"]
    await socket.send_json_to({"type": "identify", "email": "new@example.com", "name": "Neo"})
    await until(socket, "identified")
    customer = await database_sync_to_async(Customer.objects.get)()
    kinds = await database_sync_to_async(
        lambda: dict(customer.contact_points.values_list("kind", "value"))
    )()
    assert kinds == {"chat": visitor, "email": "new@example.com"} and customer.name == "Neo"
    await socket.send_json_to({"type": "identify", "email": "not an email"})
    error = await until(socket, "error")
    assert error["field"] == "email"
    await socket.disconnect()


async def test_closing_mails_the_transcript_to_the_visitors_address(widget):
    socket, _, _ = await open_socket()
    await socket.receive_json_from()
    await socket.send_json_to({"type": "message", "text": "My <b>parcel</b> is late", "id": "c1"})
    received = await until(socket, "received")
    await socket.send_json_to({"type": "identify", "email": "bo@example.com"})
    await until(socket, "identified")
    await socket.send_json_to({"type": "close"})
    closed = await until(socket, "closed")
    assert closed["transcript"] is True
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["bo@example.com"] and received["reference"] in sent.subject
    assert "My <b>parcel</b> is late" in sent.body and "first response" in sent.body
    conversation = await database_sync_to_async(ChatConversation.objects.get)()
    assert conversation.state == "closed" and conversation.transcript_sent_at is not None
    kinds = await database_sync_to_async(
        lambda: set(CaseEvent.objects.values_list("kind", flat=True))
    )()
    assert {"chat_closed", "chat_transcript_sent", "chat_identified"} <= kinds
    await socket.disconnect()


async def test_closing_without_an_address_sends_nothing(widget):
    socket, _, _ = await open_socket()
    await socket.receive_json_from()
    await socket.send_json_to({"type": "message", "text": "Bye", "id": "c1"})
    await until(socket, "received")
    await socket.send_json_to({"type": "close"})
    assert (await until(socket, "closed"))["transcript"] is False
    assert mail.outbox == []
    await socket.disconnect()


async def test_sockets_from_other_sites_or_unknown_widgets_are_refused(widget):
    _, connected, code = await open_socket(origin="https://evil.example")
    assert not connected and code == 4403
    _, connected, code = await open_socket("nope")
    assert not connected and code == 4403


async def test_bad_frames_get_clear_errors(widget):
    socket, _, _ = await open_socket()
    await socket.receive_json_from()
    await socket.send_to(text_data="{not json")
    assert (await socket.receive_json_from())["detail"] == "malformed JSON"
    await socket.send_json_to({"type": "message", "text": "   "})
    assert (await socket.receive_json_from())["field"] == "text"
    await socket.send_json_to({"type": "dance"})
    assert "unknown type" in (await socket.receive_json_from())["detail"]
    await socket.disconnect()


async def test_a_reply_delivered_by_a_job_worker_thread_reaches_the_socket(widget):
    """Embedded `caseloop serve` delivers from Huey's worker threads, outside the loop that
    serves the sockets."""
    import asyncio

    from caseloop.channels.chat.services import chat_deliver

    socket, _, _ = await open_socket()
    await socket.receive_json_from()
    await socket.send_json_to({"type": "message", "text": "Hello", "id": "c1"})
    received = await until(socket, "received")
    await until(socket, "message")  # acknowledgement
    case = await database_sync_to_async(Case.objects.get)(reference=received["reference"])
    agent = await database_sync_to_async(make_agent)()
    reply = await database_sync_to_async(Message.objects.create)(
        case=case, direction="outbound", channel="chat", text="From a worker", author_user=agent
    )
    # Debug mode makes asyncio refuse loop calls from a foreign thread, as the waiting
    # socket would otherwise sleep through them.
    asyncio.get_running_loop().set_debug(True)
    await asyncio.wait_for(asyncio.to_thread(chat_deliver, reply.pk), timeout=20)
    frame = await until(socket, "message")
    assert frame["message"]["text"] == "From a worker"
    await socket.disconnect()
