import json
import time

import pytest

from caseloop.cases.models import Case
from caseloop.channels.models import QuarantinedMessage
from caseloop.channels.phone.models import CallLog
from caseloop.channels.webhook.models import WebhookEndpoint
from caseloop.lib.signing import signature_header

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider():
    return WebhookEndpoint.objects.create(slug="phone", name="Telephony", channel="phone")


def report(**call):
    body = {
        "event_id": "evt_call_1",
        "call": {
            "id": "CA100",
            "direction": "inbound",
            "from": "+14155550100",
            "to": "+18005550000",
            "duration_seconds": 95,
            "started_at": "2026-11-24T10:00:00Z",
            "caller_name": "Ann Lee",
        },
    }
    body["call"].update(call)
    return body


def post(client, provider, body, *, timestamp=None, secret=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    header = signature_header(secret=secret or provider.secret, body=raw, timestamp=timestamp)
    return client.post(
        "/channels/phone/webhook",
        raw,
        content_type="application/json",
        headers={"X-Caseloop-Signature": header},
    )


def test_a_signed_call_report_opens_a_case_for_the_caller(client, provider):
    response = post(client, provider, report())
    assert response.status_code == 201, response.content
    call = CallLog.objects.get()
    assert call.phone == "+14155550100" and call.provider == "phone" and call.agent is None
    assert call.duration_seconds == 95 and call.started_at.isoformat().startswith("2026-11-24T10")
    assert call.case.reference == response.json()["case"]["reference"]
    assert call.case.customer.name == "Ann Lee" and call.case.status == "new"


def test_an_outbound_report_uses_the_number_called(client, provider):
    response = post(client, provider, report(direction="outbound", to="+14155550999"))
    assert response.status_code == 201
    assert CallLog.objects.get().phone == "+14155550999"


def test_replayed_and_redelivered_reports_log_one_call(client, provider):
    assert post(client, provider, report()).status_code == 201
    replay = post(client, provider, report())
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    redelivered = post(client, provider, {**report(), "event_id": "evt_call_1_retry"})
    assert redelivered.status_code == 201
    assert CallLog.objects.count() == 1 and Case.objects.count() == 1


def test_bad_and_stale_signatures_are_401(client, provider):
    assert post(client, provider, report(), secret="whsec_wrong").status_code == 401
    stale = post(client, provider, report(), timestamp=int(time.time()) - 1000)
    assert stale.status_code == 401 and "window" in stale.json()["detail"]
    assert not CallLog.objects.exists()


def test_malformed_and_incomplete_reports_are_refused(client, provider):
    assert post(client, provider, b"{nope").status_code == 400
    missing = post(client, provider, {"event_id": "e", "call": {"direction": "up"}})
    assert missing.status_code == 422
    fields = {e["field"] for e in missing.json()["errors"]}
    assert {"call.direction", "call.from", "call.id"} <= fields


def test_an_unusable_number_is_quarantined_with_the_reason(client, provider):
    response = post(client, provider, report(**{"from": "anonymous"}))
    assert response.status_code == 202
    held = QuarantinedMessage.objects.get()
    assert held.channel == "phone" and "not a phone number" in held.reason
    assert not Case.objects.exists()


def test_the_webhook_only_answers_for_phone_endpoints(client):
    social = WebhookEndpoint.objects.create(slug="phone", name="Misfiled", channel="social")
    assert post(client, social, report()).status_code == 404


def test_a_quarantined_call_report_can_be_retried_by_an_admin(client, provider):
    from caseloop.accounts.models import Role
    from tests.builders import bearer, make_user

    held_id = post(client, provider, report(**{"from": "anonymous"})).json()["quarantine_id"]
    QuarantinedMessage.objects.filter(pk=held_id).update(raw=json.dumps(report()).encode())
    retried = client.post(
        f"/api/v1/quarantine/{held_id}/retry",
        content_type="application/json",
        headers=bearer(make_user(role=Role.ADMIN)),
    )
    assert retried.status_code == 200, retried.content
    assert CallLog.objects.get().case_id == QuarantinedMessage.objects.get().case_id
