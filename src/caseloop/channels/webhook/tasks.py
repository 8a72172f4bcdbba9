"""Jobs of the webhook channel."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .models import WebhookDelivery

# Far beyond any signature window; message ids keep deduplicating through intake receipts.
DELIVERY_KEEP_DAYS = 30


@db_periodic_task(crontab(minute="17", hour="3"))
def webhook_deliveries_prune() -> None:
    """Daily: forget event ids older than the keep period (a replay that old fails the
    timestamp check anyway)."""
    cutoff = timezone.now() - timedelta(days=DELIVERY_KEEP_DAYS)
    WebhookDelivery.objects.filter(received_at__lt=cutoff).delete()
