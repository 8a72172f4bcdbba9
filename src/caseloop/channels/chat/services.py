"""Live chat: visitors' messages go through the one intake service; agents' replies are
pushed to the visitor's socket group over the channel layer (Redis across processes); the
transcript is mailed when a visitor who left an address closes the chat."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from caseloop.cases.errors import CaseError
from caseloop.cases.models import Case, Channel, Message
from caseloop.cases.services import event_record
from caseloop.channels.base import DeliveryError, InboundMessage
from caseloop.channels.intake import IntakeResult, inbound_receive
from caseloop.customers.errors import InvalidContactPoint
from caseloop.customers.models import ContactPoint, Customer
from caseloop.customers.services import (
    Identity,
    contact_normalize,
    customer_find_or_create,
    customer_merge,
)
from caseloop.lib.realtime import layer_group_send

from .models import ChatConversation, ChatWidget

MAX_TEXT = 5000
_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class ChatError(CaseError):
    status_code = 422

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


def visitor_id_generate() -> str:
    return secrets.token_urlsafe(24)


def visitor_id_valid(value: str) -> bool:
    return bool(value) and bool(_VISITOR_ID.match(value))


def visitor_group(*, widget_id: int, visitor_id: str) -> str:
    """The channel-layer group of every socket one visitor has open on one widget."""
    return f"chat.{widget_id}.{visitor_id}"


def origin_allowed(*, widget: ChatWidget, origin: str) -> bool:
    origin = (origin or "").rstrip("/")
    allowed = widget.origins
    if "*" in allowed:
        return True
    return bool(origin) and (origin in allowed or origin == settings.SITE_URL)


def conversation_current(*, widget: ChatWidget, visitor_id: str) -> ChatConversation | None:
    return (
        ChatConversation.objects.select_related("case")
        .filter(widget=widget, visitor_id=visitor_id, state=ChatConversation.State.OPEN)
        .order_by("-id")
        .first()
    )


@dataclass(frozen=True)
class ChatReceived:
    conversation: ChatConversation
    result: IntakeResult


@transaction.atomic
def chat_message_receive(
    *, widget: ChatWidget, visitor_id: str, text: str, client_id: str = ""
) -> ChatReceived:
    """A visitor's message: the first opens a case (acknowledged live), later ones join it.
    A client id resent after a dropped connection is taken once.
    Side effects: a conversation row; those of `inbound_receive`."""
    text = (text or "").strip()
    if not text:
        raise ChatError("a message needs text", field="text")
    if len(text) > MAX_TEXT:
        raise ChatError(f"messages are at most {MAX_TEXT} characters", field="text")
    conversation = conversation_current(widget=widget, visitor_id=visitor_id)
    if conversation is None:
        conversation = ChatConversation.objects.create(widget=widget, visitor_id=visitor_id)
    case = conversation.case
    first_line = text.splitlines()[0][:80]
    result = inbound_receive(
        InboundMessage(
            channel=Channel.CHAT,
            chat_id=visitor_id,
            text=text,
            subject=f"Chat: {first_line}",
            case_reference=case.reference if case is not None else "",
            external_id=f"{visitor_id}:{client_id[:64]}" if client_id else "",
            metadata={"widget": widget.key, "conversation": conversation.pk},
        )
    )
    if conversation.case_id != result.case.pk:
        conversation.case = result.case
        conversation.save(update_fields=["case"])
    return ChatReceived(conversation=conversation, result=result)


def _chat_customer(visitor_id: str) -> Customer | None:
    point = (
        ContactPoint.objects.select_related("customer")
        .filter(kind=ContactPoint.Kind.CHAT, value=visitor_id)
        .first()
    )
    if point is None:
        return None
    customer = point.customer
    while customer.merged_into_id:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


@transaction.atomic
def chat_identify(*, widget: ChatWidget, visitor_id: str, email: str, name: str = "") -> Customer:
    """The visitor gives an email address: the anonymous chat identity and the address end
    on one customer. When the address already belongs to a profile, the chat profile is
    merged into it, so earlier cases by email and this chat sit together.
    Side effects: contact point / merge customer events; a `chat_identified` case event."""
    try:
        email = contact_normalize(kind=ContactPoint.Kind.EMAIL, value=email)
    except InvalidContactPoint as exc:
        raise ChatError("that does not look like an email address", field="email") from exc
    chat_customer = _chat_customer(visitor_id)
    owner = (
        ContactPoint.objects.select_related("customer")
        .filter(kind=ContactPoint.Kind.EMAIL, value=email)
        .first()
    )
    if chat_customer is not None and owner is not None:
        target = owner.customer
        while target.merged_into_id:
            target = Customer.objects.get(pk=target.merged_into_id)
        customer = (
            target
            if target.pk == chat_customer.pk
            else customer_merge(source=chat_customer, target=target)
        )
        if name and not customer.name:
            customer.name = name[:200]
            customer.save(update_fields=["name"])
    else:
        customer = customer_find_or_create(
            identity=Identity(chat=visitor_id, email=email, name=name[:200])
        )
    conversation = conversation_current(widget=widget, visitor_id=visitor_id)
    if conversation is not None:
        conversation.email = email
        conversation.save(update_fields=["email"])
        if conversation.case_id:
            event_record(
                case=conversation.case,
                kind="chat_identified",
                data={"email": email, "customer": customer.pk},
            )
    return customer


@transaction.atomic
def chat_close(*, widget: ChatWidget, visitor_id: str) -> ChatConversation | None:
    """The visitor ends the chat. The case stays as it is (agents solve cases, not sockets).
    Side effects: a `chat_closed` case event; after commit, the transcript is mailed when
    the visitor gave an address."""
    conversation = conversation_current(widget=widget, visitor_id=visitor_id)
    if conversation is None:
        return None
    conversation.state = ChatConversation.State.CLOSED
    conversation.closed_at = timezone.now()
    conversation.save(update_fields=["state", "closed_at"])
    if conversation.case_id:
        event_record(
            case=conversation.case,
            kind="chat_closed",
            data={"conversation": conversation.pk, "transcript_to": conversation.email},
        )
    if conversation.email and conversation.case_id:
        from .tasks import chat_transcript_send

        conversation_id = conversation.pk
        transaction.on_commit(lambda: chat_transcript_send(conversation_id))
    return conversation


def chat_transcript_text(*, conversation: ChatConversation) -> str:
    lines = []
    messages = (
        Message.objects.filter(
            case_id=conversation.case_id, created_at__gte=conversation.created_at
        )
        .exclude(direction=Message.Direction.NOTE)
        .select_related("author_user")
        .order_by("created_at", "id")
    )
    for message in messages:
        if message.direction == Message.Direction.INBOUND:
            who = "You"
        elif message.author_user_id:
            who = message.author_user.get_full_name() or message.author_user.username
        else:
            who = "Support"
        lines.append(f"[{message.created_at:%Y-%m-%d %H:%M} UTC] {who}:\n{message.text}\n")
    return "\n".join(lines)


@transaction.atomic
def chat_transcript_send(*, conversation_id: int) -> bool:
    """Mail the transcript of a closed conversation once.
    Side effects: an email; `transcript_sent_at`; a `chat_transcript_sent` case event."""
    conversation = (
        ChatConversation.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None or conversation.transcript_sent_at or not conversation.email:
        return False
    case: Case = conversation.case
    body = (
        f"Here is the transcript of your chat with us (case {case.reference}).\n"
        f"Reply to this email or quote {case.reference} to continue.\n\n"
        + chat_transcript_text(conversation=conversation)
    )
    EmailMessage(
        subject=f"Your chat transcript [{case.reference}]",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[conversation.email],
    ).send()
    conversation.transcript_sent_at = timezone.now()
    conversation.save(update_fields=["transcript_sent_at"])
    event_record(case=case, kind="chat_transcript_sent", data={"to": conversation.email})
    return True


def chat_history(*, conversation: ChatConversation | None, limit: int = 200) -> list[dict]:
    """What the visitor sees on reconnecting: the conversation's messages, no notes."""
    if conversation is None or conversation.case_id is None:
        return []
    messages = (
        Message.objects.filter(
            case_id=conversation.case_id, created_at__gte=conversation.created_at
        )
        .exclude(direction=Message.Direction.NOTE)
        .select_related("author_user")
        .order_by("-created_at", "-id")[:limit]
    )
    return [message_payload(message) for message in reversed(messages)]


