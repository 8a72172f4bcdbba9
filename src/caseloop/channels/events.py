"""Case-event kinds the channels write, and how each reads in the timeline."""

from datetime import datetime

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _, gettext_lazy

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
        return _("Acknowledgement sent")
    return _("Acknowledgement sent: first response promised by %(when)s") % {"when": _when(due)}


def _ack_skipped(event: CaseEvent, names: EventNames) -> str:
    return _("No acknowledgement sent")


def _call(event: CaseEvent, names: EventNames) -> str:
    outgoing = event.data.get("direction") == "outbound"
    seconds = event.data.get("duration_seconds")
    length = f", {max(1, round(seconds / 60))} min" if isinstance(seconds, int) and seconds else ""
    phone = event.data.get("phone") or ""
    if phone:
        text = (
            _("Outgoing call logged with %(phone)s")
            if outgoing
            else _("Call logged with %(phone)s")
        )
        return text % {"phone": phone} + length
    return (_("Outgoing call logged") if outgoing else _("Call logged")) + length


def _chat_identified(event: CaseEvent, names: EventNames) -> str:
    values = {"email": event.data["email"]}
    if event.data.get("verified"):
        return _("Chat visitor identified as %(email)s") % values
    return _("Chat visitor identified as %(email)s (not verified)") % values


def _chat_email_claimed(event: CaseEvent, names: EventNames) -> str:
    return _("Chat visitor gave the email %(email)s (not verified yet)") % {
        "email": event.data["email"]
    }


def _chat_closed(event: CaseEvent, names: EventNames) -> str:
    to = event.data.get("transcript_to")
    return _("Chat closed; transcript to %(to)s") % {"to": to} if to else _("Chat closed")


def _transcript_sent(event: CaseEvent, names: EventNames) -> str:
    return _("Chat transcript sent to %(to)s") % {"to": event.data["to"]}


ACKNOWLEDGED = event_kind("acknowledged", gettext_lazy("Acknowledged"), describe=_acknowledged)
ACK_SKIPPED = event_kind(
    "acknowledgement_skipped", gettext_lazy("Acknowledgement not sent"), describe=_ack_skipped
)
CALL_LOGGED = event_kind("call_logged", gettext_lazy("Call logged"), describe=_call)
CHAT_IDENTIFIED = event_kind(
    "chat_identified", gettext_lazy("Chat visitor identified"), describe=_chat_identified
)
CHAT_EMAIL_CLAIMED = event_kind(
    "chat_email_claimed",
    gettext_lazy("Chat visitor confirmed their email"),
    describe=_chat_email_claimed,
)
CHAT_CLOSED = event_kind("chat_closed", gettext_lazy("Chat closed"), describe=_chat_closed)
CHAT_TRANSCRIPT_SENT = event_kind(
    "chat_transcript_sent", gettext_lazy("Chat transcript sent"), describe=_transcript_sent
)
