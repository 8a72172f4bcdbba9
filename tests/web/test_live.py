import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer

from caseloop.web.consumers import DeskConsumer
from tests.builders import make_agent, make_case, make_customer_user
from tests.sockets import SocketPeer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_worker_connections():
    """The builders run in asgiref's worker thread; close its connection so the test
    database can be dropped at the end."""
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


async def connect(user, path="/ws/desk/"):
    communicator = SocketPeer(DeskConsumer.as_asgi(), path, user=user)
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


class LoopRecordingLayer(InMemoryChannelLayer):
    """The embedded default's layer, noting the event loop each group send runs in."""

    send_loops: list = []

    async def group_send(self, group, message):
        self.send_loops.append(asyncio.get_running_loop())
        await super().group_send(group, message)


@pytest.fixture
def recording_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.LoopRecordingLayer"}}
    LoopRecordingLayer.send_loops.clear()
    return LoopRecordingLayer


async def test_a_push_from_a_job_worker_thread_runs_on_the_loop_serving_sockets(
    recording_layer,
):
    """Embedded `caseloop serve` runs jobs (mail polling, triage) in Huey worker threads.
    The in-memory layer's queues belong to the loop serving the sockets: a send run in a
    loop of the worker's own would not wake the waiting socket."""
    from caseloop.lib.realtime import DESK_GROUP, publish

    agent = await sync_to_async(make_agent)()
    communicator, connected, _ = await connect(agent)
    assert connected
    payload = {"kind": "case.updated", "case_id": 7}
    await asyncio.wait_for(asyncio.to_thread(publish, DESK_GROUP, payload), timeout=20)
    assert recording_layer.send_loops == [asyncio.get_running_loop()]
    assert await communicator.receive_json_from(timeout=5) == payload
    await communicator.disconnect()
