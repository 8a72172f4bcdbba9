import json

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator

from caseloop.web.consumers import DeskConsumer
from tests.builders import make_agent, make_case, make_customer_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_worker_connections():
    """The builders run in asgiref's worker thread; close its connection so the test
    database can be dropped at the end."""
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


class Socket:
    """A WebSocket peer speaking ASGI straight to the consumer."""

    def __init__(self, user, path: str) -> None:
        query = path.split("?", 1)[1] if "?" in path else ""
        scope = {
            "type": "websocket",
            "path": path.split("?")[0],
            "query_string": query.encode(),
            "headers": [],
            "subprotocols": [],
            "user": user,
        }
        self.app = ApplicationCommunicator(DeskConsumer.as_asgi(), scope)

    async def connect(self):
        await self.app.send_input({"type": "websocket.connect"})
        reply = await self.app.receive_output(timeout=5)
        return reply["type"] == "websocket.accept", reply.get("code")

    async def receive_json_from(self, timeout=5):
        reply = await self.app.receive_output(timeout=timeout)
        return json.loads(reply["text"])

    async def disconnect(self):
        await self.app.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.app.wait(timeout=5)


async def connect(user, path="/ws/desk/"):
    communicator = Socket(user, path)
    connected, code = await communicator.connect()
    return communicator, connected, code


async def test_agents_receive_new_cases_and_messages_live():
    agent = await sync_to_async(make_agent)()
    communicator, connected, _ = await connect(agent)
    assert connected
    case = await sync_to_async(make_case)(subject="Live one")
    events = [await communicator.receive_json_from(timeout=5)]
    while events[-1]["kind"] != "case.created":
        events.append(await communicator.receive_json_from(timeout=5))
    assert events[-1]["case_id"] == case.pk and events[-1]["reference"] == case.reference
    await communicator.disconnect()


async def test_a_case_socket_hears_only_its_case_group_besides_the_desk():
    from caseloop.lib.realtime import case_group, publish

    agent = await sync_to_async(make_agent)()
    communicator, connected, _ = await connect(agent, "/ws/desk/?case=424242")
    assert connected
    await sync_to_async(publish)(case_group(424242), {"kind": "message.added", "case_id": 424242})
    event = await communicator.receive_json_from(timeout=5)
    assert event["case_id"] == 424242
    await communicator.disconnect()


async def test_customers_and_anonymous_sockets_are_refused():
    from django.contrib.auth.models import AnonymousUser

    customer = await sync_to_async(make_customer_user)()
    for user in (customer, AnonymousUser()):
        communicator, connected, code = await connect(user)
        assert not connected and code == 4403
