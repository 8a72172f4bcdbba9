"""Rate limits keyed by scope and client, for the public forms, the portal's sign-in links
and staff sign-in.

Each attempt is counted by one atomic operation on a shared counter, so parallel attempts
can never all be told they are first, across threads and processes: in Redis (a Lua
script) when the configured cache is Redis (REDIS_URL), otherwise in the database, through
the counter an app that owns the table registers here (`rate_counter_register`). Other
caches are not used: their increments are not atomic across processes. A window opens at a
key's first attempt and lasts `window` seconds. Time is `django.utils.timezone.now`, so
tests move it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils import timezone

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
    left are whatever the client chose to send, so they are never believed. From any other
    peer X-Forwarded-For is ignored: the connecting address is the client."""
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


@dataclass(frozen=True)
class RateCount:
    """A key's attempts in its current window (0 when none is open) and when it ends."""

    hits: int
    resets_at_ms: int

    def seconds_left(self) -> int:
        """Whole seconds until the window ends, at least 1."""
        return max(1, -(-(self.resets_at_ms - _now_ms()) // 1000))


class RateCounter(Protocol):
    """Where the counts live. Every method is a single atomic operation on its key."""

    def hit(self, key: str, *, now_ms: int, window_ms: int) -> RateCount:
        """Count one attempt, opening a window of `window_ms` if none is open at `now_ms`."""
        ...

    def withdraw(self, key: str, *, now_ms: int) -> None:
        """Take back one attempt counted in the window open at `now_ms`, if any."""
        ...

    def read(self, key: str, *, now_ms: int) -> RateCount:
        """The count of the window open at `now_ms`, without counting."""
        ...


_REDIS_HIT = """
local now = tonumber(ARGV[1])
local ends = tonumber(redis.call('HGET', KEYS[1], 'ends'))
if ends == nil or ends <= now then
  ends = now + tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'hits', 1, 'ends', ends)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, ends}
end
return {redis.call('HINCRBY', KEYS[1], 'hits', 1), ends}
"""

_REDIS_WITHDRAW = """
local ends = tonumber(redis.call('HGET', KEYS[1], 'ends'))
if ends == nil or ends <= tonumber(ARGV[1]) then
  return 0
end
if tonumber(redis.call('HGET', KEYS[1], 'hits')) > 0 then
  redis.call('HINCRBY', KEYS[1], 'hits', -1)
end
return 0
"""


class RedisRateCounter:
    """Counts in the Redis behind Django's cache, one hash per key (`hits`, `ends`) under
    the cache's key prefix, changed only by Lua scripts, which Redis runs atomically; the
    key expires with its window."""

    def __init__(self, backend: RedisCache) -> None:
        self.backend = backend

    def _key(self, key: str) -> str:
        return self.backend.make_key(f"rate:{key}")

    def hit(self, key: str, *, now_ms: int, window_ms: int) -> RateCount:
        name = self._key(key)
        client = self.backend._cache.get_client(name, write=True)
        hits, ends = client.register_script(_REDIS_HIT)(keys=[name], args=[now_ms, window_ms])
        return RateCount(hits=int(hits), resets_at_ms=int(ends))

    def withdraw(self, key: str, *, now_ms: int) -> None:
        name = self._key(key)
        client = self.backend._cache.get_client(name, write=True)
        client.register_script(_REDIS_WITHDRAW)(keys=[name], args=[now_ms])

    def read(self, key: str, *, now_ms: int) -> RateCount:
        name = self._key(key)
        hits, ends = self.backend._cache.get_client(name).hmget(name, ["hits", "ends"])
        if hits is None or ends is None or int(ends) <= now_ms:
            return RateCount(hits=0, resets_at_ms=now_ms)
        return RateCount(hits=int(hits), resets_at_ms=int(ends))


_registered: list[RateCounter] = []


def rate_counter_register(counter: RateCounter) -> None:
    """The database's counter, from the app that owns its table; used without Redis."""
    _registered[:] = [counter]


def _counter() -> RateCounter:
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        return RedisRateCounter(backend)
    if not _registered:
        raise ImproperlyConfigured(
            "no rate counter is registered (is caseloop.accounts installed?)"
        )
    return _registered[0]


def _now_ms() -> int:
    return int(timezone.now().timestamp() * 1000)


def rate_hit(key: str, *, window: int) -> RateCount:
    """Count one attempt against `key`, in a window of `window` seconds from its first."""
    return _counter().hit(key, now_ms=_now_ms(), window_ms=window * 1000)


def rate_hit_withdraw(key: str) -> None:
    """Take back one attempt counted against `key` in its current window (say, a sign-in
    that turned out to be right)."""
    _counter().withdraw(key, now_ms=_now_ms())


def rate_read(key: str) -> RateCount:
    """The attempts counted against `key` in its current window, without counting one."""
    return _counter().read(key, now_ms=_now_ms())


def rate_limit_hit(key: str, *, limit: int, window: int) -> bool:
    """Count one attempt against `key`; True when it is over `limit` within `window`
    seconds of the key's first attempt."""
    return rate_hit(key, window=window).hits > limit


def rate_limited(request: HttpRequest, *, scope: str, limit: int, window: int = 60) -> bool:
    """True when this client has made more than `limit` requests to `scope` in the current
    `window` seconds."""
    return rate_limit_hit(f"{scope}:{client_address(request)}", limit=limit, window=window)
