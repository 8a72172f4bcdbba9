"""Writes for cases. Every change writes a CaseEvent in the same transaction; side effects
(delivery, realtime pushes, hooks) run after commit.

`case_create` is the only way a case comes to exist: the API and every intake channel call it.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import EllipsisType
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from caseloop.lib.html import html_sanitize, html_to_text
from caseloop.lib.realtime import DESK_GROUP, case_group, publish

from . import extensions, hooks, outbox
from .errors import (
    AttachmentTooLarge,
    CaseValidationError,
    InvalidTransition,
    OwnershipError,
    ReplyObjection,
)
from .events import event_kind_get
from .models import (
    Attachment,
    Case,
    CaseEvent,
    Category,
    Channel,
    Message,
    Priority,
    Status,
    Tag,
)
from .transitions import allowed_transitions, is_reopen, transition_allowed

if TYPE_CHECKING:
    from caseloop.accounts.models import Team, User
    from caseloop.customers.models import Customer

# Statuses in which the customer is not waiting on the desk for a reply.
NOT_AWAITING_REPLY = frozenset({Status.PENDING_CUSTOMER, Status.SOLVED, Status.CLOSED})

Kind = CaseEvent.Kind


@dataclass(frozen=True)
class AttachmentUpload:
    """An attachment as any channel hands it in: a name, bytes and a declared type."""

    filename: str
    content: bytes
    content_type: str = ""
    content_id: str = ""


def event_record(
    *, case: Case, kind: str, actor: User | None = None, data: dict[str, Any] | None = None
) -> CaseEvent:
    """Append one event to the case's log. Call it inside the transaction of the change.
    Raises UnknownEventKind for a kind no app registered."""
    event_kind_get(kind)
    event = CaseEvent.objects.create(case=case, actor=actor, kind=kind, data=data or {})
    hooks.events_recorded([event])
    return event


def _is_staff(user: object) -> bool:
    return user is not None and bool(getattr(user, "is_agent_like", False))


def _ensure_owner(*, case: Case, actor: User | None) -> None:
    """The first agent who acts on a case becomes its owner."""
    if case.owner_id is None and actor is not None and _is_staff(actor):
        case.owner = actor
        case.save(update_fields=["owner", "updated_at"])
        event_record(
            case=case,
            actor=actor,
            kind=Kind.OWNER_ASSIGNED,
            data={"before": None, "after": actor.pk, "reason": "first agent to act"},
        )


def _after_commit_publish(case: Case, kind: str, extra: dict[str, Any] | None = None) -> None:
    payload = {
        "kind": kind,
        "case_id": case.pk,
        "reference": case.reference,
        "status": case.status,
        **(extra or {}),
    }
    transaction.on_commit(lambda: publish(DESK_GROUP, payload))
    transaction.on_commit(lambda: publish(case_group(case.pk), payload))


def case_create(
    *,
    customer: Customer,
    subject: str,
    text: str = "",
    html: str = "",
    channel: str,
    actor: User | None = None,
    raw: str = "",
    external_id: str = "",
    metadata: dict[str, Any] | None = None,
    category: Category | None = None,
    priority: str = Priority.NORMAL,
    attachments: Iterable[AttachmentUpload] = (),
) -> Case:
    """Open a case for `customer` with its first inbound message.

    Side effects: `created` and `message_added` events (and `owner_assigned` when an agent
    files it); after commit, case-created hooks (triage, acknowledgement) and a realtime push.
    """
    subject = (subject or "").strip()
    if channel not in Channel.values:
        raise CaseValidationError(f"unknown channel '{channel}'", field="channel")
    if priority not in Priority.values:
        raise CaseValidationError(f"unknown priority '{priority}'", field="priority")
    attachments = list(attachments)
    attachment_check_count(count=len(attachments))
    for upload in attachments:
        attachment_check_size(filename=upload.filename, size=len(upload.content))
    text = text or html_to_text(html)
    if not subject:
        subject = (text.strip().splitlines() or ["(no subject)"])[0][:120] or "(no subject)"
    # Everything that can refuse the case is checked above, so the writes need no savepoint
    # of their own inside a caller's transaction (a failure there fails the whole request).
    with transaction.atomic(savepoint=False):
        return _case_insert(
            customer=customer,
            subject=subject,
            text=text,
            html=html,
            channel=channel,
            actor=actor,
            raw=raw,
            external_id=external_id,
            metadata=metadata,
            category=category,
            priority=priority,
            attachments=attachments,
        )


def _case_insert(
    *,
    customer: Customer,
    subject: str,
    text: str,
    html: str,
    channel: str,
    actor: User | None,
    raw: str,
    external_id: str,
    metadata: dict[str, Any] | None,
    category: Category | None,
    priority: str,
    attachments: list[AttachmentUpload],
) -> Case:
    arrived = timezone.now()
    # An agent who files a case owns it from the start.
    owner = actor if actor is not None and _is_staff(actor) else None
    case = Case.objects.create(
        subject=subject[:300],
        customer=customer,
        channel=channel,
        category=category,
        priority=priority,
        status=Status.NEW,
        owner=owner,
        last_customer_message_at=arrived,
        awaiting_reply_since=arrived,
    )
    message, message_event = _message_insert(
        case=case,
        direction=Message.Direction.INBOUND,
        channel=channel,
        text=text,
        html=html,
        raw=raw,
        external_id=external_id,
        metadata=metadata,
        author_customer=customer,
        author_user=actor if actor is not None and not _is_staff(actor) else None,
        attachments=attachments,
        actor=actor,
    )
    created = CaseEvent(
        case=case,
        actor=actor,
        kind=Kind.CREATED,
        data={
            "after": {
                "subject": case.subject,
                "channel": channel,
                "customer": customer.pk,
                "priority": priority,
                "category": category.pk if category else None,
            }
        },
    )
    events = [created, message_event]
    if owner is not None:
        events.append(
            CaseEvent(
                case=case,
                actor=actor,
                kind=Kind.OWNER_ASSIGNED,
                data={"before": None, "after": owner.pk, "reason": "first agent to act"},
            )
        )
    # The opening events in one statement, in the order they happened.
    # Their reactions are the new case's and first message's own: the opening owner is the
    # agent who opened it, whom nothing needs telling.
    CaseEvent.objects.bulk_create(events)
    hooks.case_created(
        case.pk,
        first_message_id=message.pk,
        first_message=hooks.MessageFacts(
            direction=Message.Direction.INBOUND,
            automatic=bool((metadata or {}).get("auto_reply")),
            opening=True,
        ),
    )
    _after_commit_publish(case, "case.created", {"subject": case.subject})
    return case


def _message_store(
    *,
    case: Case,
    direction: str,
    channel: str,
    text: str,
    html: str,
    raw: str,
    external_id: str,
    metadata: dict[str, Any] | None,
    attachments: Iterable[AttachmentUpload],
    actor: User | None,
    author_user: User | None = None,
    author_customer: Customer | None = None,
    delivery_status: str = Message.Delivery.NOT_APPLICABLE,
) -> Message:
    message, event = _message_insert(
        case=case,
        direction=direction,
        channel=channel,
        text=text,
        html=html,
        raw=raw,
        external_id=external_id,
        metadata=metadata,
        attachments=attachments,
        actor=actor,
        author_user=author_user,
        author_customer=author_customer,
        delivery_status=delivery_status,
    )
    event.save()
    return message


def _message_insert(
    *,
    case: Case,
    direction: str,
    channel: str,
    text: str,
    html: str,
    raw: str,
    external_id: str,
    metadata: dict[str, Any] | None,
    attachments: Iterable[AttachmentUpload],
    actor: User | None,
    author_user: User | None = None,
    author_customer: Customer | None = None,
    delivery_status: str = Message.Delivery.NOT_APPLICABLE,
) -> tuple[Message, CaseEvent]:
    """Store the message and its attachments; returns it with its `message_added` event,
    not yet saved, so the caller can write it alone or with others."""
    attachments = list(attachments)
    attachment_check_count(count=len(attachments))
    clean_html = html_sanitize(html)
    message = Message.objects.create(
        case=case,
        direction=direction,
        channel=channel,
        text=text or html_to_text(clean_html),
        html=clean_html,
        raw=raw or text or html,
        external_id=(external_id or "")[:998],
        metadata=metadata or {},
        author_user=author_user,
        author_customer=author_customer,
        delivery_status=delivery_status,
    )
    stored = [
        attachment_add(case=case, message=message, upload=upload, actor=actor, record_event=False)
        for upload in attachments
    ]
    event = CaseEvent(
        case=case,
        actor=actor,
        kind=Kind.MESSAGE_ADDED,
        data={
            "message": message.pk,
            "direction": direction,
            "channel": channel,
            "attachments": [a.pk for a in stored],
        },
    )
    return message, event


def attachment_check_count(*, count: int) -> None:
    """Refuse more attachments on one message than settings.MAX_ATTACHMENTS_PER_MESSAGE;
    channels that must keep such a message trim it first and quarantine the original."""
    limit = settings.MAX_ATTACHMENTS_PER_MESSAGE
    if count > limit:
        raise CaseValidationError(
            f"{count} attachments, more than the {limit} allowed", field="attachments"
        )


def attachment_check_size(*, filename: str, size: int) -> None:
    limit = settings.MAX_ATTACHMENT_BYTES
    if size > limit:
        raise AttachmentTooLarge(filename, size, limit)


def attachment_add(
    *,
    case: Case,
    upload: AttachmentUpload,
    message: Message | None = None,
    actor: User | None = None,
    record_event: bool = True,
) -> Attachment:
    """Store an attachment under the data dir; refuses anything over the configured limit.
    Side effects: an `attachment_added` event unless the message event already names it."""
    attachment_check_size(filename=upload.filename, size=len(upload.content))
    filename = get_valid_filename(upload.filename or "attachment") or "attachment"
    content_type = (
        upload.content_type or mimetypes.guess_type(filename)[0] or ("application/octet-stream")
    )
    attachment = Attachment(
        case=case,
        message=message,
        filename=filename[:255],
        content_type=content_type[:200],
        size=len(upload.content),
        content_id=upload.content_id[:255],
    )
    attachment.file.save(filename, ContentFile(upload.content), save=False)
    attachment.save()
    if record_event:
        event_record(
            case=case,
            actor=actor,
            kind=Kind.ATTACHMENT_ADDED,
            data={
                "attachment": attachment.pk,
                "filename": attachment.filename,
                "size": attachment.size,
            },
        )
    return attachment


@transaction.atomic
def message_add(
    *,
    case: Case,
    direction: str,
    channel: str | None = None,
    text: str = "",
    html: str = "",
    actor: User | None = None,
    author_customer: Customer | None = None,
    raw: str = "",
    external_id: str = "",
    metadata: dict[str, Any] | None = None,
    attachments: Iterable[AttachmentUpload] = (),
    system: bool = False,
) -> Message:
    """Add a message to a case.

    Inbound: a customer writing moves a case waiting on them back to open and reopens a
    solved or closed one. Outbound: the first reply sets first-response time and opens a new
    case; it is queued for delivery on its channel. Notes stay internal.
    Side effects: `message_added` (and status/owner) events; after commit, delivery of
    outbound messages, message hooks and a realtime push.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)
    if direction not in Message.Direction.values:
        raise CaseValidationError(f"unknown direction '{direction}'", field="direction")
    channel = channel or case.channel
    if channel not in Channel.values:
        raise CaseValidationError(f"unknown channel '{channel}'", field="channel")
    if not (text or html or attachments):
        raise CaseValidationError("a message needs text, HTML or an attachment", field="text")
    attachments = list(attachments)
    for upload in attachments:
        attachment_check_size(filename=upload.filename, size=len(upload.content))
    inbound = direction == Message.Direction.INBOUND
    if not inbound and not system and not _is_staff(actor):
        raise OwnershipError("only agents can send replies or write internal notes")
    if inbound:
        author_customer = author_customer or case.customer
    outbound = direction == Message.Direction.OUTBOUND
    message = _message_store(
        case=case,
        direction=direction,
        channel=channel,
        text=text,
        html=html,
        raw=raw,
        external_id=external_id,
        metadata={**(metadata or {}), "system": True} if system else metadata,
        attachments=attachments,
        actor=actor,
        author_user=actor if actor is not None else None,
        author_customer=author_customer if inbound else None,
        # Written with the message: a reply, the agent's or the desk's, waits for delivery.
        delivery_status=Message.Delivery.QUEUED if outbound else Message.Delivery.NOT_APPLICABLE,
    )
    now = timezone.now()
    if inbound:
        # An out-of-office or bounce is no answer from the customer: it never reopens a case
        # nor starts a wait for a reply.
        auto_reply = bool((metadata or {}).get("auto_reply"))
        case.last_customer_message_at = now
        if case.awaiting_reply_since is None and not auto_reply:
            case.awaiting_reply_since = now
        case.save(update_fields=["last_customer_message_at", "awaiting_reply_since", "updated_at"])
        if not auto_reply and case.status in (
            Status.PENDING_CUSTOMER,
            Status.SOLVED,
            Status.CLOSED,
        ):
            _transition(case=case, to=Status.OPEN, actor=actor, reason="customer wrote again")
    elif system:
        if outbound:
            _deliver_later(message)
    else:
        _ensure_owner(case=case, actor=actor)
        if case.status == Status.NEW:
            _transition(case=case, to=Status.OPEN, actor=actor, reason="agent acted")
        if outbound:
            if case.first_response_at is None:
                case.first_response_at = now
            # An agent's reply answers everything the customer wrote so far; an automatic
            # acknowledgement (the system branch above) does not.
            case.awaiting_reply_since = None
            case.save(update_fields=["first_response_at", "awaiting_reply_since", "updated_at"])
            _deliver_later(message)
    hooks.message_added(
        message.pk,
        case_id=case.pk,
        facts=hooks.MessageFacts(
            direction=direction,
            automatic=system or bool((metadata or {}).get("auto_reply")),
            by_staff=actor is not None and _is_staff(actor),
        ),
    )
    _after_commit_publish(case, "message.added", {"message_id": message.pk, "direction": direction})
    return message


