"""The innermost middleware: it keeps the whole chain in one mode under ASGI.

Django adapts its middleware chain between the event loop and the request's thread wherever
a sync-only middleware meets an async-capable one. Without this, the async-capable ones
inside the last sync-only middleware run on the event loop, and each `MiddlewareMixin` among
them hops to the request's thread for its `process_request` and again for its
`process_response`: several thread switches per request, about half a millisecond of CPU.
Sync-only and last in MIDDLEWARE, this middleware makes every middleware outside it run
synchronously in the request's thread; the chain crosses to the event loop once, here, to
reach Django's own handler. Under WSGI it changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.http.response import HttpResponseBase


class SyncChainMiddleware:
    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)
