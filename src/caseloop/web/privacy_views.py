"""Privacy requests on a customer's page: download everything the desk holds about them
(managers and admins) and erase their personal data (admins, who confirm by typing the
customer's id). The work is done by `insights.privacy`; sign-in links for the portal,
which this app keeps, are revoked here in the same transaction."""

from __future__ import annotations

import json
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from caseloop.accounts.models import Role, User
from caseloop.customers.models import Customer
from caseloop.insights.privacy import PRIVACY_ROLES, customer_erase, customer_export

from .models import MagicLink


def _customer(customer_id: int) -> Customer:
    return get_object_or_404(Customer, pk=customer_id, merged_into__isnull=True)


@login_required
@require_GET
def customer_export_download(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = cast(User, request.user)
    if user.role not in PRIVACY_ROLES:
        raise PermissionDenied("exports are for managers and admins")
    customer = _customer(customer_id)
    data = customer_export(customer=customer, actor=user)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}-export.json"'
    return response


@login_required
@require_POST
def customer_erase_submit(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = cast(User, request.user)
    if user.role != Role.ADMIN:
        raise PermissionDenied("erasure is for admins")
    customer = _customer(customer_id)
    reason = request.POST.get("reason", "").strip()[:500]
    if request.POST.get("confirm", "").strip() != str(customer.pk) or not reason:
        messages.error(request, gettext("Give a reason and type the customer's id to confirm."))
        return redirect("web:customer", customer_id=customer.pk)
    with transaction.atomic():
        counts = customer_erase(customer=customer, actor=user, reason=reason)
        MagicLink.objects.filter(customer=customer).delete()
    redacted = sum(counts.values())
    messages.success(
        request,
        f"Personal data erased ({redacted} records redacted)." if redacted else "Already erased.",
    )
    return redirect("web:customer", customer_id=customer.pk)