def reply_send(
    *,
    case: Case,
    actor: User,
    text: str,
    kind: str = "reply",
    channel: str = "",
    html: str = "",
    attachments: Iterable[AttachmentUpload] = (),
    send_anyway: bool = False,
    then_status: str = "",
    cc: Iterable[str] = (),
) -> Message:
    """An agent's reply to the customer (or, with kind "note", an internal note), from the
    workspace or the API alike. A reply is reviewed first (the reply coach): findings that
    hold a reply (`blocks`) refuse it with ReplyObjection, carrying all the findings, unless
    `send_anyway`, and then the override is counted; advice alone never stops a reply.
    With `then_status` the case then moves there (waiting on the customer, solved…) in the
    same transaction: a move the case may not make sends nothing (InvalidTransition, or
    the refusal of a check before solving). A reply is signed with the agent's signature
    (unless it already ends with it) and, by email, copied to the `cc` addresses.
    Side effects: those of `message_add` and, with `then_status`, of `case_transition`; the
    reviewer's override record."""
    direction = Message.Direction.NOTE if kind == "note" else Message.Direction.OUTBOUND
    copies = reply_cc_check(cc=cc, direction=direction, channel=channel or case.channel)
    if then_status and then_status not in Status.values:
        raise InvalidTransition(case.status, then_status, allowed_transitions(case.status))
    reviewer = extensions.reply_reviewer()
    findings = (
        reviewer.findings(text=text, case=case)
        if reviewer is not None and direction == Message.Direction.OUTBOUND and text
        else []
    )
    holding = [finding for finding in findings if finding.blocks]
    if holding and not send_anyway:
        raise ReplyObjection(findings)
    with transaction.atomic():
        message = message_add(
            case=case,
            direction=direction,
            channel=channel or None,
            text=reply_signed(text=text, agent=actor)
            if direction != Message.Direction.NOTE
            else text,
            html=html,
            actor=actor,
            attachments=attachments,
            metadata={"cc": copies} if copies else None,
        )
        # message_add worked on the case's locked row, which now holds its status.
        if then_status and message.case.status != then_status:
            case_transition(case=message.case, to=then_status, actor=actor)
        if holding and reviewer is not None:
            reviewer.override_record(
                user=actor, case=case, message=message, rule_ids=[f.rule_id for f in holding]
            )
    return message


