"""`/healthz` for load balancers and orchestrators, `/metrics` for Prometheus.

Neither needs a session or a sign-in, neither is subject to CSRF (they only read) or to the
desk's rate limits, and neither sets a cookie.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from . import health, metrics

# Headers that show a request came through a reverse proxy: its connecting address (the
# proxy's, often loopback) then says nothing about where the client is.
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


@csrf_exempt
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the desk can serve (its database answers, and its job queue); otherwise 503
    naming the checks that failed, never why (that goes to the log)."""
    results = health.checks_run()
    checks = {name: "ok" if passed else "failing" for name, passed in results.items()}
    if all(results.values()):
        return JsonResponse({"status": "ok", "checks": checks})
    failing = [name for name, passed in results.items() if not passed]
    return JsonResponse({"status": "unavailable", "checks": checks, "failing": failing}, status=503)


def _from_loopback(request: HttpRequest) -> bool:
    if any(header in request.headers for header in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _bearer(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@csrf_exempt
@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format. Served to clients on this machine (a loopback address, not
    through a proxy) and to any client presenting `CASELOOP_METRICS_TOKEN` as a bearer
    token; to anyone else the page does not exist (404), or, when a token is configured,
    is forbidden (403)."""
    expected = getattr(settings, "METRICS_TOKEN", "")
    given = _bearer(request)
    allowed = _from_loopback(request) or (
        bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
    )
    if not allowed:
        if not expected:
            return HttpResponseNotFound(b"", content_type="text/plain")
        response = HttpResponse(b"forbidden\n", status=403, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.scrape(), content_type=CONTENT_TYPE_LATEST)
