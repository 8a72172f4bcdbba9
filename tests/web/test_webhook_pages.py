"""Outgoing webhooks in the desk: admins add one (its secret never shown again), read its
delivery log and send a delivery again; others are refused."""

import pytest
from django.urls import reverse

from caseloop.accounts.models import Role
from caseloop.automation.models import WebhookDelivery, WebhookSubscription
from caseloop.cases.models import OutboxEffect
from tests.builders import make_user

pytestmark = pytest.mark.django_db

SECRET = "a-long-enough-secret"


def test_an_admin_adds_a_webhook_and_sends_a_delivery_again(client):
    client.force_login(make_user(role=Role.ADMIN))
    assert client.get(reverse("web:webhooks")).status_code == 200
    bad = client.post(
        reverse("web:webhook_new"),
        {"name": "CRM", "url": "ftp://crm.example", "secret": SECRET, "is_active": "on"},
    )
    assert bad.status_code == 422 and "https://" in bad.content.decode()
    made = client.post(
        reverse("web:webhook_new"),
        {
            "name": "CRM",
            "url": "https://crm.example/hook",
            "secret": SECRET,
            "event_kinds": ["escalated", "priority_changed"],
            "is_active": "on",
        },
    )
    assert made.status_code == 302
    row = WebhookSubscription.objects.get()
    assert (row.secret, sorted(row.event_kinds)) == (SECRET, ["escalated", "priority_changed"])
    page = client.get(reverse("web:webhook_edit", args=[row.pk])).content.decode()
    assert SECRET not in page
    # Saved again without a secret: the secret stays.
    client.post(
        reverse("web:webhook_edit", args=[row.pk]),
        {"name": "CRM", "url": "https://crm.example/hook2", "is_active": "on"},
    )
    row.refresh_from_db()
    assert (row.url, row.secret, row.event_kinds) == ("https://crm.example/hook2", SECRET, [])

    delivery = WebhookDelivery.objects.create(
        subscription=row, event_id=1, kind="escalated", payload={"id": 1}, state="failed"
    )
    log = client.get(reverse("web:webhook_deliveries", args=[row.pk])).content.decode()
    assert 'data-state="failed"' in log
    client.post(reverse("web:webhook_resend", args=[delivery.pk]))
    assert WebhookDelivery.objects.count() == 2
    assert OutboxEffect.objects.filter(kind="automation.webhook_deliver").count() == 1


def test_only_admins_reach_the_webhook_pages(client):
    client.force_login(make_user(role=Role.MANAGER))
    assert client.get(reverse("web:webhooks")).status_code == 403
    assert client.post(reverse("web:webhook_new"), {}).status_code == 403
