"""API endpoints of the automation app, mounted under /api/v1/."""

from ninja import Router

router = Router(tags=["automation"])
