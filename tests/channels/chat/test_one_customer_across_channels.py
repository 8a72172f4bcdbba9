"""One person writing by web form, chat, phone, a social network and email ends on one
customer profile; an agent folds in a profile the desk could not link by itself."""

import json
import re

import pytest
from channels.db import database_sync_to_async
from django.core import mail
from django.test import Client

from caseloop.asgi import application
from caseloop.cases.models import Case
from caseloop.channels.base import InboundMessage
from caseloop.channels.chat.models import ChatWidget
from caseloop.channels.intake import inbound_receive
from caseloop.channels.webhook.models import WebhookEndpoint
from caseloop.customers.models import Customer
from caseloop.lib.signing import signature_header
from tests.builders import bearer, fresh_address, make_agent
from tests.sockets import SocketPeer

pytestmark = pytest.mark.django_db(transaction=True)


def web_form(client: Client) -> str:
    page = client.get("/channels/form/").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/channels/form/",
        {
            "name": "Ann Lee",
            "email": "ann@example.com",
            "phone": "+1 415 555 0100",
            "subject": "Blender missing a lid",
            "message": "The lid was not in the box.",
            "form_token": token,
        },
        follow=True,
    )
    return re.search(r"CL-\d{6}", response.content.decode()).group(0)


def social_post(client: Client, endpoint: WebhookEndpoint, body: dict) -> dict:
    raw = json.dumps(body).encode()
    return client.post(
        f"/channels/webhooks/{endpoint.slug}",
        raw,
        content_type="application/json",
        headers={"X-Caseloop-Signature": signature_header(secret=endpoint.secret, body=raw)},
    ).json()


async def chat(widget_key: str) -> str:
    socket = SocketPeer(
        application, f"/ws/chat/{widget_key}/", headers=[(b"origin", b"https://shop.example")]
    )
    assert (await socket.connect())[0]
    await socket.receive_json_from()
    await socket.send_json_to({"type": "message", "text": "Any update on the lid?", "id": "1"})
    reference = None
    while reference is None:
        frame = await socket.receive_json_from()
        reference = frame.get("reference") if frame["type"] == "received" else None
    await socket.send_json_to({"type": "identify", "email": "Ann@Example.com"})
    # Ann already wrote in by the web form: the chat joins her only with the mailed code.
    while (await socket.receive_json_from())["type"] != "code_sent":
        pass
    [sent] = [m for m in mail.outbox if "chat code" in m.subject]
    code = re.search(r"enter (\d{6})", sent.body).group(1)
    await socket.send_json_to({"type": "verify", "code": code})
    while (await socket.receive_json_from())["type"] != "identified":
        pass
    await socket.disconnect()
    return reference


async def test_web_chat_phone_social_and_email_land_on_one_customer():
    client = Client(REMOTE_ADDR=fresh_address())
    agent = await database_sync_to_async(make_agent)()
    headers = await database_sync_to_async(bearer)(agent)
    await database_sync_to_async(ChatWidget.objects.create)(
        key="shop", name="Shop", allowed_origins="https://shop.example"
    )
    x = await database_sync_to_async(WebhookEndpoint.objects.create)(
        slug="x", name="X", channel="social"
    )

    web_ref = await database_sync_to_async(web_form)(client)
    chat_ref = await chat("shop")
    call = await database_sync_to_async(client.post)(
        "/api/v1/calls",
        json.dumps({"direction": "inbound", "phone": "(415) 555-0100", "notes": "Lid again"}),
        content_type="application/json",
        headers=headers,
    )
    phone_ref = call.json()["case"]["reference"]
    social = await database_sync_to_async(social_post)(
        client,
        x,
        {
            "event_id": "e1",
            "message": {"id": "m1", "text": "Still no lid!"},
            "sender": {"handle": "@ann_lee", "email": "ann@example.com"},
        },
    )
    email = await database_sync_to_async(inbound_receive)(
        InboundMessage(channel="email", email="ann@example.com", subject="Lid", text="Hello?")
    )

    references = {web_ref, chat_ref, phone_ref, social["case"]["reference"], email.case.reference}
    owners = await database_sync_to_async(
        lambda: set(
            Case.objects.filter(reference__in=references).values_list("customer_id", flat=True)
        )
    )()
    assert len(references) == 5 and len(owners) == 1
    customer_id = owners.pop()
    profile = await database_sync_to_async(client.get)(
        f"/api/v1/customers/{customer_id}", headers=headers
    )
    kinds = {point["kind"] for point in profile.json()["contact_points"]}
    assert kinds == {"email", "phone", "chat", "social"}

    # A second network's handle carries no address: the desk cannot link it on its own...
    insta = await database_sync_to_async(WebhookEndpoint.objects.create)(
        slug="insta", name="Instagram", channel="social"
    )
    stray = await database_sync_to_async(social_post)(
        client,
        insta,
        {"event_id": "e9", "message": {"id": "m9", "text": "lid??"}, "sender": {"handle": "ann"}},
    )
    stray_case = await database_sync_to_async(Case.objects.get)(pk=stray["case"]["id"])
    assert stray_case.customer_id != customer_id
    # ...so an agent merges the two profiles, and the handle's cases follow.
    merged = await database_sync_to_async(client.post)(
        f"/api/v1/customers/{stray_case.customer_id}/merge",
        json.dumps({"into": customer_id}),
        content_type="application/json",
        headers=headers,
    )
    assert merged.status_code == 200
    await stray_case.arefresh_from_db()
    assert stray_case.customer_id == customer_id
    again = await database_sync_to_async(social_post)(
        client,
        insta,
        {"event_id": "e10", "message": {"id": "m10", "text": "hi"}, "sender": {"handle": "ann"}},
    )
    latest = await database_sync_to_async(Case.objects.get)(pk=again["case"]["id"])
    assert latest.customer_id == customer_id
    assert await database_sync_to_async(Customer.objects.filter(merged_into=None).count)() == 1
