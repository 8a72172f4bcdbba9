"""POST /channels/webhooks/<slug>: the signed inbound webhook for social and other channels."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from caseloop.lib.errors import http_status_for
from caseloop.lib.signing import SIGNATURE_HEADER

from .models import WebhookEndpoint
from .services import WebhookRefused, WebhookResult, webhook_receive


def result_response(result: WebhookResult) -> JsonResponse:
    body: dict = {"status": result.status}
    if result.case is not None:
        body["case"] = {"id": result.case.pk, "reference": result.case.reference}
    if result.status == "quarantined":
        body["quarantine_id"] = result.quarantine.pk if result.quarantine else None
        body["reason"] = result.reason
        return JsonResponse(body, status=202)
    return JsonResponse(body, status=201 if result.created else 200)


def refused_response(exc: WebhookRefused) -> JsonResponse:
    body: dict = {"detail": exc.detail}
    if exc.errors:
        body["errors"] = exc.errors
    return JsonResponse(body, status=http_status_for(exc))


@csrf_exempt
@require_POST
def webhook_inbound(request: HttpRequest, slug: str) -> JsonResponse:
    endpoint = get_object_or_404(WebhookEndpoint, slug=slug, is_active=True)
    try:
        result = webhook_receive(
            endpoint=endpoint, header=request.headers.get(SIGNATURE_HEADER, ""), body=request.body
        )
    except WebhookRefused as exc:
        return refused_response(exc)
    return result_response(result)
