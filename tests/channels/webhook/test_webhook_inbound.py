import json
import time

import pytest

from caseloop.cases.models import Case, Message
from caseloop.channels.models import QuarantinedMessage
from caseloop.channels.webhook.models import WebhookDelivery, WebhookEndpoint
from caseloop.customers.models import ContactPoint
from caseloop.lib.signing import signature_header

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint():
    return WebhookEndpoint.objects.create(slug="x", name="X (Twitter)", channel="social")


def payload(**overrides) -> dict:
    body = {
        "event_id": "evt_1",
        "message": {"id": "m1", "text": "My parcel is lost", "subject": "Lost parcel"},
        "sender": {"handle": "@AnnLee", "name": "Ann Lee"},
    }
    body.update(overrides)
    return body


def post(client, endpoint, body, *, secret=None, timestamp=None, header=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if header is None:
        header = signature_header(secret=secret or endpoint.secret, body=raw, timestamp=timestamp)
    return client.post(
        f"/channels/webhooks/{endpoint.slug}",
        raw,
        content_type="application/json",
        headers={"X-Caseloop-Signature": header},
    )


def test_signed_message_opens_a_case_for_the_handle_and_is_acknowledged(
    client, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, endpoint, payload())
    assert response.status_code == 201, response.content
    case = Case.objects.get(reference=response.json()["case"]["reference"])
    assert case.channel == "social" and case.subject == "Lost parcel"
    assert ContactPoint.objects.get(customer=case.customer).value == "x:@annlee"
    ack = case.messages.get(direction=Message.Direction.OUTBOUND)
    assert case.reference in ack.text and ack.delivery_status == Message.Delivery.NOT_APPLICABLE


def test_a_second_message_from_the_same_handle_in_the_thread_joins_the_case(client, endpoint):
    first = post(client, endpoint, payload(message={"id": "m1", "text": "Hi", "thread_id": "t9"}))
    again = post(
        client,
        endpoint,
        payload(event_id="evt_2", message={"id": "m2", "text": "Any news?", "thread_id": "t9"}),
    )
    assert again.status_code == 200
    assert again.json()["case"] == first.json()["case"]
    assert Case.objects.count() == 1 and Message.objects.filter(direction="inbound").count() == 2


def test_wrong_signature_is_401_and_creates_nothing(client, endpoint):
    response = post(client, endpoint, payload(), secret="whsec_not-the-secret")
    assert response.status_code == 401
    assert "does not match" in response.json()["detail"]
    missing = client.post(
        "/channels/webhooks/x", json.dumps(payload()), content_type="application/json"
    )
    assert missing.status_code == 401 and "missing" in missing.json()["detail"]
    assert not Case.objects.exists() and not WebhookDelivery.objects.exists()


def test_tampered_body_fails_the_signature(client, endpoint):
    raw = json.dumps(payload()).encode()
    header = signature_header(secret=endpoint.secret, body=raw)
    tampered = raw.replace(b"lost", b"LOST")
    response = post(client, endpoint, tampered, header=header)
    assert response.status_code == 401 and not Case.objects.exists()


def test_stale_timestamp_is_401_with_the_reason(client, endpoint):
    response = post(client, endpoint, payload(), timestamp=int(time.time()) - 3600)
    assert response.status_code == 401
    assert "old; the window is 300s" in response.json()["detail"]
    assert not Case.objects.exists()


def test_replayed_event_returns_the_first_result_and_creates_nothing(client, endpoint):
    raw = json.dumps(payload()).encode()
    header = signature_header(secret=endpoint.secret, body=raw)
    first = post(client, endpoint, raw, header=header)
    replay = post(client, endpoint, raw, header=header)
    assert first.status_code == 201 and replay.status_code == 200
    assert replay.json() == {"status": "duplicate", "case": first.json()["case"]}
    assert Case.objects.count() == 1 and Message.objects.filter(direction="inbound").count() == 1


def test_same_message_redelivered_under_a_new_event_id_is_not_duplicated(client, endpoint):
    post(client, endpoint, payload())
    again = post(client, endpoint, payload(event_id="evt_retry"))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert Message.objects.filter(direction="inbound").count() == 1


def test_malformed_json_is_400(client, endpoint):
    response = post(client, endpoint, b'{"event_id": "e1", "message": ')
    assert response.status_code == 400 and "malformed JSON" in response.json()["detail"]


def test_missing_fields_are_422_naming_them(client, endpoint):
    response = post(client, endpoint, {"event_id": "", "message": {}, "sender": {}})
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"event_id", "message.text", "sender.handle"}