MAX_CC = 10


def reply_cc_check(*, cc: Iterable[str], direction: str, channel: str) -> list[str]:
    """The copies of a reply, checked: email addresses, on an email reply, at most MAX_CC.
    Raises CaseValidationError naming the first fault."""
    copies = [address.strip() for address in cc if address and address.strip()]
    if not copies:
        return []
    if direction != Message.Direction.OUTBOUND or channel != Channel.EMAIL:
        raise CaseValidationError("copies (CC) go only with a reply by email", field="cc")
    if len(copies) > MAX_CC:
        raise CaseValidationError(f"at most {MAX_CC} copies (CC)", field="cc")
    for address in copies:
        try:
            validate_email(address)
        except ValidationError:
            raise CaseValidationError(
                f"'{address[:100]}' is not an email address", field="cc"
            ) from None
    return list(dict.fromkeys(address.lower() for address in copies))


def reply_signed(*, text: str, agent: User) -> str:
    """`text` with the agent's signature under it, unless it already ends with it."""
    signature = (agent.signature or "").strip()
    if not signature or not text.strip() or text.rstrip().endswith(signature):
        return text
    return f"{text.rstrip()}\n\n{signature}"


DELIVER_EFFECT = "message.deliver"


def _deliver_later(message: Message) -> None:
    """Record the delivery of an outbound message with it (the channel's sender carries it
    out, at least once; see `cases.outbox`)."""
    outbox.effect_record(
        kind=DELIVER_EFFECT,
        payload={"message": message.pk},
        key=f"{DELIVER_EFFECT}:{message.pk}",
        case_id=message.case_id,
    )


