"""WebSocket routes of the channels (the live chat widget)."""

from caseloop.channels.chat.routing import websocket_urlpatterns as chat_patterns

websocket_urlpatterns: list = [*chat_patterns]
