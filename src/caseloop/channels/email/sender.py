"""Email out: agent replies and acknowledgements on email cases, by Django mail (SMTP).

Each reply goes out from the mailbox the case came in on, with a Message-ID we keep on the
message, In-Reply-To/References built from the thread so mail clients thread it, and a
Reply-To carrying the signed reply token so the answer finds its case again.
"""

from __future__ import annotations

import smtplib
from email.utils import formataddr, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from caseloop.accounts.models import DeskIdentity
from caseloop.cases.models import CaseEvent, Message
from caseloop.channels.base import DeliveryError
from caseloop.customers.models import ContactPoint

from .models import EmailThread
from .parser import raw_to_text
from .tokens import reply_address, subject_tagged

# How many earlier ids References carries; long threads keep the first and the latest.
REFERENCES_MAX = 20


def _recipient(message: Message) -> str:
    points = ContactPoint.objects.filter(
        customer_id=message.case.customer_id, kind=ContactPoint.Kind.EMAIL
    ).order_by("-is_primary", "id")
    last_from = (
        message.case.messages.filter(direction=Message.Direction.INBOUND, channel="email")
        .order_by("-id")
        .values_list("metadata", flat=True)
        .first()
    )
    sender = ((last_from or {}).get("email") or {}).get("from", "")
    addresses = [p.value for p in points]
    # Answer the address the customer last wrote from, when it is one of theirs.
    if sender and sender in addresses:
        return sender
    if not addresses:
        raise DeliveryError("the customer has no email address", permanent=True)
    return addresses[0]


def _thread_ids(message: Message) -> list[str]:
    ids = list(
        message.case.messages.exclude(pk=message.pk)
        .exclude(external_id="")
        .filter(channel="email", id__lt=message.pk)
        .exclude(direction=Message.Direction.NOTE)
        .order_by("id")
        .values_list("external_id", flat=True)
    )
    ids = [mid for mid in ids if not mid.startswith("sha256:")]
    if len(ids) > REFERENCES_MAX:
        ids = ids[:1] + ids[-(REFERENCES_MAX - 1) :]
    return ids


def _build(message: Message) -> EmailMultiAlternatives:
    case = message.case
    thread = EmailThread.objects.select_related("mailbox").filter(case=case).first()
    mailbox = thread.mailbox if thread else None
    default_name, default_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    from_address = mailbox.address if mailbox else (default_address or settings.DEFAULT_FROM_EMAIL)
    # Customers see who wrote: the mailbox's name, else the desk's.
    from_name = (mailbox.display_name if mailbox else default_name) or DeskIdentity.current().name
    domain = from_address.rpartition("@")[2] or "caseloop.localhost"
    message_id = message.external_id or make_msgid(domain=domain).strip("<>")
    thread_ids = _thread_ids(message)
    headers = {
        "Message-ID": f"<{message_id}>",
        "Reply-To": reply_address(mailbox_address=from_address, reference=case.reference or ""),
        "X-Caseloop-Case": case.reference or "",
    }
    if thread_ids:
        headers["In-Reply-To"] = f"<{thread_ids[-1]}>"
        headers["References"] = " ".join(f"<{mid}>" for mid in thread_ids)
    if message.metadata.get("system"):
        # Acknowledgements and reminders are automatic: other robots must not answer them.
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    subject = message.metadata.get("subject") or (
        case.subject if case.subject.lower().startswith("re:") else f"Re: {case.subject}"
    )
    mail = EmailMultiAlternatives(
        subject=subject_tagged(subject, case.reference or ""),
        body=message.text or "",
        from_email=formataddr((from_name, from_address)) if from_name else from_address,
        to=[_recipient(message)],
        cc=[str(address) for address in message.metadata.get("cc") or []],
        headers=headers,
    )
    if message.html:
        mail.attach_alternative(message.html, "text/html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            mail.attach(attachment.filename, handle.read(), attachment.content_type)
    return mail


def _permanent(code: int) -> bool:
    return 500 <= code < 600


def email_send(message_id: int) -> dict[str, str]:
    """Deliver one outbound email message. Raises DeliveryError: refused recipients and other
    5xx answers are permanent; connection failures and 4xx answers are retried.
    Returns what the message keeps once it is sent: its Message-ID and the sent source."""
    message = Message.objects.select_related("case").get(pk=message_id)
    mail = _build(message)
    message_id_value = mail.extra_headers["Message-ID"].strip("<>")
    try:
        connection = get_connection(fail_silently=False)
        connection.send_messages([mail])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(
            f"{rcpt}: {code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
            for rcpt, (code, text) in exc.recipients.items()
        )
        raise DeliveryError(
            f"recipient refused: {detail}", permanent=all(_permanent(c) for c in codes)
        ) from exc
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        raise DeliveryError(
            f"SMTP server answered {exc.smtp_code} {text}", permanent=_permanent(exc.smtp_code)
        ) from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"could not reach the mail server: {exc}") from exc
    raw_text, _ = raw_to_text(mail.message().as_bytes())
    return {"external_id": message_id_value, "raw": raw_text}


def message_forward_send(payload: dict) -> None:
    """Outbox effect: email a forwarded message (its text and attachments, the agent's note
    above it) to the address the `message_forwarded` event names. Replies go to the agent.
    At least once: a crash between sending and marking it done sends again."""
    event = CaseEvent.objects.select_related("case", "actor").filter(pk=payload["event"]).first()
    if event is None:
        return
    data = event.data if isinstance(event.data, dict) else {}
    message = (
        Message.objects.select_related("author_customer", "author_user")
        .filter(pk=int(data.get("message") or 0), case=event.case)
        .first()
    )
    if message is None:
        return
    case, agent = event.case, event.actor
    author = (
        message.author_customer.display_name
        if message.author_customer
        else (message.author_user.display_name if message.author_user else "")
    )
    who = agent.display_name if agent else DeskIdentity.current().name
    lines = [data["note"], ""] if data.get("note") else []
    lines += [
        f"{who} forwarded this message from case {case.reference}.",
        "",
        "---------- Forwarded message ----------",
        f"From: {author}",
        f"Date: {message.created_at:%Y-%m-%d %H:%M} UTC",
        f"Subject: {case.subject}",
        "",
        message.text or "",
    ]
    _, default_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    mail = EmailMultiAlternatives(
        subject=subject_tagged(f"Fwd: {case.subject}", case.reference or ""),
        body="\n".join(lines) + "\n",
        from_email=formataddr((who, default_address or settings.DEFAULT_FROM_EMAIL)),
        to=[data["to"]],
        reply_to=[agent.email] if agent and agent.email else None,
    )
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            mail.attach(attachment.filename, handle.read(), attachment.content_type)
    get_connection(fail_silently=False).send_messages([mail])
