"""API endpoints of the insights app, mounted under /api/v1/."""

from ninja import Router

router = Router(tags=["insights"])
