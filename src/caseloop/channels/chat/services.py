"""Live chat: visitors' messages go through the one intake service; agents' replies are
pushed to the visitor's socket group over the channel layer (Redis across processes); the
transcript is mailed when a visitor who left an address closes the chat."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext

from caseloop.cases.errors import CaseError
from caseloop.cases.models import Channel, Message
from caseloop.cases.services import event_record
from caseloop.channels.base import DeliveryError, InboundMessage
from caseloop.channels.events import CHAT_CLOSED, CHAT_EMAIL_CLAIMED, CHAT_IDENTIFIED
from caseloop.channels.intake import IntakeResult, inbound_receive
from caseloop.customers.errors import InvalidContactPoint
from caseloop.customers.models import ContactPoint, Customer
from caseloop.customers.services import (
    Identity,
    contact_normalize,
    customer_find_or_create,
    customer_merge,
)
from caseloop.lib.errors import ErrorKind
from caseloop.lib.realtime import layer_group_send

from . import tasks
from .models import ChatConversation, ChatEmailClaim, ChatWidget

MAX_TEXT = 5000
# Claims of an address that already belongs to a customer are proven by a mailed code.
CODE_DIGITS = 6
CLAIM_LIFETIME = timedelta(minutes=15)
CLAIM_ATTEMPTS = 5
CLAIMS_PER_HOUR = 3  # per visitor and per address, so the desk cannot be used to spam
_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class ChatError(CaseError):
    code = "chat_refused"
    kind = ErrorKind.INVALID

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
            case_reference=(case.reference or "") if case is not None else "",
            external_id=f"{visitor_id}:{client_id[:64]}" if client_id else "",
            metadata={"widget": widget.key, "conversation": conversation.pk},
        )
    )
    if conversation.case_id != result.case.pk:
        conversation.case = result.case
        conversation.save(update_fields=["case"])
    return ChatReceived(conversation=conversation, result=result)


def _contact_owner(kind: str, value: str) -> Customer | None:
    """The customer (after any merges) who holds this contact point."""
    point = ContactPoint.objects.select_related("customer").filter(kind=kind, value=value).first()
    if point is None:
        return None
    customer = point.customer
    while customer.merged_into_id:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def _chat_customer(visitor_id: str) -> Customer | None:
    return _contact_owner(ContactPoint.Kind.CHAT, visitor_id)


def _email_owner(email: str) -> Customer | None:
    return _contact_owner(ContactPoint.Kind.EMAIL, email)


@dataclass(frozen=True)
class Identification:
    email: str
    customer: Customer | None  # None while a mailed code waits to be entered
    code_sent: bool = False


def chat_identify(
    *, widget: ChatWidget, visitor_id: str, email: str, name: str = ""
) -> Identification:
    """The visitor gives an email address. A new address joins the chat's customer at once.
    An address that already belongs to another customer is only a claim: a code is mailed
    to it, and the chat joins that customer's history when the visitor enters the code
    (`chat_verify`), so nobody can read themselves into someone else's profile.
    Side effects: contact point events, or a ChatEmailClaim and a mailed code; a
    `chat_identified` or `chat_email_claimed` case event."""
    try:
        email = contact_normalize(kind=ContactPoint.Kind.EMAIL, value=email)
    except InvalidContactPoint as exc:
        raise ChatError("that does not look like an email address", field="email") from exc
    name = (name or "").strip()[:200]
    with transaction.atomic():
        chat_customer = _chat_customer(visitor_id)
        owner = _email_owner(email)
        if owner is None or (chat_customer is not None and owner.pk == chat_customer.pk):
            customer = _identity_link(
                widget=widget, visitor_id=visitor_id, email=email, name=name, verified=False
            )
            return Identification(email=email, customer=customer)
        _email_claim_start(widget=widget, visitor_id=visitor_id, email=email, name=name)
    return Identification(email=email, customer=None, code_sent=True)


def chat_verify(*, widget: ChatWidget, visitor_id: str, code: str) -> Identification:
    """The visitor enters the code mailed for their claim: the chat joins that customer.
    A wrong code counts against the claim; after CLAIM_ATTEMPTS it is dead.
    Side effects: the claim's attempts or verification; then those of `chat_identify`."""
    claim = (
        ChatEmailClaim.objects.filter(widget=widget, visitor_id=visitor_id, verified_at=None)
        .order_by("-id")
        .first()
    )
    if claim is None or claim.expires_at <= timezone.now():
        raise ChatError("no code is waiting: give your email address again", field="code")
    if claim.attempts >= CLAIM_ATTEMPTS:
        raise ChatError("too many wrong codes: give your email address again", field="code")
    if not constant_time_compare(_claim_hash(claim, str(code or "").strip()), claim.code_hash):
        # Counted outside any transaction, so the refusal below cannot undo it.
        ChatEmailClaim.objects.filter(pk=claim.pk).update(attempts=F("attempts") + 1)
        raise ChatError("that code is not right", field="code")
    with transaction.atomic():
        updated = ChatEmailClaim.objects.filter(pk=claim.pk, verified_at=None).update(
            verified_at=timezone.now()
        )
        if not updated:
            raise ChatError("that code was already used", field="code")
        customer = _identity_link(
            widget=widget,
            visitor_id=visitor_id,
            email=claim.email,
            name=claim.name,
            verified=True,
        )
    return Identification(email=claim.email, customer=customer)


