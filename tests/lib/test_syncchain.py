"""Under ASGI the middleware chain runs in the request's thread: no middleware hops between
the event loop and the thread for its own `process_request` or `process_response`. (Django's
async handler still calls each `process_view` in a hop of its own.)"""

from __future__ import annotations

from unittest import mock

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.test import AsyncClient

MIDDLEWARE_METHODS = {"process_request", "process_response", "process_exception"}


def test_the_sync_chain_middleware_is_the_innermost():
    assert settings.MIDDLEWARE[-1] == "caseloop.lib.syncchain.SyncChainMiddleware"


async def test_an_api_request_under_asgi_runs_no_middleware_in_a_hop_of_its_own():
    hops: list[str] = []
    real_init = SyncToAsync.__init__

    def recording_init(self, func, *args, **kwargs):
        hops.append(getattr(func, "__name__", repr(func)))
        real_init(self, func, *args, **kwargs)

    # Unauthenticated, so the request needs no database: every middleware still runs.
    with mock.patch.object(SyncToAsync, "__init__", recording_init):
        response = await AsyncClient().get("/api/v1/cases")
    assert response.status_code == 401, response.content
    # The outermost and the innermost middleware ran: their headers are on the answer.
    assert "X-Request-ID" in response
    assert response["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response
    assert hops, "the request never crossed to a thread"
    assert not MIDDLEWARE_METHODS & set(hops), hops
