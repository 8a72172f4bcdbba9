"""API endpoints of the email channel, mounted under /api/v1/."""

from ninja import Router

router = Router(tags=["channels: email"])
