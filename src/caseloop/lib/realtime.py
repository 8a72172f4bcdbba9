"""Push desk events to browsers over the Channels layer, after the change has committed."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

DESK_GROUP = "desk"


def case_group(case_id: int) -> str:
    return f"case-{case_id}"


def publish(group: str, payload: dict) -> None:
    """Send `payload` to every socket in `group`. Realtime is best-effort: a failure here
    is logged and never undoes the change that caused it."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": "desk.event", "payload": payload})
    except Exception:  # noqa: BLE001 - a dead socket layer must not break a committed change
        logger.warning("realtime publish to %s failed", group, exc_info=True)
