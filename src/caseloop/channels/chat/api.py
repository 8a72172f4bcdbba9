"""API endpoints of the chat channel, mounted under /api/v1/."""

from ninja import Router

router = Router(tags=["channels: chat"])
