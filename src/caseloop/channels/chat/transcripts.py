"""The transcript of a chat: its text, and the one mail of it to the visitor after the
chat is closed (run by the `chat_transcript_send` job)."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from caseloop.cases.models import Case, Message
from caseloop.cases.services import event_record
from caseloop.channels.events import CHAT_TRANSCRIPT_SENT
from caseloop.lib.language import language_override

from .models import ChatConversation


def chat_transcript_text(*, conversation: ChatConversation) -> str:
    lines = []
    messages = (
        Message.objects.filter(
            # A conversation without a case has no messages (case_id IS NULL matches none).
            case_id=conversation.case_id,  # type: ignore[misc]
            created_at__gte=conversation.created_at,
        )
        .exclude(direction=Message.Direction.NOTE)
        .select_related("author_user")
        .order_by("created_at", "id")
    )
    for message in messages:
        if message.direction == Message.Direction.INBOUND:
            who = gettext("You")
        elif message.author_user is not None:
            who = message.author_user.get_full_name() or message.author_user.username
        else:
            who = gettext("Support")
        lines.append(f"[{message.created_at:%Y-%m-%d %H:%M} UTC] {who}:\n{message.text}\n")
    return "\n".join(lines)


@transaction.atomic
def chat_transcript_send(*, conversation_id: int) -> bool:
    """Mail the transcript of a closed conversation once.
    Side effects: an email; `transcript_sent_at`; a `chat_transcript_sent` case event."""
    conversation = (
        ChatConversation.objects.select_for_update(of=("self",))
        .select_related("case", "case__customer")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None or conversation.transcript_sent_at or not conversation.email:
        return False
    case = cast(Case, conversation.case)
    with language_override(case.customer.language):
        body = gettext(
            "Here is the transcript of your chat with us (case %(ref)s).\n"
            "Reply to this email or quote %(ref)s to continue.\n\n"
        ) % {"ref": case.reference} + chat_transcript_text(conversation=conversation)
        subject = gettext("Your chat transcript [%(ref)s]") % {"ref": case.reference}
    EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[conversation.email],
    ).send()
    conversation.transcript_sent_at = timezone.now()
    conversation.save(update_fields=["transcript_sent_at"])
    event_record(case=case, kind=CHAT_TRANSCRIPT_SENT, data={"to": conversation.email})
    return True
