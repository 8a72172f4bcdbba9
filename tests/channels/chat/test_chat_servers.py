"""The chat widget's protocol against real servers on loopback, with a real WebSocket
client. With PostgreSQL + Redis the visitor and the agent use two server processes."""

import asyncio
import json

import httpx
import pytest
import websockets
from channels.db import database_sync_to_async

from caseloop.channels.chat.models import ChatWidget
from tests.builders import bearer, make_agent
from tests.channels.chat.servers import desk_servers, multi_process

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def servers(transactional_db):
    running = desk_servers()
    yield running
    for server in {id(s): s for s in running}.values():
        server.stop()


async def frame_of(socket, kind: str) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=15))
        if frame["type"] == kind:
            return frame


async def test_an_agent_reply_sent_through_one_server_reaches_a_visitor_on_another(servers):
    visitor_server, agent_server = servers
    assert (visitor_server is not agent_server) == multi_process()
    await database_sync_to_async(ChatWidget.objects.create)(
        key="shop", name="Shop", allowed_origins="https://shop.example"
    )
    agent = await database_sync_to_async(make_agent)(first_name="Dana")
    headers = await database_sync_to_async(bearer)(agent)
    url = f"ws://127.0.0.1:{visitor_server.port}/ws/chat/shop/"
    async with websockets.connect(url, origin="https://shop.example") as socket:
        welcome = await frame_of(socket, "welcome")
        assert welcome["visitor"]
        await socket.send(json.dumps({"type": "message", "text": "Is it in stock?", "id": "a"}))
        received = await frame_of(socket, "received")
        ack = await frame_of(socket, "message")
        assert received["reference"] in ack["message"]["text"]
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{agent_server.port}", headers=headers
        ) as http:
            cases = (await http.get("/api/v1/cases")).json()["items"]
            case_id = next(c["id"] for c in cases if c["reference"] == received["reference"])
            reply = await http.post(
                f"/api/v1/cases/{case_id}/messages",
                json={"direction": "outbound", "text": "Yes, two left."},
            )
            assert reply.status_code == 201, reply.text
        pushed = await frame_of(socket, "message")
        assert pushed["message"]["text"] == "Yes, two left."
        assert pushed["message"]["author"] == "Dana"


async def test_a_socket_from_a_site_not_allowed_is_closed_by_the_real_server(servers):
    await database_sync_to_async(ChatWidget.objects.create)(
        key="shop", name="Shop", allowed_origins="https://shop.example"
    )
    url = f"ws://127.0.0.1:{servers[0].port}/ws/chat/shop/"
    with pytest.raises(websockets.exceptions.WebSocketException):
        async with websockets.connect(url, origin="https://evil.example") as socket:
            await asyncio.wait_for(socket.recv(), timeout=10)
