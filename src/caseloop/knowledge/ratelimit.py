"""A small fixed-window rate limit on the shared cache, for the public endpoints."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def rate_limited(request: HttpRequest, *, scope: str, limit: int, window: int = 60) -> bool:
    """True when this client has made more than `limit` requests to `scope` in the current
    `window` seconds."""
    bucket = int(time.time() // window)
    key = f"kb-rate:{scope}:{client_address(request)}:{bucket}"
    if cache.add(key, 1, timeout=window + 5):
        return False
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window + 5)
        return False
    return count > limit
