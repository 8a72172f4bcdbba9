"""Live desk updates for agents over WebSocket: new cases, new messages, status changes,
notifications, and who else has a case open.

`caseloop.lib.realtime.publish` sends to the "desk" group, to "case-<id>" and to
"user-<id>"; a socket joins "desk" and its user's group, and with `?case=<id>` that case's
group too. On a case, the socket tells the case's other sockets that its person is viewing
it, replying (typing a reply), or gone; a socket that hears of a newcomer answers once with
its own state, so the newcomer learns who was already there.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from caseloop.lib.realtime import DESK_GROUP, case_group, socket_loop_remember, user_group

PRESENCE_STATES = ("viewing", "replying")


class DeskConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_agent_like:
            await self.close(code=4403)
            return
        self.user_id = user.pk
        self.user_name = user.display_name
        self.case_id: int | None = None
        self.state = "viewing"
        self.groups_joined = [DESK_GROUP, user_group(user.pk)]
        query = parse_qs(self.scope.get("query_string", b"").decode())
        case_id = (query.get("case") or [""])[0]
        if case_id.isdigit():
            self.case_id = int(case_id)
            self.groups_joined.append(case_group(self.case_id))
        socket_loop_remember(asyncio.get_running_loop())
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self._presence(self.state, joined=True)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "case_id", None) is not None:
            await self._presence("left")
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        # The browser says only whether its person is typing a reply; anything else is ignored.
        state = content.get("kind") if isinstance(content, dict) else None
        if state in PRESENCE_STATES and state != self.state:
            self.state = state
            await self._presence(state)

    async def _presence(self, state: str, *, joined: bool = False) -> None:
        if self.case_id is None:
            return
        await self.channel_layer.group_send(
            case_group(self.case_id),
            {
                "type": "desk.event",
                "payload": {
                    "kind": "presence",
                    "case_id": self.case_id,
                    "user": self.user_id,
                    "name": self.user_name,
                    "state": state,
                    "joined": joined,
                },
            },
        )

    async def desk_event(self, event: dict) -> None:
        payload = event["payload"]
        if payload.get("kind") == "presence" and payload.get("user") == self.user_id:
            return  # one's own presence, from this or another tab
        await self.send_json(payload)
        if payload.get("kind") == "presence" and payload.get("joined"):
            await self._presence(self.state)
