"""Case endpoints: create (idempotent), list (cursor), read, update, transitions, messages,
events. Thin: parse, call a service or selector, shape the answer."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status as Reply
from ninja.errors import HttpError
from pydantic import ValidationError as PydanticValidationError, field_validator, model_validator

from caseloop.accounts.auth import ApiRequest, require_staff
from caseloop.accounts.models import Team, User
from caseloop.accounts.schemas import UserRef
from caseloop.customers.services import Identity
from caseloop.lib.api_json import json_response
from caseloop.lib.downloads import download_response

from . import message_actions, selectors, services
from .errors import CaseValidationError
from .extensions import case_triage_summary, case_triage_summary_of_row
from .models import Attachment, Case, Category, Message, Status
from .opening import CaseRequest, case_open_requested
from .transitions import allowed_transitions

router = Router(tags=["cases"])

ChannelName = Literal["email", "web", "chat", "phone", "social", "api"]
PriorityName = Literal["low", "normal", "high", "urgent"]
StatusName = Literal["new", "open", "pending_customer", "pending_internal", "solved", "closed"]


class CustomerIn(Schema):
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=40)
    name: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _needs_one(self):
        if not (self.email or self.phone or self.name):
            raise ValueError("give the customer's email, phone or name")
        return self


class MessageBody(Schema):
    text: str = Field(..., min_length=1, max_length=200_000)
    html: str | None = Field(None, max_length=1_000_000)


class CaseCreateIn(Schema):
    customer: CustomerIn
    subject: str = Field(..., min_length=1, max_length=300)
    message: MessageBody
    channel: ChannelName = "api"
    priority: PriorityName | None = None
    category: str | None = Field(None, description="Category slug.")


class CustomerRef(Schema):
    id: int
    name: str


class CaseOut(Schema):
    id: int
    reference: str
    subject: str
    status: StatusName
    channel: ChannelName
    priority: PriorityName
    category: str | None
    team: str | None
    owner: UserRef | None
    assignee: UserRef | None
    customer: CustomerRef
    tags: list[str]
    allowed_transitions: list[str]
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    awaiting_reply_since: datetime | None = Field(
        None, description="Since when the customer has waited for a reply; null when answered."
    )
    solved_at: datetime | None
    closed_at: datetime | None
    triage: dict | None = None

    @staticmethod
    def of(case: Case) -> dict:
        return {
            **CaseOut.of_fields(case),
            "tags": sorted(tag.name for tag in case.tags.all()),
            "triage": case_triage_summary(case=case),
        }

    @staticmethod
    def of_fields(case: Case) -> dict:
        return {
            "id": case.pk,
            "reference": case.reference,
            "subject": case.subject,
            "status": case.status,
            "channel": case.channel,
            "priority": case.priority,
            "category": case.category.slug if case.category else None,
            "team": case.team.slug if case.team else None,
            "owner": UserRef.of(case.owner),
            "assignee": UserRef.of(case.assignee),
            "customer": {"id": case.customer_id, "name": case.customer.name},
            "allowed_transitions": allowed_transitions(case.status),
            "created_at": case.created_at,
            "updated_at": case.updated_at,
            "first_response_at": case.first_response_at,
            "awaiting_reply_since": case.awaiting_reply_since,
            "solved_at": case.solved_at,
            "closed_at": case.closed_at,
        }

    @staticmethod
    def of_row(row: dict[str, Any], *, tags: list[str]) -> dict:
        """`of` from a row of `selectors.case_rows_visible_to` and the case's sorted tag
        names: the same keys in the schema's order and the same values, so the row needs no
        validation."""
        return {
            "id": row["id"],
            "reference": row["reference"],
            "subject": row["subject"],
            "status": row["status"],
            "channel": row["channel"],
            "priority": row["priority"],
            "category": row["category__slug"],
            "team": row["team__slug"],
            "owner": UserRef.of_values(
                row["owner_id"],
                row["owner__username"],
                row["owner__first_name"],
                row["owner__last_name"],
            ),
            "assignee": UserRef.of_values(
                row["assignee_id"],
                row["assignee__username"],
                row["assignee__first_name"],
                row["assignee__last_name"],
            ),
            "customer": {"id": row["customer_id"], "name": row["customer__name"]},
            "tags": tags,
            "allowed_transitions": allowed_transitions(row["status"]),
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "first_response_at": row["first_response_at"],
            "awaiting_reply_since": row["awaiting_reply_since"],
            "solved_at": row["solved_at"],
            "closed_at": row["closed_at"],
            "triage": case_triage_summary_of_row(row),
        }

    @staticmethod
    def of_rows(rows: list[dict[str, Any]]) -> list[dict]:
        """`of_row` for each row, with the tags of them all read in one query."""
        tags = selectors.case_tag_names(case_ids=[row["id"] for row in rows])
        return [CaseOut.of_row(row, tags=tags[row["id"]]) for row in rows]

    @staticmethod
    def opened(case: Case) -> dict:
        """A case this request just opened, from the objects that opened it: no tags yet,
        and triage runs after the commit."""
        return {
            **CaseOut.of_fields(case),
            "tags": [],
            "triage": None,
        }


class CasePage(Schema):
    items: list[CaseOut]
    next_cursor: str | None


# The default of a PATCH field that may not be null: defaults are never validated, so a field
# left out stays unset (`exclude_unset`) while an explicit null is refused, and the schema
# does not call the field nullable.
UNCHANGED: Any = None


class CasePatchIn(Schema):
    """Fields left out stay as they are. Null clears `category`, `team`, `assignee` and
    `tags`; `priority` and `subject` cannot be empty and refuse null (422)."""

    category: str | None = Field(None, description="Category slug; empty string clears it.")
    priority: PriorityName = Field(UNCHANGED)
    team: str | None = Field(None, description="Team slug; empty string clears it.")
    assignee: str | None = Field(None, description="Username; empty string clears it.")
    tags: list[str] | None = None
    subject: str = Field(UNCHANGED, min_length=1, max_length=300)
    reason: str = Field("", max_length=500)

    @field_validator("priority", "subject", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null: leave the field out to keep its value")
        return value


class TransitionIn(Schema):
    to: StatusName
    reason: str = Field("", max_length=500)


class AttachmentIn(Schema):
    filename: str = Field(..., min_length=1, max_length=255)
    content_base64: str
    content_type: str = ""


class MessageIn(Schema):
    text: str = Field("", max_length=200_000)
    html: str | None = Field(None, max_length=1_000_000)
    direction: Literal["inbound", "outbound", "note"] | None = None
    channel: ChannelName | None = None
    attachments: list[AttachmentIn] = []
    # A reply the coach holds (a finding that `blocks`) is refused (422, code
    # "coach_objection", with the findings) unless the agent chooses to send it anyway;
    # advice alone never refuses it.
    send_anyway: bool = False
    cc: list[Annotated[str, Field(max_length=320)]] = Field(
        [], max_length=10, description="Copies of an email reply (multipart: comma-separated)."
    )


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    url: str = Field(..., description="Where to download it (same authentication).")

    @staticmethod
    def of(attachment: Attachment) -> dict:
        return {
            "id": attachment.pk,
            "filename": attachment.filename,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "url": reverse(
                "api:attachment_download",
                kwargs={"case_id": str(attachment.case_id), "attachment_id": attachment.pk},
            ),
        }


class MessageOut(Schema):
    id: int
    direction: str
    channel: str
    text: str
    html: str
    author: UserRef | None
    from_customer: bool
    delivery_status: str
    delivery_error: str
    attachments: list[AttachmentOut]
    created_at: datetime

    @staticmethod
    def of(message: Message) -> dict:
        return {
            "id": message.pk,
            "direction": message.direction,
            "channel": message.channel,
            "text": message.text,
            "html": message.html,
            "author": UserRef.of(message.author_user),
            "from_customer": message.author_customer_id is not None,
            "delivery_status": message.delivery_status,
            "delivery_error": message.delivery_error,
            "attachments": [AttachmentOut.of(a) for a in message.attachments.all()],
            "created_at": message.created_at,
        }


class EventOut(Schema):
    id: int
    kind: str
    actor: UserRef | None
    data: dict
    created_at: datetime


def _category(slug: str | None) -> Category | None:
    if not slug:
        return None
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise CaseValidationError(f"no category '{slug}'", field="category")
    return category


@router.post("/cases", response={201: CaseOut, 200: CaseOut}, summary="Open a case")
def case_create(request: ApiRequest, payload: CaseCreateIn):
    """Open a case with its first message. Send an `Idempotency-Key` header so a retried
    request returns the case the first one created (200) instead of a second case."""
    who = payload.customer
    case, opened = case_open_requested(
        requester=request.auth,
        request=CaseRequest(
            subject=payload.subject,
            text=payload.message.text,
            html=payload.message.html or "",
            channel=payload.channel,
            priority=payload.priority or "normal",
            category=_category(payload.category),
            customer=Identity(email=who.email or "", phone=who.phone or "", name=who.name or ""),
        ),
        idempotency_key=request.headers.get("Idempotency-Key") or "",
    )
    if opened:
        return Reply(201, CaseOut.opened(case))
    case = selectors.case_get_for_user(user=request.auth, case_id=case.pk)
    return Reply(200, CaseOut.of(case))


@router.get("/cases", response=CasePage, summary="List cases")
def case_list(
    request: ApiRequest,
    status: str = "",
    team: str = "",
    owner: str = "",
    assignee: str = "",
    customer: int | None = None,
    category: str = "",
    priority: str = "",
    q: str = "",
    cursor: str = "",
    limit: int = Query(50, ge=1, le=200),
):
    """Newest first. Follow `next_cursor` for the next page; pages are stable under inserts.
    `status` and `priority` take comma-separated values; `owner=none` finds unowned cases."""
    for value in filter(None, status.split(",")):
        if value not in Status.values:
            raise CaseValidationError(f"unknown status '{value}'", field="status")
    filters = selectors.CaseFilters(
        status=status,
        team=team,
        owner=owner,
        assignee=assignee,
        customer=customer,
        category=category,
        priority=priority,
        q=q.strip(),
    )
    rows, next_cursor = selectors.case_list_rows(
        user=request.auth, filters=filters, cursor=cursor, limit=limit
    )
    # Already in CasePage's shape (tests/cases/test_api_read_shape.py holds it to it).
    return json_response({"items": CaseOut.of_rows(rows), "next_cursor": next_cursor})


@router.get("/cases/{case_id}", response=CaseOut, summary="Read a case")
def case_detail(request: ApiRequest, case_id: str):
    """By id or by reference (`CL-000123`)."""
    row = selectors.case_row_get_for_user(user=request.auth, case_id=case_id)
    # Already in CaseOut's shape (tests/cases/test_api_read_shape.py holds it to it).
    return json_response(CaseOut.of_rows([row])[0])


@router.patch("/cases/{case_id}", response=CaseOut, summary="Update a case")
def case_patch(request: ApiRequest, case_id: str, payload: CasePatchIn):
    require_staff(request)
    case = selectors.case_get_for_user(user=request.auth, case_id=case_id)
    given = payload.model_dump(exclude_unset=True)
    changes: dict = {}
    if "category" in given:
        changes["category"] = _category(payload.category)
    if "priority" in given and payload.priority:
        changes["priority"] = payload.priority
    if "team" in given:
        team = Team.objects.filter(slug=payload.team).first() if payload.team else None
        if payload.team and team is None:
            raise CaseValidationError(f"no team '{payload.team}'", field="team")
        changes["team"] = team
    if "assignee" in given:
        assignee = (
            User.objects.filter(username=payload.assignee).first() if payload.assignee else None
        )
        if payload.assignee and assignee is None:
            raise CaseValidationError(f"no user '{payload.assignee}'", field="assignee")
        changes["assignee"] = assignee
    if "tags" in given:
        changes["tags"] = payload.tags or []
    if "subject" in given and payload.subject:
        changes["subject"] = payload.subject
    services.case_update(case=case, actor=request.auth, reason=payload.reason, **changes)
    return CaseOut.of(selectors.case_get_for_user(user=request.auth, case_id=case.pk))


CUSTOMER_TRANSITIONS = {("solved", "closed"), ("solved", "open"), ("closed", "open")}


@router.post("/cases/{case_id}/transitions", response=CaseOut, summary="Change status")
def case_transition(request: ApiRequest, case_id: str, payload: TransitionIn):
    """Move along `new → open → pending_customer | pending_internal → solved → closed`;
    reopen from solved/closed. An illegal move is 409 naming the allowed ones."""
    user = request.auth
    case = selectors.case_get_for_user(user=user, case_id=case_id)
    if not user.is_agent_like and (case.status, payload.to) not in CUSTOMER_TRANSITIONS:
        raise HttpError(403, "customers can only confirm a solved case or reopen it")
    services.case_transition(case=case, to=payload.to, actor=user, reason=payload.reason)
    return CaseOut.of(selectors.case_get_for_user(user=user, case_id=case.pk))


def _message_in(request: HttpRequest) -> tuple[MessageIn, list[services.AttachmentUpload]]:
    """Parse JSON (attachments base64) or multipart (attachments as files)."""
    content_type = request.content_type or ""
    try:
        if content_type.startswith("multipart/") or content_type.endswith("urlencoded"):
            data: dict[str, Any] = {k: v for k, v in request.POST.items()}
            if "cc" in data:
                data["cc"] = [a for a in str(data["cc"]).split(",") if a.strip()]
            payload = MessageIn.model_validate(data)
            uploads = [
                services.AttachmentUpload(
                    filename=f.name or "", content=f.read(), content_type=f.content_type or ""
                )
                for f in request.FILES.getlist("attachments")
            ]
        else:
            try:
                data = json.loads(request.body or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise HttpError(400, f"the body is not valid JSON: {exc}") from exc
            payload = MessageIn.model_validate(data)
            uploads = []
            for index, item in enumerate(payload.attachments):
                try:
                    content = base64.b64decode(item.content_base64, validate=True)
                except (binascii.Error, ValueError) as exc:
                    raise CaseValidationError(
                        "content_base64 is not valid base64",
                        field=f"attachments.{index}.content_base64",
                    ) from exc
                uploads.append(
                    services.AttachmentUpload(
                        filename=item.filename, content=content, content_type=item.content_type
                    )
                )
    except PydanticValidationError as exc:
        from ninja.errors import ValidationError

        raise ValidationError(
            [{**e, "loc": ("body", "payload", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from exc
    return payload, uploads


def _inline_schema(model: type[Schema]) -> dict:
    """The model's JSON schema with nested definitions inlined, for openapi_extra."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