def _transition(
    *, case: Case, to: str, actor: User | None, reason: str = "", merge: bool = False
) -> None:
    current = case.status
    if not transition_allowed(current, to, merge=merge):
        raise InvalidTransition(current, to, allowed_transitions(current))
    if to == Status.SOLVED:
        extensions.case_solve_check(case=case, actor=actor)
    if to == Status.OPEN and case.owner_id is None:
        if not _is_staff(actor):
            raise OwnershipError("a case can only be opened by an agent, who becomes its owner")
        _ensure_owner(case=case, actor=actor)
    now = timezone.now()
    fields = ["status", "updated_at"]
    case.status = to
    if to in NOT_AWAITING_REPLY:
        case.awaiting_reply_since = None
        fields.append("awaiting_reply_since")
    if to == Status.SOLVED:
        case.solved_at = now
        fields.append("solved_at")
    elif to == Status.CLOSED:
        case.closed_at = now
        fields.append("closed_at")
    elif is_reopen(current, to):
        case.solved_at = None
        case.closed_at = None
        fields += ["solved_at", "closed_at"]
    case.save(update_fields=fields)
    data: dict[str, Any] = {"before": current, "after": to}
    if reason:
        data["reason"] = reason
    if is_reopen(current, to):
        data["reopened"] = True
    event_record(case=case, actor=actor, kind=Kind.STATUS_CHANGED, data=data)
    hooks.case_status_changed(case.pk, current, to)
    _after_commit_publish(case, "case.status", {"before": current, "after": to})


