"""`caseloop mailbox add|list|poll`: configure mailboxes and poll them by hand."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from caseloop.channels.email.imap import MailboxPollError, mailbox_poll
from caseloop.channels.email.models import Mailbox
from caseloop.channels.email.services import MailboxInvalid, mailbox_add


class Command(BaseCommand):
    help = "Configure the desk's mailboxes: add, list, poll."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add (or update) a mailbox.")
        add.add_argument("--address", required=True)
        add.add_argument("--name", default="", help="Display name on outgoing mail.")
        add.add_argument("--imap-url", default="", help="imaps://user:pass@host[:port]/INBOX")
        add.add_argument(
            "--after",
            choices=Mailbox.AfterProcessing.values,
            default="flag",
            help="What to do with processed IMAP messages: flag them or move them.",
        )
        add.add_argument("--processed-folder", default="")
        sub.add_parser("list", help="List mailboxes (passwords never shown).")
        poll = sub.add_parser("poll", help="Poll IMAP mailboxes now.")
        poll.add_argument("--address", default="", help="Only this mailbox.")

    def handle(self, *args, action: str, **options):
        if action == "add":
            try:
                mailbox = mailbox_add(
                    address=options["address"],
                    display_name=options["name"],
                    imap_url=options["imap_url"],
                    after_processing=options["after"],
                    processed_folder=options["processed_folder"],
                )
            except MailboxInvalid as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"mailbox {mailbox.address} ready (id {mailbox.pk})")
        elif action == "list":
            for mailbox in Mailbox.objects.all():
                state = "active" if mailbox.is_active else "inactive"
                imap = mailbox.imap_url_redacted or "no IMAP"
                polled = mailbox.last_polled_at.isoformat() if mailbox.last_polled_at else "never"
                error = f" error: {mailbox.last_poll_error}" if mailbox.last_poll_error else ""
                self.stdout.write(
                    f"{mailbox.pk}\t{mailbox.address}\t{state}\t{imap}\tpolled {polled}{error}"
                )
        else:
            mailboxes = Mailbox.objects.filter(is_active=True).exclude(imap_url="")
            if options["address"]:
                mailboxes = mailboxes.filter(address=options["address"].strip().lower())
            failed = False
            for mailbox in mailboxes:
                try:
                    result = mailbox_poll(mailbox_id=mailbox.pk)
                except MailboxPollError as exc:
                    failed = True
                    self.stderr.write(str(exc))
                    continue
                self.stdout.write(
                    f"{mailbox.address}: {result.fetched} fetched, {result.cases} stored, "
                    f"{result.duplicates} duplicates, {result.quarantined} quarantined"
                )
            if failed:
                raise CommandError("some mailboxes could not be polled")
