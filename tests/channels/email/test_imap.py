"""IMAP polling against a real Dovecot server on loopback."""

import itertools
import time

import pytest
from imap_tools import MailBoxUnencrypted

from caseloop.cases.models import Case, Message
from caseloop.channels.email import imap
from caseloop.channels.email.imap import PROCESSED_KEYWORD, MailboxPollError, mailbox_poll
from caseloop.channels.email.services import mailbox_add
from caseloop.channels.models import QuarantinedMessage

from .mail import make_email

pytestmark = pytest.mark.django_db

_folders = itertools.count(1)


@pytest.fixture
def imap_box(dovecot):
    """A fresh folder on the shared Dovecot server, so tests never see each other's mail."""
    folder = f"T{next(_folders)}x{time.monotonic_ns()}"
    with MailBoxUnencrypted(dovecot.host, dovecot.port).login(
        dovecot.user, dovecot.password, initial_folder=None
    ) as client:
        client.folder.create(folder)
    return dovecot, folder


def append(dovecot, folder, *raws):
    with MailBoxUnencrypted(dovecot.host, dovecot.port).login(
        dovecot.user, dovecot.password, initial_folder=folder
    ) as client:
        for raw in raws:
            client.append(raw, folder)


def flags(dovecot, folder) -> list[set]:
    with MailBoxUnencrypted(dovecot.host, dovecot.port).login(
        dovecot.user, dovecot.password, initial_folder=folder
    ) as client:
        return [set(msg.flags) for msg in client.fetch(mark_seen=False, headers_only=True)]


def count(dovecot, folder) -> int:
    with MailBoxUnencrypted(dovecot.host, dovecot.port).login(
        dovecot.user, dovecot.password, initial_folder=folder
    ) as client:
        return len(client.uids("ALL"))


def test_polling_turns_new_mail_into_cases_and_flags_it(imap_box):
    dovecot, folder = imap_box
    mailbox = mailbox_add(address="support@desk.test", imap_url=dovecot.url(folder))
    append(
        dovecot,
        folder,
        make_email(subject="Lid cracked", message_id="<imap-a@example.com>"),
        make_email(sender="bob@example.com", subject="Late parcel"),
        make_email(
            subject="Re: Lid cracked",
            text="Photo attached.",
            in_reply_to="<imap-a@example.com>",
        ),
    )
    result = mailbox_poll(mailbox_id=mailbox.pk)
    assert (result.fetched, result.cases, result.duplicates, result.quarantined) == (3, 3, 0, 0)
    assert sorted(Case.objects.values_list("subject", flat=True)) == ["Late parcel", "Lid cracked"]
    assert Message.objects.filter(direction="inbound").count() == 3
    assert all({"\\Seen", PROCESSED_KEYWORD} <= f for f in flags(dovecot, folder))
    mailbox.refresh_from_db()
    assert mailbox.last_poll_count == 3 and mailbox.last_poll_error == ""
    assert mailbox.last_poll_ok_at is not None

    again = mailbox_poll(mailbox_id=mailbox.pk)
    assert again.fetched == 0 and Message.objects.filter(direction="inbound").count() == 3


def test_a_crash_mid_batch_resumes_without_duplicates_or_loss(imap_box, monkeypatch):
    dovecot, folder = imap_box
    mailbox = mailbox_add(address="support@desk.test", imap_url=dovecot.url(folder))
    append(dovecot, folder, *[make_email(subject=f"Question {n}") for n in range(5)])
    real_mark = imap.processed_mark
    marked = []

    def crash_on_third(client, box, uid):
        if len(marked) == 2:
            # the third message is stored and committed, then the worker dies
            raise RuntimeError("worker killed")
        marked.append(uid)
        real_mark(client, box, uid)

    monkeypatch.setattr(imap, "processed_mark", crash_on_third)
    with pytest.raises(RuntimeError):
        mailbox_poll(mailbox_id=mailbox.pk)
    assert Case.objects.count() == 3
    mailbox.refresh_from_db()
    assert "worker killed" in mailbox.last_poll_error

    monkeypatch.setattr(imap, "processed_mark", real_mark)
    result = mailbox_poll(mailbox_id=mailbox.pk)
    assert (result.fetched, result.duplicates, result.cases) == (3, 1, 2)
    assert sorted(Case.objects.values_list("subject", flat=True)) == [
        f"Question {n}" for n in range(5)
    ]
    assert all(PROCESSED_KEYWORD in f for f in flags(dovecot, folder))


