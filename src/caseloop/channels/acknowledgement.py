"""The automatic acknowledgement of a new case, on the channel it arrived on: the customer
learns the reference and when to expect a first response. Texts and response targets are
automation's; sending belongs to intake."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext

from caseloop.accounts.models import DeskIdentity
from caseloop.automation.selectors import (
    ack_template_for,
    case_first_response_due,
    expected_response_text,
    response_policy_load,
)
from caseloop.automation.templating import ack_render
from caseloop.cases.models import Case, CaseEvent, Message
from caseloop.cases.services import event_record, message_add
from caseloop.customers.models import ContactPoint
from caseloop.lib.language import language_override

from .events import ACK_SKIPPED, ACKNOWLEDGED


@transaction.atomic
def case_acknowledge(*, case_id: int) -> Message | None:
    """Send the automatic acknowledgement of a new case on its channel, naming the reference
    and the expected first-response time. Once per case; never to an auto-reply or bounce
    (so no mail loops) and never when the admin switched it off.
    Side effects: an `acknowledged` (or `acknowledgement_skipped`) event; the acknowledgement
    is a system outbound message, delivered after commit by the channel's sender."""
    case = Case.objects.select_for_update().select_related("customer").filter(pk=case_id).first()
    if case is None:
        return None
    if CaseEvent.objects.filter(case=case, kind__in=[ACKNOWLEDGED, ACK_SKIPPED]).exists():
        return None
    first = case.messages.filter(direction=Message.Direction.INBOUND).order_by("id").first()
    if first is not None and first.metadata.get("auto_reply"):
        event_record(case=case, kind=ACK_SKIPPED, data={"reason": "auto-reply or bounce"})
        return None
    template = ack_template_for(channel=case.channel)
    if template is None:
        event_record(case=case, kind=ACK_SKIPPED, data={"reason": "switched off for channel"})
        return None
    policy = response_policy_load()
    due = case_first_response_due(case=case, policy=policy)
    # In the customer's language: the built-in text, the time and the greeting's fallback.
    with language_override(case.customer.language):
        expected = expected_response_text(due=due, policy=policy, case=case)
        values = {
            "reference": case.reference or "",
            "expected_response": expected,
            "customer_name": case.customer.name or gettext("there"),
            "subject": case.subject,
            "desk_name": DeskIdentity.current().name,
            "portal_link": case_portal_link(case=case),
        }
        subject, text = (ack_render(part, values) for part in template)
    message = message_add(
        case=case,
        direction=Message.Direction.OUTBOUND,
        text=text,
        metadata={
            "acknowledgement": True,
            "subject": subject,
            "first_response_due": due.isoformat(),
        },
        system=True,
    )
    event_record(
        case=case,
        kind=ACKNOWLEDGED,
        data={"message": message.pk, "first_response_due": due.isoformat()},
    )
    return message


def case_portal_link(*, case: Case) -> str:
    """Where the customer follows `case` online: its page in the portal, which asks them to
    sign in by a link emailed to their address first. '' when they have no email address
    (the portal signs in by email only) or no portal is installed.

    The link carries no sign-in token: the acknowledgement is kept on the case, where every
    agent reads it, and an emailed sign-in link works once, within minutes."""
    has_email = ContactPoint.objects.filter(
        customer_id=case.customer_id, kind=ContactPoint.Kind.EMAIL
    ).exists()
    if not has_email:
        return ""
    try:
        path = reverse("web:portal_case", kwargs={"case_id": case.pk})
    except NoReverseMatch:
        return ""
    return settings.SITE_URL + path


def case_acknowledge_on_create(case_id: int) -> None:
    """Case-created hook: acknowledge at once, in the request that created the case, so
    the customer hears back within seconds even when no job worker runs."""
    case_acknowledge(case_id=case_id)