@transaction.atomic
def case_transition(*, case: Case, to: str, actor: User | None = None, reason: str = "") -> Case:
    """Move the case along the status machine. Raises InvalidTransition naming the allowed
    targets. An agent acting on an unowned case becomes its owner.
    Side effects: a `status_changed` event (and `owner_assigned`); a realtime push."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if to not in Status.values:
        raise InvalidTransition(case.status, to, allowed_transitions(case.status))
    if to != Status.OPEN:
        _ensure_owner(case=case, actor=actor)
    _transition(case=case, to=to, actor=actor, reason=reason)
    return case


@transaction.atomic
def case_update(
    *,
    case: Case,
    actor: User | None,
    category: Category | None | EllipsisType = ...,
    priority: str | EllipsisType = ...,
    team: Team | None | EllipsisType = ...,
    assignee: User | None | EllipsisType = ...,
    tags: list[str] | EllipsisType = ...,
    subject: str | EllipsisType = ...,
    reason: str = "",
) -> Case:
    """Change a case's fields; arguments left out stay as they are. One event per field
    changed, with before and after. Side effects: those events; a realtime push."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    _ensure_owner(case=case, actor=actor)
    changed: list[str] = []

    def record(kind: str, before: Any, after: Any) -> None:
        data: dict[str, Any] = {"before": before, "after": after}
        if reason:
            data["reason"] = reason
        event_record(case=case, actor=actor, kind=kind, data=data)

    if priority is not ... and priority != case.priority:
        if priority not in Priority.values:
            raise CaseValidationError(f"unknown priority '{priority}'", field="priority")
        record(Kind.PRIORITY_CHANGED, case.priority, priority)
        case.priority = priority
        changed.append("priority")
    if category is not ... and (category.pk if category else None) != case.category_id:
        record(Kind.CATEGORY_CHANGED, case.category_id, category.pk if category else None)
        case.category = category
        changed.append("category")
    if team is not ... and (team.pk if team else None) != case.team_id:
        record(Kind.TEAM_CHANGED, case.team_id, team.pk if team else None)
        case.team = team
        changed.append("team")
    if assignee is not ... and (assignee.pk if assignee else None) != case.assignee_id:
        if assignee is not None and not _is_staff(assignee):
            raise CaseValidationError("the assignee must be an agent", field="assignee")
        record(Kind.ASSIGNEE_CHANGED, case.assignee_id, assignee.pk if assignee else None)
        case.assignee = assignee
        changed.append("assignee")
    if subject is not ... and subject.strip() and subject.strip() != case.subject:
        record(Kind.SUBJECT_CHANGED, case.subject, subject.strip()[:300])
        case.subject = subject.strip()[:300]
        changed.append("subject")
    if changed:
        case.save(update_fields=[*changed, "updated_at"])
    if tags is not ...:
        _tags_set(case=case, names=tags, actor=actor, reason=reason)
    if changed:
        _after_commit_publish(case, "case.updated", {"fields": changed})
        hooks.case_updated(case.pk, changed)
    return case