def test_well_formed_but_unplaceable_message_is_quarantined_with_its_reason(client, endpoint):
    body = payload(sender={"email": "not-an-address"})
    response = post(client, endpoint, body)
    assert response.status_code == 202
    held = QuarantinedMessage.objects.get(pk=response.json()["quarantine_id"])
    assert "not a valid email" in held.reason and json.loads(bytes(held.raw)) == body
    assert held.source == "webhook:x" and not Case.objects.exists()
    assert post(client, endpoint, body).json()["status"] == "duplicate"
    assert QuarantinedMessage.objects.count() == 1


def test_unknown_or_inactive_endpoint_is_404(client, endpoint):
    endpoint.is_active = False
    endpoint.save()
    assert post(client, endpoint, payload()).status_code == 404


def test_hostile_html_is_sanitized(client, endpoint):
    body = payload(
        message={
            "id": "h",
            "html": "<p>Hi</p><script>alert(1)</script><img src=x onerror=alert(2)>",
        }
    )
    response = post(client, endpoint, body)
    message = Message.objects.get(case_id=response.json()["case"]["id"], direction="inbound")
    assert "<script" not in message.html and "onerror" not in message.html
    assert "<p>Hi</p>" in message.html


def test_another_person_in_the_same_public_thread_gets_their_own_case(client, endpoint):
    first = post(client, endpoint, payload(message={"id": "m1", "text": "Hi", "thread_id": "t9"}))
    other = post(
        client,
        endpoint,
        payload(
            event_id="evt_3",
            message={"id": "m3", "text": "Me too", "thread_id": "t9"},
            sender={"handle": "@bob"},
        ),
    )
    assert other.status_code == 201 and other.json()["case"] != first.json()["case"]


def test_an_admin_retries_a_quarantined_delivery_once_the_cause_is_fixed(client, endpoint):
    from caseloop.accounts.models import Role
    from tests.builders import bearer, make_user

    body = payload(sender={"handle": "@ann", "email": "ann@example"})
    held_id = post(client, endpoint, body).json()["quarantine_id"]
    admin = make_user(role=Role.ADMIN)
    failed = client.post(
        f"/api/v1/quarantine/{held_id}/retry",
        content_type="application/json",
        headers=bearer(admin),
    )
    assert failed.status_code == 422 and "not a valid email" in failed.content.decode()
    # the cause: the integration sent a broken address; the admin corrects the raw payload
    fixed = json.dumps(payload(sender={"handle": "@ann", "email": "ann@example.com"})).encode()
    QuarantinedMessage.objects.filter(pk=held_id).update(raw=fixed)
    retried = client.post(
        f"/api/v1/quarantine/{held_id}/retry",
        content_type="application/json",
        headers=bearer(admin),
    )
    assert retried.status_code == 200, retried.content
    held = QuarantinedMessage.objects.get(pk=held_id)
    assert held.state == "retried" and held.case is not None
    delivery = WebhookDelivery.objects.get(event_id="evt_1")
    assert delivery.outcome == "accepted" and delivery.case == held.case


def test_the_thread_lookup_can_use_its_index(client, endpoint):
    from django.db import connection, transaction

    from caseloop.channels.webhook.services import thread_messages

    post(client, endpoint, payload(message={"id": "m1", "text": "Hi", "thread_id": "t9"}))
    assert thread_messages(f"{endpoint.slug}:t9").count() == 1
    assert not thread_messages("t9").exists()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A tiny table is cheaper to scan; ask whether the index can serve the lookup.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        plan = thread_messages(f"{endpoint.slug}:t9").order_by("-id")[:1].explain()
    assert "thread_key" in plan
