"""Live desk updates for agents over WebSocket: new cases, new messages, status changes.

`caseloop.lib.realtime.publish` sends to the "desk" group, to "case-<id>" and to
"user-<id>"; a socket joins "desk" and its user's group, and with `?case=<id>` that case's
group too.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from caseloop.lib.realtime import DESK_GROUP, case_group, socket_loop_remember, user_group


class DeskConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_agent_like:
            await self.close(code=4403)
            return
        self.groups_joined = [DESK_GROUP, user_group(user.pk)]
        query = parse_qs(self.scope.get("query_string", b"").decode())
        case_id = (query.get("case") or [""])[0]
        if case_id.isdigit():
            self.groups_joined.append(case_group(int(case_id)))
        socket_loop_remember(asyncio.get_running_loop())
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        # The socket only pushes; anything the browser sends is ignored.
        return

    async def desk_event(self, event: dict) -> None:
        await self.send_json(event["payload"])