def _tags_set(*, case: Case, names: list[str], actor: User | None, reason: str = "") -> None:
    wanted = sorted({name.strip().lower()[:64] for name in names if name and name.strip()})
    current = dict(case.tags.values_list("name", "id"))
    before = sorted(current)
    if wanted == before:
        return
    ids = _tag_ids(wanted)
    gone = [current[name] for name in before if name not in ids]
    if gone:
        case.tags.remove(*gone)
    added = [ids[name] for name in wanted if name not in current]
    if added:
        case.tags.add(*added)
    data: dict[str, Any] = {"before": before, "after": wanted}
    if reason:
        data["reason"] = reason
    event_record(case=case, actor=actor, kind=Kind.TAGS_CHANGED, data=data)


def _tag_ids(names: list[str]) -> dict[str, int]:
    """The ids of the tags named, creating the missing ones (a concurrent creation of the
    same name is not an error)."""
    ids = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
    missing = [name for name in names if name not in ids]
    if missing:
        Tag.objects.bulk_create([Tag(name=name) for name in missing], ignore_conflicts=True)
        ids.update(Tag.objects.filter(name__in=missing).values_list("name", "id"))
    return ids


@transaction.atomic
def case_tags_add(*, case: Case, names: list[str], actor: User | None) -> Case:
    current = list(case.tags.values_list("name", flat=True))
    return case_update(case=case, actor=actor, tags=current + list(names))