def _claim_hash(claim: ChatEmailClaim, code: str) -> str:
    return salted_hmac(
        "caseloop.chat.email-claim", f"{claim.visitor_id}:{claim.email}:{code}"
    ).hexdigest()


def _email_claim_start(*, widget: ChatWidget, visitor_id: str, email: str, name: str) -> None:
    hour_ago = timezone.now() - timedelta(hours=1)
    recent = ChatEmailClaim.objects.filter(created_at__gte=hour_ago)
    if (
        recent.filter(widget=widget, visitor_id=visitor_id).count() >= CLAIMS_PER_HOUR
        or recent.filter(email=email).count() >= CLAIMS_PER_HOUR
    ):
        raise ChatError("too many codes were asked for: try again in an hour", field="email")
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    claim = ChatEmailClaim(
        widget=widget,
        visitor_id=visitor_id,
        email=email,
        name=name,
        expires_at=timezone.now() + CLAIM_LIFETIME,
    )
    claim.code_hash = _claim_hash(claim, code)
    claim.save()
    conversation = conversation_current(widget=widget, visitor_id=visitor_id)
    if conversation is not None and conversation.case is not None:
        event_record(
            case=conversation.case,
            kind=CHAT_EMAIL_CLAIMED,
            data={"email": email, "verified": False},
        )
    minutes = int(CLAIM_LIFETIME.total_seconds() // 60)
    message = EmailMessage(
        subject=gettext("Your chat code: %(code)s") % {"code": code},
        body=gettext(
            "Someone chatting with us gave this address. If it was you, enter %(code)s in "
            "the chat to link it to your earlier requests. The code works for %(minutes)s "
            "minutes.\n\nIf it was not you, ignore this email: nothing is linked without "
            "the code."
        )
        % {"code": code, "minutes": minutes},
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email],
    )
    transaction.on_commit(message.send)


def _identity_link(
    *, widget: ChatWidget, visitor_id: str, email: str, name: str, verified: bool
) -> Customer:
    """Put the chat identity and the address on one customer (merging the chat's own
    profile into the address's owner) and give the conversation its address."""
    chat_customer = _chat_customer(visitor_id)
    owner = _email_owner(email)
    if chat_customer is not None and owner is not None:
        customer = (
            owner
            if owner.pk == chat_customer.pk
            else customer_merge(source=chat_customer, target=owner)
        )
        if name and not customer.name:
            customer.name = name
            customer.save(update_fields=["name"])
    else:
        customer = customer_find_or_create(
            identity=Identity(chat=visitor_id, email=email, name=name)
        )
    conversation = conversation_current(widget=widget, visitor_id=visitor_id)
    if conversation is not None:
        conversation.email = email
        conversation.save(update_fields=["email"])
        if conversation.case is not None:
            event_record(
                case=conversation.case,
                kind=CHAT_IDENTIFIED,
                data={"email": email, "customer": customer.pk, "verified": verified},
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
    if conversation.case is not None:
        event_record(
            case=conversation.case,
            kind=CHAT_CLOSED,
            data={"conversation": conversation.pk, "transcript_to": conversation.email},
        )
    if conversation.email and conversation.case_id:
        conversation_id = conversation.pk
        transaction.on_commit(lambda: tasks.chat_transcript_send(conversation_id))
    return conversation


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
    elif message.author_user is not None:
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
