"""IMAP/IMAPS polling of configured mailboxes with imap-tools.

Each message is processed, committed, and only then flagged (\\Seen plus our keyword) or
moved. A crash between commit and flag leaves the message unflagged: the next poll fetches
it again and the Message-ID receipt turns it into a no-op — no duplicate and no loss.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from imap_tools import BaseMailBox, MailBox, MailBoxUnencrypted
from imap_tools.errors import MailboxLoginError

from .models import Mailbox
from .services import MailboxInvalid, email_ingest, imap_url_parse

logger = logging.getLogger(__name__)

PROCESSED_KEYWORD = "$CaseloopProcessed"
# Messages fetched per poll; the rest wait for the next minute.
BATCH_MAX = 200


@dataclass(frozen=True)
class PollResult:
    fetched: int = 0
    cases: int = 0
    duplicates: int = 0
    quarantined: int = 0


class MailboxPollError(Exception):
    """Polling failed; the message (never the password) says why."""


def _connect(mailbox: Mailbox, *, timeout: float = 30):
    settings = imap_url_parse(mailbox.imap_url)
    client: BaseMailBox
    if settings["ssl"]:
        client = MailBox(
            settings["host"],
            settings["port"],
            timeout=timeout,
            ssl_context=ssl.create_default_context(),
        )
    else:
        client = MailBoxUnencrypted(settings["host"], settings["port"], timeout=timeout)
    client.login(settings["user"], settings["password"], initial_folder=None)
    return client, settings["folder"] or mailbox.imap_folder or "INBOX"


_BODY_RE = re.compile(rb"BODY\[\]")


def _fetch_raw(client, uid: str) -> bytes | None:
    status, data = client.client.uid("fetch", uid, "(BODY.PEEK[])")
    if status != "OK":
        raise MailboxPollError(f"FETCH {uid} failed: {status}")
    for item in data or []:
        if isinstance(item, tuple) and len(item) >= 2 and _BODY_RE.search(item[0]):
            return bytes(item[1])
    return None


def processed_mark(client, mailbox: Mailbox, uid: str) -> None:
    """Flag (or move) one processed message; called only after its intake committed."""
    if mailbox.after_processing == Mailbox.AfterProcessing.MOVE and mailbox.processed_folder:
        client.flag(uid, (PROCESSED_KEYWORD, "\\Seen"), True)
        client.move(uid, mailbox.processed_folder)
    else:
        client.flag(uid, (PROCESSED_KEYWORD, "\\Seen"), True)


def _ensure_folder(client, folder: str) -> None:
    if not client.folder.exists(folder):
        client.folder.create(folder)


def mailbox_poll(*, mailbox_id: int, batch_max: int = BATCH_MAX) -> PollResult:
    """Fetch the unprocessed messages of one mailbox through the email pipeline.
    Side effects: cases/messages or quarantine records; flags or moves on the server; the
    mailbox's poll state (time, count, last error without secrets)."""
    mailbox = Mailbox.objects.get(pk=mailbox_id)
    if not mailbox.imap_url:
        raise MailboxPollError(f"{mailbox.address} has no IMAP URL")
    started = timezone.now()
    counts = {"fetched": 0, "cases": 0, "duplicates": 0, "quarantined": 0}
    try:
        client, folder = _connect(mailbox)
    except (MailboxInvalid, MailboxLoginError, imaplib.IMAP4.error, OSError) as exc:
        _poll_state(mailbox, started, counts, f"cannot connect: {_safe(exc, mailbox)}")
        raise MailboxPollError(f"{mailbox.address}: cannot connect: {_safe(exc, mailbox)}") from exc
    try:
        with client:
            client.folder.set(folder)
            if mailbox.after_processing == Mailbox.AfterProcessing.MOVE:
                _ensure_folder(client, mailbox.processed_folder)
            uids = client.uids(f"UNKEYWORD {PROCESSED_KEYWORD}")[:batch_max]
            for uid in uids:
                raw = _fetch_raw(client, uid)
                if raw is None:
                    continue
                counts["fetched"] += 1
                outcome = email_ingest(raw=raw, source=f"imap:{mailbox.address}", mailbox=mailbox)
                if outcome.quarantined is not None:
                    counts["quarantined"] += 1
                elif outcome.result is not None and outcome.result.duplicate:
                    counts["duplicates"] += 1
                else:
                    counts["cases"] += 1
                processed_mark(client, mailbox, uid)
    except Exception as exc:
        _poll_state(mailbox, started, counts, _safe(exc, mailbox))
        raise
    _poll_state(mailbox, started, counts, "")
    return PollResult(**counts)


def _safe(exc: BaseException, mailbox: Mailbox) -> str:
    text = f"{exc.__class__.__name__}: {exc}"
    try:
        password = imap_url_parse(mailbox.imap_url)["password"]
    except MailboxInvalid:
        password = ""
    return text.replace(password, "***") if password else text


@transaction.atomic
def _poll_state(mailbox: Mailbox, started, counts: dict, error: str) -> None:
    fields = {"last_polled_at": started, "last_poll_count": counts["fetched"]}
    fields["last_poll_error"] = error[:2000]
    if not error:
        fields["last_poll_ok_at"] = started
    Mailbox.objects.filter(pk=mailbox.pk).update(**fields)
