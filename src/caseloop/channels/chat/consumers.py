"""The visitor's WebSocket: ws/chat/<widget key>/?visitor=<id>.

Client → server: {"type": "message", "text": "…", "id": "<client id>"},
{"type": "identify", "email": "…", "name": "…"}, {"type": "verify", "code": "…"},
{"type": "close"}.
Server → client: {"type": "welcome", "visitor", "greeting", "history", "email"},
{"type": "received", "id", "reference"}, {"type": "message", "message": {…}},
{"type": "identified", "email"}, {"type": "code_sent", "email"} (the address belongs to a
customer: the code mailed to it links the chat), {"type": "closed", "transcript"},
{"type": "error", …}.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from caseloop.lib.realtime import socket_loop_remember

from . import services
from .models import ChatWidget

# Per socket: at most this many visitor actions per minute.
ACTIONS_PER_MINUTE = 30
CLOSE_FORBIDDEN = 4403


class ChatConsumer(AsyncJsonWebsocketConsumer):
    widget: ChatWidget | None = None
    visitor_id = ""
    group = ""

    async def connect(self) -> None:
        key = self.scope["url_route"]["kwargs"]["key"]
        self.widget = await database_sync_to_async(
            ChatWidget.objects.filter(key=key, is_active=True).first
        )()
        headers = dict(self.scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin-1")
        if self.widget is None or not services.origin_allowed(widget=self.widget, origin=origin):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        visitor = (query.get("visitor") or [""])[0]
        self.visitor_id = visitor if services.visitor_id_valid(visitor) else ""
        self.visitor_id = self.visitor_id or services.visitor_id_generate()
        self.group = services.visitor_group(widget_id=self.widget.pk, visitor_id=self.visitor_id)
        self._actions: list[float] = []
        socket_loop_remember(asyncio.get_running_loop())
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(await database_sync_to_async(self._welcome)())

    @property
    def _widget(self) -> ChatWidget:
        # connect() closes the socket when the key names no active widget.
        assert self.widget is not None
        return self.widget

    def _welcome(self) -> dict:
        conversation = services.conversation_current(
            widget=self._widget, visitor_id=self.visitor_id
        )
        return {
            "type": "welcome",
            "visitor": self.visitor_id,
            "greeting": self._widget.greeting,
            "email": conversation.email if conversation else "",
            "reference": conversation.case.reference if conversation and conversation.case else "",
            "history": services.chat_history(conversation=conversation),
        }

    async def disconnect(self, code) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    def _throttled(self) -> bool:
        now = time.monotonic()
        self._actions = [moment for moment in self._actions if now - moment < 60]
        self._actions.append(now)
        return len(self._actions) > ACTIONS_PER_MINUTE

    async def receive_json(self, content, **kwargs) -> None:
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "detail": "send a JSON object"})
            return
        if self._throttled():
            await self.send_json({"type": "error", "detail": "slow down: too many messages"})
            return
        kind = content.get("type")
        try:
            if kind == "message":
                await self._message(content)
            elif kind == "identify":
                await self._identify(content)
            elif kind == "verify":
                await self._verify(content)
            elif kind == "close":
                await self._close()
            else:
                await self.send_json({"type": "error", "detail": f"unknown type {kind!r}"})
        except services.ChatError as exc:
            await self.send_json({"type": "error", "field": exc.field, "detail": str(exc)})

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)
        except ValueError:
            await self.send_json({"type": "error", "detail": "malformed JSON"})

    async def _message(self, content: dict) -> None:
        text = value if isinstance(value := content.get("text"), str) else ""
        client_id = value if isinstance(value := content.get("id"), str) else ""
        received = await database_sync_to_async(services.chat_message_receive)(
            widget=self._widget, visitor_id=self.visitor_id, text=text, client_id=client_id
        )
        await self.send_json(
            {
                "type": "received",
                "id": client_id,
                "message_id": received.result.message.pk,
                "reference": received.result.case.reference,
            }
        )

    async def _identify(self, content: dict) -> None:
        email = value if isinstance(value := content.get("email"), str) else ""
        name = value if isinstance(value := content.get("name"), str) else ""
        identification = await database_sync_to_async(services.chat_identify)(
            widget=self._widget, visitor_id=self.visitor_id, email=email, name=name
        )
        if identification.code_sent:
            await self.send_json({"type": "code_sent", "email": identification.email})
        else:
            await self.send_json({"type": "identified", "email": identification.email})

    async def _verify(self, content: dict) -> None:
        code = value if isinstance(value := content.get("code"), str) else ""
        identification = await database_sync_to_async(services.chat_verify)(
            widget=self._widget, visitor_id=self.visitor_id, code=code
        )
        await self.send_json({"type": "identified", "email": identification.email})

    async def _close(self) -> None:
        conversation = await database_sync_to_async(services.chat_close)(
            widget=self._widget, visitor_id=self.visitor_id
        )
        transcript = bool(conversation and conversation.email and conversation.case_id)
        await self.send_json({"type": "closed", "transcript": transcript})

    async def chat_message(self, event: dict) -> None:
        """An outbound message pushed by the chat sender (from any server process)."""
        await self.send_json({"type": "message", "message": event["message"]})
