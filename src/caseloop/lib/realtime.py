"""Push desk events to browsers over the Channels layer, after the change has committed."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

DESK_GROUP = "desk"

# How long a job thread waits for the serving loop to take a send before giving up.
HANDOFF_SECONDS = 10

# The event loop serving this process's sockets (it matters for the in-memory layer only).
_socket_loop: asyncio.AbstractEventLoop | None = None


def case_group(case_id: int) -> str:
    return f"case-{case_id}"


def user_group(user_id: int) -> str:
    """Every socket of one person: pushes meant for them alone."""
    return f"user-{user_id}"


def socket_loop_remember(loop: asyncio.AbstractEventLoop) -> None:
    """Called by every consumer as a socket connects: the loop later sends must reach."""
    global _socket_loop
    _socket_loop = loop


def layer_group_send(layer: BaseChannelLayer, group: str, event: dict[str, Any]) -> None:
    """Send `event` to `group` from synchronous code.

    The in-memory layer's queues belong to the loop serving the sockets. A job worker
    thread must hand the send to that loop rather than run it in a loop of its own, or the
    waiting socket is never woken. Redis needs no such care."""
    loop = _socket_loop
    if isinstance(layer, InMemoryChannelLayer) and loop is not None and loop.is_running():
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is not loop:
            future = asyncio.run_coroutine_threadsafe(layer.group_send(group, event), loop)
            future.result(HANDOFF_SECONDS)
            return
    async_to_sync(layer.group_send)(group, event)


def publish(group: str, payload: dict[str, Any]) -> None:
    """Send `payload` to every socket in `group`. Realtime is best-effort: a failure here
    is logged and never undoes the change that caused it."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        layer_group_send(layer, group, {"type": "desk.event", "payload": payload})
    except Exception:  # noqa: BLE001 - a dead socket layer must not break a committed change
        logger.warning("realtime publish to %s failed", group, exc_info=True)
