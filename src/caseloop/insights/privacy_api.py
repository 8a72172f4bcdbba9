"""API endpoints for privacy requests about one customer, mounted under /api/v1/: the
export of everything the desk holds about them (a JSON download, for managers and admins)
and their erasure (admins only, confirmed by repeating the customer's id)."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from caseloop.accounts.auth import ApiRequest, require_role
from caseloop.accounts.models import Role
from caseloop.customers.models import Customer

from .privacy import customer_erase, customer_export

router = Router(tags=["privacy"])


def _customer(customer_id: int) -> Customer:
    customer = get_object_or_404(Customer, pk=customer_id)
    if customer.merged_into_id is not None:
        raise Http404("This customer was merged into another; ask for that one.")
    return customer


def export_filename(customer: Customer) -> str:
    return f"customer-{customer.pk}-export.json"


@router.get("/customers/{customer_id}/export", summary="Export a customer's data")
def customer_export_endpoint(request: ApiRequest, customer_id: int):
    """Everything the desk holds about the customer, as a JSON file to download."""
    require_role(request, Role.MANAGER, Role.ADMIN)
    customer = _customer(customer_id)
    data = customer_export(customer=customer, actor=request.auth)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{export_filename(customer)}"'
    return response


class EraseIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500, description="Why, for the record.")
    confirm: str = Field(..., description="The customer's id again, to confirm.")


class EraseOut(Schema):
    customer_id: int
    counts: dict[str, int] = Field(..., description="What was redacted, by kind of record.")


@router.post("/customers/{customer_id}/erase", response=EraseOut, summary="Erase a customer's data")
def customer_erase_endpoint(request: ApiRequest, customer_id: int, payload: EraseIn):
    """Redact the customer's personal data everywhere; the cases and their history stay.
    422 unless `confirm` repeats the customer's id. Running it again changes nothing."""
    require_role(request, Role.ADMIN)
    customer = _customer(customer_id)
    if payload.confirm.strip() != str(customer.pk):
        raise HttpError(422, "confirm must repeat the customer's id")
    counts = customer_erase(customer=customer, actor=request.auth, reason=payload.reason)
    return EraseOut(customer_id=customer.pk, counts=counts)