def message_payload(message: Message) -> dict:
    if message.direction == Message.Direction.INBOUND:
        author = "you"
    elif message.author_user_id:
        author = message.author_user.get_full_name() or message.author_user.username
    else:
        author = "Support"
    return {
        "id": message.pk,
        "direction": message.direction,
        "text": message.text,
        "author": author,
        "created_at": message.created_at.isoformat(),
        "system": bool(message.metadata.get("system")),
    }


def chat_deliver(message_id: int) -> None:
    """Sender for the chat channel: push an outbound message to the visitor's sockets, in
    whichever server process they are connected to. It counts as sent once pushed."""
    message = Message.objects.select_related("author_user").filter(pk=message_id).first()
    if message is None:
        raise DeliveryError("message vanished", permanent=True)
    conversation = ChatConversation.objects.filter(case_id=message.case_id).order_by("-id").first()
    if conversation is None:
        raise DeliveryError("this case has no chat conversation", permanent=True)
    layer = get_channel_layer()
    if layer is None:
        raise DeliveryError("no channel layer is configured", permanent=True)
    group = visitor_group(widget_id=conversation.widget_id, visitor_id=conversation.visitor_id)
    event = {"type": "chat.message", "message": message_payload(message)}
    try:
        layer_group_send(layer, group, event)
    except Exception as exc:  # noqa: BLE001 - the layer's own errors vary by backend
        raise DeliveryError(f"could not reach the chat layer: {exc}") from exc
