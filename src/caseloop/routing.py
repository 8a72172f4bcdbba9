"""WebSocket routes gathered from the apps that serve sockets."""

from __future__ import annotations

import importlib

ROUTING_MODULES = ["caseloop.web.routing", "caseloop.channels.routing"]


def websocket_urlpatterns() -> list:
    patterns: list = []
    for name in ROUTING_MODULES:
        patterns += importlib.import_module(name).websocket_urlpatterns
    return patterns