@router.post(
    "/cases/{case_id}/messages",
    response={201: MessageOut},
    summary="Add a message",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": _inline_schema(MessageIn)},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "text": {"type": "string"},
                            "direction": {"type": "string"},
                            "send_anyway": {"type": "boolean"},
                            "cc": {"type": "string"},
                            "attachments": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            },
                        },
                    }
                },
            }
        }
    },
)
def message_create(request: ApiRequest, case_id: str):
    """Agents reply (`outbound`, delivered on the case's channel; the reply coach reviews it
    first, as in the workspace) or write an internal `note`; customers add `inbound`
    messages. JSON (attachments base64) or multipart."""
    user = request.auth
    case = selectors.case_get_for_user(user=user, case_id=case_id)
    payload, uploads = _message_in(request)
    direction = payload.direction or ("outbound" if user.is_agent_like else "inbound")
    if not user.is_agent_like and direction != "inbound":
        raise HttpError(403, "customers can only add inbound messages")
    if direction == "inbound":
        message = services.message_add(
            case=case,
            direction=direction,
            channel=payload.channel,
            text=payload.text,
            html=payload.html or "",
            actor=user,
            attachments=uploads,
            author_customer=user.customer if user.is_customer else None,
        )
    else:
        # The same service, and the same coach, as the workspace's composer.
        message = services.reply_send(
            case=case,
            actor=user,
            text=payload.text,
            kind="note" if direction == "note" else "reply",
            channel=payload.channel or "",
            html=payload.html or "",
            attachments=uploads,
            send_anyway=payload.send_anyway,
            cc=payload.cc,
        )
    message = selectors.case_messages(case=case, user=user).get(pk=message.pk)
    return Reply(201, MessageOut.of(message))


