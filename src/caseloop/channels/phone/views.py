"""The agent's call-log form and the telephony providers' signed webhook."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from caseloop.accounts.models import User
from caseloop.channels.webhook.models import WebhookEndpoint
from caseloop.channels.webhook.services import WebhookRefused
from caseloop.channels.webhook.views import refused_response
from caseloop.lib.signing import SIGNATURE_HEADER

from .forms import CallLogForm
from .services import CallDetails, CallRejected, call_log
from .webhook import phone_webhook_receive

DEFAULT_ENDPOINT = "phone"


@login_required
def call_form(request: HttpRequest) -> HttpResponse:
    if not cast(User, request.user).is_agent_like:
        raise PermissionDenied("agents only")
    form = CallLogForm(
        request.POST or None, initial={"case_reference": request.GET.get("case", "")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            call = call_log(
                details=CallDetails(
                    direction=data["direction"],
                    phone=data["phone"],
                    name=data["name"],
                    duration_seconds=data["duration_minutes"] * 60 + data["duration_extra_seconds"],
                    subject=data["subject"],
                    case_reference=data["case_reference"].strip(),
                    notes=data["notes"],
                ),
                agent=request.user,
            )
        except CallRejected as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            return redirect("web:case", case_id=call.case_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "phone/call_form.html", {"form": form}, status=status)


@csrf_exempt
@require_POST
def provider_webhook(request: HttpRequest) -> JsonResponse:
    slug = request.GET.get("endpoint", DEFAULT_ENDPOINT)
    endpoint = get_object_or_404(WebhookEndpoint, slug=slug, channel="phone", is_active=True)
    try:
        result = phone_webhook_receive(
            endpoint=endpoint, header=request.headers.get(SIGNATURE_HEADER, ""), body=request.body
        )
    except WebhookRefused as exc:
        return refused_response(exc)
    return JsonResponse(result.body, status=result.status)
