"""API endpoints of the webform channel, mounted under /api/v1/."""

from ninja import Router

router = Router(tags=["channels: webform"])
