"""Phone endpoints for agents: log a call, look a caller up by number, list calls."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Query, Router, Schema, Status as Reply

from caseloop.accounts.auth import ApiRequest, require_staff

from . import selectors
from .models import CallLog
from .services import CallDetails, call_log, phone_normalize

router = Router(tags=["channels: phone"])


class CallIn(Schema):
    direction: str = Field(..., description="inbound or outbound")
    phone: str = Field(..., min_length=3, max_length=40, description="E.164 or national")
    duration_seconds: int = Field(0, ge=0, le=86_400)
    notes: str = Field("", max_length=20_000)
    name: str = Field("", max_length=200)
    subject: str = Field("", max_length=300)
    case_reference: str = Field("", max_length=20, description="Log on this case; else open one")
    started_at: datetime | None = None


class CaseRef(Schema):
    id: int
    reference: str
    subject: str
    status: str


class CallOut(Schema):
    id: int
    direction: str
    phone: str
    duration_seconds: int
    notes: str
    started_at: datetime
    agent: str | None
    case: CaseRef
    customer_id: int
    message_id: int

    @staticmethod
    def of(call: CallLog) -> dict:
        return {
            "id": call.pk,
            "direction": call.direction,
            "phone": call.phone,
            "duration_seconds": call.duration_seconds,
            "notes": call.notes,
            "started_at": call.started_at,
            "agent": call.agent.username if call.agent else None,
            "case": {
                "id": call.case.pk,
                "reference": call.case.reference,
                "subject": call.case.subject,
                "status": call.case.status,
            },
            "customer_id": call.case.customer_id,
            "message_id": call.message_id,
        }


class CallerOut(Schema):
    phone: str
    customer_id: int | None
    name: str | None
    open_cases: list[CaseRef]


@router.post("/calls", response={201: CallOut}, summary="Log a phone call")
def call_create(request: ApiRequest, payload: CallIn):
    """Opens a case for the caller (found by phone number) or adds the call to the case
    named by `case_reference`."""
    require_staff(request)
    call = call_log(details=CallDetails(**payload.dict()), agent=request.auth)
    call = CallLog.objects.select_related("case", "agent").get(pk=call.pk)
    return Reply(201, CallOut.of(call))


@router.get("/calls", response=list[CallOut], summary="List calls")
def call_index(request: ApiRequest, phone: str = "", case: int | None = None):
    require_staff(request)
    number = phone_normalize(phone=phone) if phone else ""
    return [CallOut.of(call) for call in selectors.call_list(phone=number, case_id=case)]


class CallerQuery(Schema):
    phone: str


@router.get("/calls/caller", response=CallerOut, summary="Who is calling?")
def caller_lookup(request: ApiRequest, query: Query[CallerQuery]):
    """The customer owning a phone number and their open cases, for the agent taking a call."""
    require_staff(request)
    number = phone_normalize(phone=query.phone)
    customer = selectors.customer_by_phone(phone=number)
    cases = selectors.customer_open_cases(customer=customer) if customer else []
    return {
        "phone": number,
        "customer_id": customer.pk if customer else None,
        "name": customer.name if customer else None,
        "open_cases": [
            {"id": c.pk, "reference": c.reference, "subject": c.subject, "status": c.status}
            for c in cases
        ],
    }
