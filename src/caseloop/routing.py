"""WebSocket routes gathered from the apps that serve sockets (imported by asgi.py once
Django's apps are ready: the socket consumers import models)."""

from __future__ import annotations

from typing import Any

from caseloop.channels import routing as channels_routing
from caseloop.web import routing as web_routing


def websocket_urlpatterns() -> list[Any]:
    return [*web_routing.websocket_urlpatterns, *channels_routing.websocket_urlpatterns]
