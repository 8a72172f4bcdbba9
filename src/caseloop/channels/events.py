"""Case-event kinds the channels write, and how each reads in the timeline."""

from datetime import datetime

from django.utils import timezone
from django.utils.dateformat import format as date_format

from caseloop.cases.events import EventNames, event_kind
from caseloop.cases.models import CaseEvent


def _when(iso: str) -> str:
    moment = datetime.fromisoformat(iso)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return date_format(moment, "D j M, H:i")


def _acknowledged(event: CaseEvent, names: EventNames) -> str:
    due = event.data.get("first_response_due")
    if not due:
        return "Acknowledgement sent"
    return f"Acknowledgement sent: first response promised by {_when(due)}"


def _ack_skipped(event: CaseEvent, names: EventNames) -> str:
    return "No acknowledgement sent"


def _call(event: CaseEvent, names: EventNames) -> str:
    direction = "Outgoing call" if event.data.get("direction") == "outbound" else "Call"
    seconds = event.data.get("duration_seconds")
    length = f", {max(1, round(seconds / 60))} min" if isinstance(seconds, int) and seconds else ""
    phone = event.data.get("phone") or ""
    return f"{direction} logged{' with ' + phone if phone else ''}{length}"


def _chat_identified(event: CaseEvent, names: EventNames) -> str:
    verified = "" if event.data.get("verified") else " (not verified)"
    return f"Chat visitor identified as {event.data['email']}{verified}"


def _chat_email_claimed(event: CaseEvent, names: EventNames) -> str:
    return f"Chat visitor gave the email {event.data['email']} (not verified yet)"


def _chat_closed(event: CaseEvent, names: EventNames) -> str:
    to = event.data.get("transcript_to")
    return f"Chat closed; transcript to {to}" if to else "Chat closed"


def _transcript_sent(event: CaseEvent, names: EventNames) -> str:
    return f"Chat transcript sent to {event.data['to']}"


ACKNOWLEDGED = event_kind("acknowledged", "Acknowledged", describe=_acknowledged)
ACK_SKIPPED = event_kind(
    "acknowledgement_skipped", "Acknowledgement not sent", describe=_ack_skipped
)
CALL_LOGGED = event_kind("call_logged", "Call logged", describe=_call)
CHAT_IDENTIFIED = event_kind(
    "chat_identified", "Chat visitor identified", describe=_chat_identified
)
CHAT_EMAIL_CLAIMED = event_kind(
    "chat_email_claimed", "Chat visitor confirmed their email", describe=_chat_email_claimed
)
CHAT_CLOSED = event_kind("chat_closed", "Chat closed", describe=_chat_closed)
CHAT_TRANSCRIPT_SENT = event_kind(
    "chat_transcript_sent", "Chat transcript sent", describe=_transcript_sent
)
