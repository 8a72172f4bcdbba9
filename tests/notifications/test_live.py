"""Live in the desk: a notification reaches its person's sockets at once, and the sockets on
a case say who else is viewing it or replying to it."""

import pytest
from asgiref.sync import sync_to_async

from caseloop.cases import outbox
from caseloop.cases.services import message_add
from caseloop.web.consumers import DeskConsumer
from tests.builders import make_agent, make_case
from tests.sockets import SocketPeer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_worker_connections():
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


async def connect(user, path="/ws/desk/"):
    peer = SocketPeer(DeskConsumer.as_asgi(), path, user=user)
    connected, _ = await peer.connect()
    assert connected
    return peer


async def next_of(peer, kind, timeout=5):
    while True:
        event = await peer.receive_json_from(timeout=timeout)
        if event["kind"] == kind:
            return event


def _customer_writes(case):
    message_add(case=case, direction="inbound", text="Any news?", author_customer=case.customer)
    while outbox.effects_sweep():
        pass


async def test_a_customers_reply_reaches_the_owners_socket_as_a_notification():
    owner = await sync_to_async(make_agent)()
    case = await sync_to_async(make_case)(actor=owner)
    peer = await connect(owner)
    await sync_to_async(_customer_writes)(case)
    event = await next_of(peer, "notification")
    assert event["case_id"] == case.pk and event["unread"] == 1
    assert "Any news?" in event["text"]
    await peer.disconnect()


async def test_colleagues_on_a_case_see_each_other_viewing_then_replying_then_gone():
    ana, ben = await sync_to_async(make_agent)(), await sync_to_async(make_agent)()
    path = "/ws/desk/?case=777"
    first = await connect(ana, path)
    second = await connect(ben, path)
    # Ana hears Ben arrive; Ben learns Ana was already there.
    arrived = await next_of(first, "presence")
    assert (arrived["user"], arrived["state"]) == (ben.pk, "viewing")
    already = await next_of(second, "presence")
    assert (already["user"], already["state"], already["name"]) == (
        ana.pk,
        "viewing",
        ana.display_name,
    )

    await second.send_json_to({"kind": "replying"})
    replying = await next_of(first, "presence")
    assert (replying["user"], replying["state"]) == (ben.pk, "replying")

    await second.disconnect()
    gone = await next_of(first, "presence")
    assert (gone["user"], gone["state"]) == (ben.pk, "left")
    await first.disconnect()
