"""Case-event kinds the channels write."""

from caseloop.cases.events import event_kind

ACKNOWLEDGED = event_kind("acknowledged", "Acknowledged")
ACK_SKIPPED = event_kind("acknowledgement_skipped", "Acknowledgement not sent")
CALL_LOGGED = event_kind("call_logged", "Call logged")
CHAT_IDENTIFIED = event_kind("chat_identified", "Chat visitor identified")
CHAT_EMAIL_CLAIMED = event_kind("chat_email_claimed", "Chat visitor confirmed their email")
CHAT_CLOSED = event_kind("chat_closed", "Chat closed")
CHAT_TRANSCRIPT_SENT = event_kind("chat_transcript_sent", "Chat transcript sent")
