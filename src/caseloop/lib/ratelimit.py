"""Rate limits on the shared cache, keyed by the client's address, for the
public forms and endpoints."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _trusted(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str:
    """The address of the client. Behind trusted reverse proxies (TRUSTED_PROXIES) it is
    the right-most X-Forwarded-For entry that is not itself a trusted proxy: entries to its
    left are whatever the client chose to send, so they are never believed."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    networks = _trusted(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))

    def trusted(address: str) -> bool:
        ip = _ip(address)
        return ip is not None and any(ip in network for network in networks)

    if not networks or not trusted(remote):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not trusted(hop):
            # A hop that is not an address at all says nothing: count the proxy instead.
            return hop if _ip(hop) is not None else remote
    return hops[0] if hops else remote


def rate_limit_hit(key: str, *, limit: int, window: int) -> bool:
    """Count one attempt against `key`; True when it is over `limit` within `window`
    seconds of the key's first attempt."""
    cache_key = f"rate:{key}"
    cache.add(cache_key, 0, timeout=window)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window)
        count = 1
    return count > limit


def rate_limited(request: HttpRequest, *, scope: str, limit: int, window: int = 60) -> bool:
    """True when this client has made more than `limit` requests to `scope` in the current
    `window` seconds."""
    return rate_limit_hit(f"{scope}:{client_address(request)}", limit=limit, window=window)
