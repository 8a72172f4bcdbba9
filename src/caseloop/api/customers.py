"""Customer endpoints: list, create, read (with contact points and case history), merge,
purchase import."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import Field, File, Query, Router, Schema, Status as Reply, UploadedFile
from ninja.errors import HttpError

from caseloop.accounts.auth import ApiRequest, require_staff
from caseloop.cases.selectors import customer_cases
from caseloop.customers import selectors, services
from caseloop.customers.errors import InvalidContactPoint
from caseloop.customers.models import Customer

router = Router(tags=["customers"])


class ContactPointOut(Schema):
    kind: str
    value: str
    is_primary: bool


class CustomerSummaryOut(Schema):
    id: int
    name: str
    organization: str | None
    language: str
    is_vip: bool
    contact_points: list[ContactPointOut]

    @staticmethod
    def of(customer: Customer) -> dict:
        return {
            "id": customer.pk,
            "name": customer.name,
            "organization": customer.organization.name if customer.organization else None,
            "language": customer.language,
            "is_vip": customer.is_vip,
            "contact_points": [
                {"kind": cp.kind, "value": cp.value, "is_primary": cp.is_primary}
                for cp in customer.contact_points.all()
            ],
        }


class CaseSummaryOut(Schema):
    id: int
    reference: str
    subject: str
    status: str
    priority: str
    created_at: datetime


class PurchaseOut(Schema):
    order_id: str
    product: str
    purchased_at: datetime
    amount: Decimal
    currency: str


class CustomerOut(CustomerSummaryOut):
    notes: str
    merged_into: int | None
    purchases: list[PurchaseOut]
    cases: list[CaseSummaryOut]


class CustomerPage(Schema):
    items: list[CustomerSummaryOut]
    next_cursor: str | None


class CustomerIn(Schema):
    name: str = Field("", max_length=200)
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=40)
    social: str | None = Field(None, max_length=200)
    language: str = Field("en", max_length=16)
    is_vip: bool = False
    notes: str = Field("", max_length=10_000)


class MergeIn(Schema):
    into: int = Field(..., description="The customer that keeps everything.")


@router.get("/customers", response=CustomerPage, summary="List customers")
def customer_list(
    request: ApiRequest, q: str = "", cursor: str = "", limit: int = Query(50, ge=1, le=200)
):
    require_staff(request)
    customers = selectors.customer_list(q=q.strip())
    if cursor:
        if not (cursor.isascii() and cursor.isdigit()):
            raise HttpError(422, "the cursor is not one this API returned")
        customers = customers.filter(pk__lt=int(cursor))
    page = list(customers[: limit + 1])
    next_cursor = str(page[limit - 1].pk) if len(page) > limit else None
    return {"items": [CustomerSummaryOut.of(c) for c in page[:limit]], "next_cursor": next_cursor}


@router.post("/customers", response={201: CustomerOut}, summary="Create a customer")
def customer_create(request: ApiRequest, payload: CustomerIn):
    require_staff(request)
    if not (payload.name or payload.email or payload.phone or payload.social):
        raise HttpError(422, "give at least a name, email, phone or social handle")
    try:
        customer = services.customer_create(
            name=payload.name,
            language=payload.language,
            is_vip=payload.is_vip,
            notes=payload.notes,
            actor=request.auth,
            identity=services.Identity(
                email=payload.email or "", phone=payload.phone or "", social=payload.social or ""
            ),
        )
    except InvalidContactPoint as exc:
        raise HttpError(422, str(exc)) from exc
    return Reply(201, _customer_out(request, customer.pk))


def _customer_out(request: ApiRequest, customer_id: int) -> dict:
    customer = selectors.customer_get_for_user(user=request.auth, customer_id=customer_id)
    return {
        **CustomerSummaryOut.of(customer),
        "notes": customer.notes if request.auth.is_agent_like else "",
        "merged_into": customer.merged_into_id,
        "purchases": list(customer.purchases.all()),
        "cases": list(customer_cases(customer_id=customer.pk)),
    }


@router.get("/customers/{customer_id}", response=CustomerOut, summary="Read a customer")
def customer_detail(request: ApiRequest, customer_id: int):
    """With contact points, purchases and case history."""
    return _customer_out(request, customer_id)


@router.post("/customers/{customer_id}/merge", response=CustomerOut, summary="Merge customers")
def customer_merge(request: ApiRequest, customer_id: int, payload: MergeIn):
    """Fold this customer into `into`: contact points, purchases and cases move; the
    history of both is kept."""
    require_staff(request)
    source = selectors.customer_get_for_user(user=request.auth, customer_id=customer_id)
    target = selectors.customer_get_for_user(user=request.auth, customer_id=payload.into)
    merged = services.customer_merge(source=source, target=target, actor=request.auth)
    return _customer_out(request, merged.pk)


@router.post("/purchases/import", summary="Import purchase records (CSV)")
def purchases_import(request: ApiRequest, file: UploadedFile = File(...)):
    """CSV columns: email (or phone), order_id, product, purchased_at, amount, currency.
    Encoding: as its byte order mark says (UTF-8, UTF-16), else UTF-8, else Windows-1252."""
    require_staff(request)
    return services.purchases_import_csv(data=file.read(), actor=request.auth)
