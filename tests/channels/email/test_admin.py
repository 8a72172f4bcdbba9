"""Mailboxes and the quarantine in the Django admin."""

import pytest

from caseloop.channels.email.models import Mailbox
from caseloop.channels.email.services import email_ingest, mailbox_add
from caseloop.channels.models import QuarantinedMessage
from tests.builders import make_user

pytestmark = pytest.mark.django_db

SECRET = "Sup3rS3cretImap"


@pytest.fixture
def admin_client(client):
    user = make_user(role="admin")
    client.force_login(user)
    return client


def test_the_imap_password_never_reaches_the_admin_pages(admin_client):
    mailbox = mailbox_add(
        address="support@desk.test", imap_url=f"imaps://desk:{SECRET}@imap.desk.test/INBOX"
    )
    listing = admin_client.get("/admin/email_channel/mailbox/")
    assert listing.status_code == 200 and b"desk:***@imap.desk.test" in listing.content
    change = admin_client.get(f"/admin/email_channel/mailbox/{mailbox.pk}/change/")
    assert change.status_code == 200
    assert SECRET.encode() not in listing.content and SECRET.encode() not in change.content


def test_saving_a_mailbox_with_a_blank_url_keeps_the_stored_one(admin_client):
    mailbox = mailbox_add(
        address="support@desk.test", imap_url=f"imaps://desk:{SECRET}@imap.desk.test/INBOX"
    )
    response = admin_client.post(
        f"/admin/email_channel/mailbox/{mailbox.pk}/change/",
        {
            "address": "support@desk.test",
            "display_name": "Support team",
            "is_active": "on",
            "imap_url": "",
            "imap_folder": "INBOX",
            "after_processing": "flag",
            "processed_folder": "Done",
        },
    )
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.display_name == "Support team" and SECRET in mailbox.imap_url


def test_admins_read_and_discard_quarantined_mail_in_the_admin(admin_client):
    mailbox_add(address="support@desk.test")
    raw = b"To: support@desk.test\r\nSubject: anonymous\r\n\r\nhello\r\n"
    item = email_ingest(raw=raw, source="test").quarantined
    page = admin_client.get(f"/admin/intake/quarantinedmessage/{item.pk}/change/")
    assert page.status_code == 200 and b"no usable sender" in page.content
    admin_client.post(
        "/admin/intake/quarantinedmessage/",
        {"action": "discard", "_selected_action": [item.pk]},
    )
    item.refresh_from_db()
    assert item.state == QuarantinedMessage.State.DISCARDED
    assert Mailbox.objects.count() == 1
