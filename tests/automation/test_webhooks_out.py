"""Outgoing webhooks and the event feed: each event a subscription wants is POSTed, signed,
to a real HTTP server on loopback; failures are retried or given up as the receiver
answers; the delivery log and re-send; the feed pages through the event log."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from caseloop.accounts.models import Role
from caseloop.automation import webhooks
from caseloop.automation.models import WebhookDelivery
from caseloop.cases import outbox
from caseloop.cases.models import CaseEvent, OutboxEffect
from caseloop.cases.services import case_update
from caseloop.lib.signing import SIGNATURE_HEADER, signature_verify
from tests.builders import bearer, make_agent, make_case, make_user

pytestmark = pytest.mark.django_db

SECRET = "s3cret-for-the-receiver"


class Receiver:
    """A real HTTP server on loopback that answers each POST with the next status."""

    def __init__(self, statuses=(200,)) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"nope")

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(statuses=(200,)) -> Receiver:
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for r in made:
        r.close()


def admin():
    return make_user(role=Role.ADMIN)


def run_all() -> None:
    webhooks.webhooks_fan_out()
    while outbox.effects_sweep():
        pass


def test_a_wanted_event_is_posted_signed_and_logged_and_history_is_not_sent(receiver):
    before = make_case()  # history before the desk sends webhooks
    webhooks.webhooks_fan_out()
    hook = receiver()
    webhooks.webhook_subscription_save(
        actor=admin(), name="CRM", url=hook.url, secret=SECRET, event_kinds=["priority_changed"]
    )
    case = make_case()
    case_update(case=case, actor=make_agent(), priority="high")
    run_all()
    [(headers, body)] = hook.received
    signature_verify(secret=SECRET, header=headers[SIGNATURE_HEADER], body=body, tolerance=300)
    event = json.loads(body)
    assert (event["kind"], event["case_id"], event["reference"]) == (
        "priority_changed",
        case.pk,
        case.reference,
    )
    assert event["data"]["after"] == "high" and headers["X-Caseloop-Event"] == "priority_changed"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.response_status, delivery.attempts) == ("delivered", 200, 1)
    assert not WebhookDelivery.objects.filter(payload__case_id=before.pk).exists()
    # Read once: running again sends nothing more.
    run_all()
    assert len(hook.received) == 1


def test_a_server_error_is_retried_and_a_client_error_is_final(receiver):
    webhooks.webhooks_fan_out()
    flaky, strict = receiver([500, 200]), receiver([410])
    for name, hook in (("flaky", flaky), ("strict", strict)):
        webhooks.webhook_subscription_save(
            actor=admin(), name=name, url=hook.url, secret=SECRET, event_kinds=["priority_changed"]
        )
    case_update(case=make_case(), actor=make_agent(), priority="urgent")
    run_all()
    flaky_delivery = WebhookDelivery.objects.get(subscription__name="flaky")
    assert (flaky_delivery.state, flaky_delivery.response_status) == ("pending", 500)
    effect = OutboxEffect.objects.get(key=f"{webhooks.DELIVER_EFFECT}:{flaky_delivery.pk}")
    assert effect.state == "pending" and effect.attempts == 1  # waits for its backoff
    strict_delivery = WebhookDelivery.objects.get(subscription__name="strict")
    assert (strict_delivery.state, strict_delivery.response_status) == ("failed", 410)
    # The retry, once due, goes through.
    OutboxEffect.objects.filter(pk=effect.pk).update(available_at=effect.created_at)
    run_all()
    flaky_delivery.refresh_from_db()
    assert (flaky_delivery.state, flaky_delivery.attempts) == ("delivered", 2)
    # A failed delivery is sent again on request, as a new delivery.
    again = webhooks.webhook_resend(delivery=strict_delivery, actor=admin())
    run_all()
    again.refresh_from_db()
    assert again.state == "delivered" and len(strict.received) == 2


def test_a_subscription_needs_a_real_url_a_long_secret_and_known_kinds():
    boss = admin()
    for url, secret, kinds, field in (
        ("ftp://x", SECRET, [], "url"),
        ("https://x.example", "short", [], "secret"),
        ("https://x.example", SECRET, ["no_such_kind"], "event_kinds"),
    ):
        with pytest.raises(webhooks.WebhookError) as refused:
            webhooks.webhook_subscription_save(
                actor=boss, name="x", url=url, secret=secret, event_kinds=kinds
            )
        assert refused.value.field == field
    with pytest.raises(webhooks.WebhookForbidden):
        webhooks.webhook_subscription_save(
            actor=make_user(role=Role.MANAGER),
            name="x",
            url="https://x.example",
            secret=SECRET,
            event_kinds=[],
        )


def test_the_feed_pages_through_the_events_after_a_cursor(api):
    manager = make_user(role=Role.MANAGER)
    first, second = make_case(), make_case()
    ids = list(CaseEvent.objects.order_by("id").values_list("id", flat=True))
    page = api.get("/api/v1/events", headers=bearer(manager), cursor=0, limit=2).json()
    assert [item["id"] for item in page["items"]] == ids[:2]
    rest = api.get("/api/v1/events", headers=bearer(manager), cursor=page["next_cursor"]).json()
    assert [item["id"] for item in rest["items"]] == ids[2:]
    assert {item["case_id"] for item in rest["items"]} <= {first.pk, second.pk}
    empty = api.get("/api/v1/events", headers=bearer(manager), cursor=ids[-1]).json()
    assert empty == {"items": [], "next_cursor": ids[-1]}
    only = api.get("/api/v1/events", headers=bearer(manager), kind="created").json()
    assert {item["kind"] for item in only["items"]} == {"created"}
    assert api.get("/api/v1/events", headers=bearer(make_agent())).status_code == 403


def test_admins_manage_subscriptions_and_read_the_log_through_the_api(api, receiver):
    hook = receiver()
    boss = admin()
    made = api.post(
        "/api/v1/webhooks",
        {"name": "CRM", "url": hook.url, "secret": SECRET, "event_kinds": ["priority_changed"]},
        headers=bearer(boss),
    )
    assert made.status_code == 201, made.content
    webhook_id = made.json()["id"]
    bad = api.post(
        "/api/v1/webhooks",
        {"name": "x", "url": "https://x.example", "secret": SECRET, "event_kinds": ["nope"]},
        headers=bearer(boss),
    )
    assert bad.status_code == 422 and bad.json()["field"] == "event_kinds"
    manager = make_user(role=Role.MANAGER)
    assert api.get("/api/v1/webhooks", headers=bearer(manager)).status_code == 403
    webhooks.webhooks_fan_out()
    case_update(case=make_case(), actor=make_agent(), priority="high")
    run_all()
    log = api.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=bearer(boss)).json()
    assert [(row["kind"], row["state"]) for row in log] == [("priority_changed", "delivered")]
    resent = api.post(f"/api/v1/webhooks/deliveries/{log[0]['id']}/resend", headers=bearer(boss))
    assert resent.status_code == 202
    gone = api.client.delete(f"/api/v1/webhooks/{webhook_id}", headers=bearer(boss))
    assert gone.status_code == 204