@router.get("/cases/{case_id}/messages", response=list[MessageOut], summary="List messages")
def message_list(request: ApiRequest, case_id: str):
    user = request.auth
    case = selectors.case_get_for_user(user=user, case_id=case_id)
    return [MessageOut.of(m) for m in selectors.case_messages(case=case, user=user)]


@router.get(
    "/cases/{case_id}/attachments/{attachment_id}",
    summary="Download an attachment",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, as a download (`Content-Disposition: attachment`).",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def attachment_download(request: ApiRequest, case_id: str, attachment_id: int) -> FileResponse:
    """Any file of a message the caller may see: customers get those of their own cases,
    never an internal note's. Served as a download; HTML, SVG and unknown types come as
    `application/octet-stream`."""
    attachment = selectors.attachment_get_for_user(
        user=request.auth, case_id=case_id, attachment_id=attachment_id
    )
    return download_response(
        file=attachment.file.open("rb"),
        filename=attachment.filename,
        content_type=attachment.content_type,
    )


@router.get("/cases/{case_id}/events", response=list[EventOut], summary="The case's event log")
def event_list(request: ApiRequest, case_id: str):
    require_staff(request)
    case = selectors.case_get_for_user(user=request.auth, case_id=case_id)
    return [
        {
            "id": e.pk,
            "kind": e.kind,
            "actor": UserRef.of(e.actor),
            "data": e.data,
            "created_at": e.created_at,
        }
        for e in selectors.case_events(case=case)
    ]


class TransferIn(Schema):
    to: str = Field(..., description="Username of the new owner.")
    reason: str = Field("", max_length=500)


@router.post("/cases/{case_id}/ownership", response=CaseOut, summary="Transfer ownership")
def case_transfer(request: ApiRequest, case_id: str, payload: TransferIn):
    """The only way ownership moves: an explicit transfer to another agent."""
    require_staff(request)
    case = selectors.case_get_for_user(user=request.auth, case_id=case_id)
    to_user = User.objects.filter(username=payload.to).first()
    if to_user is None:
        raise CaseValidationError(f"no user '{payload.to}'", field="to")
    services.case_transfer_ownership(
        case=case, to_user=to_user, actor=request.auth, reason=payload.reason
    )
    return CaseOut.of(selectors.case_get_for_user(user=request.auth, case_id=case.pk))


class SplitIn(Schema):
    subject: str = Field("", max_length=300)


class ForwardIn(Schema):
    to: str = Field(..., max_length=320)
    note: str = Field("", max_length=2000)


class ForwardOut(Schema):
    event_id: int
    to: str


@router.post(
    "/cases/{case_id}/messages/{message_id}/split",
    response={201: CaseOut},
    summary="Split a customer's message into a new case",
)
def message_split(request: ApiRequest, case_id: str, message_id: int, body: SplitIn):
    """Open a new case for the customer with this message of theirs (text and attachments);
    the message stays on this case too, and both cases say so (agents)."""
    require_staff(request)
    case = selectors.case_get_for_user(user=request.auth, case_id=case_id)
    new = message_actions.case_split(
        case=case,
        message_id=min(message_id, selectors.MAX_ID),
        actor=request.auth,
        subject=body.subject,
    )
    return Reply(201, CaseOut.of(selectors.case_get_for_user(user=request.auth, case_id=new.pk)))


@router.post(
    "/cases/{case_id}/messages/{message_id}/forward",
    response={202: ForwardOut},
    summary="Forward a message by email",
)
def message_forward(request: ApiRequest, case_id: str, message_id: int, body: ForwardIn):
    """Email this message (with its attachments and your note) to someone outside the desk;
    the customer does not see it (agents). Sent through the outbox."""
    require_staff(request)
    case = selectors.case_get_for_user(user=request.auth, case_id=case_id)
    event = message_actions.message_forward(
        case=case,
        message_id=min(message_id, selectors.MAX_ID),
        actor=request.auth,
        to=body.to,
        note=body.note,
    )
    return Reply(202, ForwardOut(event_id=event.pk, to=event.data["to"]))
