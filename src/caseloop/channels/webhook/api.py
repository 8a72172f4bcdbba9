"""API endpoints of the webhook channel, mounted under /api/v1/."""

from ninja import Router

router = Router(tags=["channels: webhook"])