def test_processed_mail_can_be_moved_to_a_folder(imap_box):
    dovecot, folder = imap_box
    done = f"{folder}Done"
    mailbox = mailbox_add(
        address="support@desk.test",
        imap_url=dovecot.url(folder),
        after_processing="move",
        processed_folder=done,
    )
    append(dovecot, folder, make_email(), make_email(sender="bob@example.com"))
    assert mailbox_poll(mailbox_id=mailbox.pk).cases == 2
    assert count(dovecot, folder) == 0 and count(dovecot, done) == 2


def test_unplaceable_mail_is_quarantined_and_still_marked(imap_box):
    dovecot, folder = imap_box
    mailbox = mailbox_add(address="support@desk.test", imap_url=dovecot.url(folder))
    append(dovecot, folder, b"To: support@desk.test\r\nSubject: anonymous\r\n\r\nhello\r\n")
    result = mailbox_poll(mailbox_id=mailbox.pk)
    assert result.quarantined == 1
    item = QuarantinedMessage.objects.get()
    assert item.source == "imap:support@desk.test" and "sender" in item.reason
    assert PROCESSED_KEYWORD in flags(dovecot, folder)[0]


def test_a_wrong_password_is_reported_without_leaking_it(dovecot):
    url = f"imap://{dovecot.user}:Wr0ngPassw0rd@{dovecot.host}:{dovecot.port}/INBOX"
    mailbox = mailbox_add(address="support@desk.test", imap_url=url)
    with pytest.raises(MailboxPollError) as info:
        mailbox_poll(mailbox_id=mailbox.pk)
    mailbox.refresh_from_db()
    assert mailbox.last_poll_error.startswith("cannot connect")
    assert "Wr0ngPassw0rd" not in mailbox.last_poll_error and "Wr0ngPassw0rd" not in str(info.value)
    assert "Wr0ngPassw0rd" not in mailbox.imap_url_redacted


def test_the_periodic_job_polls_every_active_mailbox(imap_box):
    from caseloop.channels.email.tasks import mailboxes_poll

    dovecot, folder = imap_box
    mailbox_add(address="support@desk.test", imap_url=dovecot.url(folder))
    mailbox_add(address="nomail@desk.test")
    append(dovecot, folder, make_email())
    mailboxes_poll.call_local()
    assert Case.objects.count() == 1


def test_imaps_polls_over_tls_verified_against_the_trusted_certificates(imap_box, monkeypatch):
    dovecot, folder = imap_box
    # The standard OpenSSL variable: how a desk trusts a private mail server's CA.
    monkeypatch.setenv("SSL_CERT_FILE", dovecot.ca_file)
    mailbox = mailbox_add(address="support@desk.test", imap_url=dovecot.url(folder, tls=True))
    append(dovecot, folder, make_email(subject="Sent over TLS"))
    result = mailbox_poll(mailbox_id=mailbox.pk)
    assert (result.fetched, result.cases) == (1, 1)
    assert Case.objects.get().subject == "Sent over TLS"


def test_imaps_refuses_a_server_whose_certificate_it_cannot_verify(imap_box):
    dovecot, folder = imap_box
    mailbox = mailbox_add(address="support@desk.test", imap_url=dovecot.url(folder, tls=True))
    append(dovecot, folder, make_email(subject="Must wait"))
    with pytest.raises(MailboxPollError, match="certificate verify failed"):
        mailbox_poll(mailbox_id=mailbox.pk)
    mailbox.refresh_from_db()
    assert "certificate verify failed" in mailbox.last_poll_error
    # Nothing was read, so nothing is lost: the message waits, unflagged, on the server.
    assert not Case.objects.exists() and count(dovecot, folder) == 1
    assert PROCESSED_KEYWORD not in flags(dovecot, folder)[0]