@transaction.atomic
def case_transfer_ownership(
    *, case: Case, to_user: User | None, actor: User | None, reason: str = ""
) -> Case:
    """Hand ownership to another agent: the only way ownership moves.
    Side effects: an `owner_transferred` event."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if to_user is None or not _is_staff(to_user):
        raise OwnershipError("ownership can only move to an agent")
    if case.owner_id == to_user.pk:
        return case
    before = case.owner_id
    case.owner = to_user
    case.save(update_fields=["owner", "updated_at"])
    event_record(
        case=case,
        actor=actor,
        kind=Kind.OWNER_TRANSFERRED,
        data={"before": before, "after": to_user.pk, "reason": reason},
    )
    _after_commit_publish(case, "case.owner", {"owner": to_user.pk})
    return case


def case_move_to_customer(
    *, source: Customer, target: Customer, actor: User | None = None
) -> list[int]:
    """Move every case of `source` to `target` (customer merge). Caller holds the transaction.
    Side effects: a `customer_changed` event per moved case."""
    moved = []
    for case in Case.objects.select_for_update().filter(customer=source).order_by("id"):
        case.customer = target
        case.save(update_fields=["customer", "updated_at"])
        event_record(
            case=case,
            actor=actor,
            kind=Kind.CUSTOMER_CHANGED,
            data={"before": source.pk, "after": target.pk, "reason": "customers merged"},
        )
        moved.append(case.pk)
    return moved


# What a channel may store on a message when it delivers it.
DELIVERY_KEPT_FIELDS = frozenset({"external_id", "raw"})


@transaction.atomic
def message_delivery_mark(
    *, message_id: int, status: str, error: str = "", kept: Mapping[str, str] | None = None
) -> Message:
    """Record the outcome of a delivery attempt; failures are visible on the case. `kept`:
    what the channel gave the message when it was sent (its `external_id` there, the `raw`
    source sent), stored with the outcome.
    Side effects: a `delivery_changed` event when the status changes."""
    kept = dict(kept or {})
    if unknown := set(kept) - DELIVERY_KEPT_FIELDS:
        raise ValueError(f"a delivery keeps only {sorted(DELIVERY_KEPT_FIELDS)}: {sorted(unknown)}")
    message = Message.objects.select_for_update().select_related("case").get(pk=message_id)
    before = message.delivery_status
    message.delivery_status = status
    message.delivery_error = error[:2000]
    message.delivery_attempts += 1
    for field, value in kept.items():
        setattr(message, field, value)
    message.save(
        update_fields=["delivery_status", "delivery_error", "delivery_attempts", *sorted(kept)]
    )
    if before != status:
        event_record(
            case=message.case,
            kind=Kind.DELIVERY_CHANGED,
            data={"message": message.pk, "before": before, "after": status, "error": error[:500]},
        )
    return message


def case_reassign(
    *, case: Case, assignee: User | None, actor: User | None, reason: str = ""
) -> Case:
    """Give the day-to-day work on the case to another agent, or to nobody. This is not an
    escalation (that is the loop's, with its hand-off checks): nothing is handed over and
    the owner stays the owner. Side effects: an `assignee_changed` event."""
    return case_update(case=case, actor=actor, assignee=assignee, reason=reason)


@transaction.atomic
def case_merge(*, source: Case, target: Case, actor: User | None) -> Case:
    """Merge `source` into `target`: its messages and attachments move to the target, its
    tags are added, and the source is closed pointing at the target. Nothing is deleted.
    Side effects: `merged_into` on the source and `merged_from` on the target (plus the
    source's status change); realtime pushes for both."""
    if source.pk == target.pk:
        raise CaseValidationError("a case cannot be merged into itself", field="target")
    first, second = sorted([source.pk, target.pk])
    locked = {c.pk: c for c in Case.objects.select_for_update().filter(pk__in=[first, second])}
    source, target = locked[source.pk], locked[target.pk]
    if source.customer_id != target.customer_id:
        raise CaseValidationError("only cases of the same customer can be merged", field="target")
    message_ids = list(Message.objects.filter(case=source).values_list("id", flat=True))
    attachment_ids = list(Attachment.objects.filter(case=source).values_list("id", flat=True))
    Message.objects.filter(pk__in=message_ids).update(case=target)
    Attachment.objects.filter(pk__in=attachment_ids).update(case=target)
    source_tags = list(source.tags.values_list("name", flat=True))
    _ensure_owner(case=target, actor=actor)
    if source_tags:
        current = list(target.tags.values_list("name", flat=True))
        _tags_set(case=target, names=current + source_tags, actor=actor, reason="merged")
    moved = {"messages": message_ids, "attachments": attachment_ids}
    event_record(
        case=source,
        actor=actor,
        kind=Kind.MERGED_INTO,
        data={"target": target.pk, "reference": target.reference, **moved},
    )
    event_record(
        case=target,
        actor=actor,
        kind=Kind.MERGED_FROM,
        data={"source": source.pk, "reference": source.reference, **moved},
    )
    source_wait = source.awaiting_reply_since
    if source.status != Status.CLOSED:
        _transition(
            case=source,
            to=Status.CLOSED,
            actor=actor,
            reason=f"merged into {target.reference}",
            merge=True,
        )
    if source.last_customer_message_at and (
        target.last_customer_message_at is None
        or source.last_customer_message_at > target.last_customer_message_at
    ):
        target.last_customer_message_at = source.last_customer_message_at
        target.save(update_fields=["last_customer_message_at", "updated_at"])
    # The customer has waited since the older of the two unanswered messages.
    waits = [w for w in (source_wait, target.awaiting_reply_since) if w]
    if waits and target.is_open and min(waits) != target.awaiting_reply_since:
        target.awaiting_reply_since = min(waits)
        target.save(update_fields=["awaiting_reply_since", "updated_at"])
    _after_commit_publish(source, "case.merged", {"target": target.pk})
    _after_commit_publish(target, "case.merged", {"source": source.pk})
    return target
