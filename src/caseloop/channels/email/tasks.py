"""Jobs of the email channel: polling IMAP mailboxes every minute."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from .imap import MailboxPollError, mailbox_poll
from .models import Mailbox

logger = logging.getLogger(__name__)


@db_task()
def mailbox_poll_job(mailbox_id: int) -> None:
    """Poll one mailbox; one poll per mailbox at a time, so two workers never race."""
    with lock_task(f"mailbox-poll-{mailbox_id}"):
        try:
            mailbox_poll(mailbox_id=mailbox_id)
        except MailboxPollError as exc:
            logger.warning("mailbox poll failed: %s", exc)


@db_periodic_task(crontab(minute="*"))
def mailboxes_poll() -> None:
    """Every minute: queue a poll of each active mailbox with an IMAP URL."""
    ids = Mailbox.objects.filter(is_active=True).exclude(imap_url="").values_list("pk", flat=True)
    for mailbox_id in ids:
        mailbox_poll_job(mailbox_id)
