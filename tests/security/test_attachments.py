"""Attachments come back as downloads to whoever may see them, and to nobody else: 404 for
anything the caller may not see, never rendered as a page."""

import re

import pytest

from caseloop.cases.models import Attachment
from caseloop.cases.services import AttachmentUpload, message_add
from caseloop.lib.downloads import download_disposition
from tests.builders import bearer, make_agent, make_case, make_customer, make_customer_user

pytestmark = pytest.mark.django_db


def attach(case, *, filename="receipt.pdf", content=b"%PDF-1.4 receipt", content_type="", **kw):
    """A message on `case` carrying one file; returns the stored attachment."""
    kw.setdefault("direction", "inbound")
    message = message_add(
        case=case,
        text=kw.pop("text", "See attached."),
        attachments=[
            AttachmentUpload(filename=filename, content=content, content_type=content_type)
        ],
        **kw,
    )
    return Attachment.objects.get(message=message)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def world():
    agent = make_agent()
    customer = make_customer(email="ana@example.com")
    case = make_case(customer=customer)
    return {
        "agent": agent,
        "case": case,
        "customer_user": make_customer_user(customer=customer),
        "file": attach(case),
        "note_file": attach(
            case,
            direction="note",
            actor=agent,
            filename="internal.txt",
            content=b"refund approved by finance",
        ),
    }


def test_an_agent_downloads_an_attachment_from_the_case_page(client, world):
    case, file = world["case"], world["file"]
    client.force_login(world["agent"])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/cases/{case.pk}/attachments/{file.pk}/"' in page
    response = client.get(f"/cases/{case.pk}/attachments/{file.pk}/")
    assert response.status_code == 200
    assert body_of(response) == b"%PDF-1.4 receipt"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''receipt.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    # Agents see internal notes, and so their files.
    note = client.get(f"/cases/{case.pk}/attachments/{world['note_file'].pk}/")
    assert body_of(note) == b"refund approved by finance"


def test_a_customer_downloads_their_own_file_but_not_a_notes_nor_another_customers(client, world):
    case, file, note_file = world["case"], world["file"], world["note_file"]
    stranger_file = attach(make_case(customer=make_customer()), filename="theirs.pdf")
    client.force_login(world["customer_user"])
    page = client.get(f"/portal/cases/{case.pk}/").content.decode()
    assert f'href="/portal/cases/{case.pk}/attachments/{file.pk}/"' in page
    assert "internal.txt" not in page
    own = client.get(f"/portal/cases/{case.pk}/attachments/{file.pk}/")
    assert own.status_code == 200 and body_of(own) == b"%PDF-1.4 receipt"
    assert client.get(f"/portal/cases/{case.pk}/attachments/{note_file.pk}/").status_code == 404
    other = f"/portal/cases/{stranger_file.case_id}/attachments/{stranger_file.pk}/"
    assert client.get(other).status_code == 404
    # Another case's file under the customer's own case is no way round it.
    assert client.get(f"/portal/cases/{case.pk}/attachments/{stranger_file.pk}/").status_code == 404
    # Nor is the agents' address.
    assert client.get(f"/cases/{case.pk}/attachments/{note_file.pk}/").status_code == 404
    assert client.get(other.removeprefix("/portal")).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    case, file = world["case"], world["file"]
    agents = client.get(f"/cases/{case.pk}/attachments/{file.pk}/")
    assert agents.status_code == 302 and "/login/" in agents["Location"]
    portal = client.get(f"/portal/cases/{case.pk}/attachments/{file.pk}/")
    assert portal.status_code == 302 and "/portal/sign-in/" in portal["Location"]
    api = client.get(f"/api/v1/cases/{case.pk}/attachments/{file.pk}")
    assert api.status_code == 401


def test_the_api_lists_download_urls_and_serves_them_by_token(api, world):
    case, file, note_file = world["case"], world["file"], world["note_file"]
    url = f"/api/v1/cases/{case.pk}/attachments/{file.pk}"
    agent_headers = bearer(world["agent"])
    messages = api.get(f"/api/v1/cases/{case.pk}/messages", headers=agent_headers).json()
    listed = [a for m in messages for a in m["attachments"]]
    assert {"id": file.pk, "url": url}.items() <= listed[0].items()
    assert listed[0]["filename"] == "receipt.pdf" and listed[0]["size"] == 16
    response = api.get(url, headers=agent_headers)
    assert response.status_code == 200 and body_of(response) == b"%PDF-1.4 receipt"
    assert response["Content-Disposition"].startswith("attachment;")

    customer_headers = bearer(world["customer_user"])
    assert api.get(url, headers=customer_headers).status_code == 200
    note_url = f"/api/v1/cases/{case.pk}/attachments/{note_file.pk}"
    refused = api.get(note_url, headers=customer_headers)
    assert refused.status_code == 404 and refused.json()["detail"]
    assert api.get(note_url, headers=agent_headers).status_code == 200
    # By reference too, like every case path.
    by_reference = f"/api/v1/cases/{case.reference}/attachments/{file.pk}"
    assert api.get(by_reference, headers=agent_headers).status_code == 200
    stranger = make_customer_user(customer=make_customer())
    assert api.get(url, headers=bearer(stranger)).status_code == 404
    too_big = f"/api/v1/cases/{case.pk}/attachments/{2**70}"
    assert api.get(too_big, headers=agent_headers).status_code in (404, 422)


def test_the_api_download_works_with_the_browser_session(client, world):
    client.force_login(world["customer_user"])
    url = f"/api/v1/cases/{world['case'].pk}/attachments/{world['file'].pk}"
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("filename", "content_type", "content"),
    [
        ("evil.html", "text/html", b"<script>alert(document.cookie)</script>"),
        ("x.svg", "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("page.xhtml", "application/xhtml+xml", b"<html/>"),
        ("feed.xml", "text/xml", b"<x/>"),
        ("mystery.bin", "application/x-made-up", b"\x00\x01"),
        ("sneaky.txt", "TEXT/HTML; charset=utf-8", b"<b>hi</b>"),
    ],
)
def test_active_content_is_served_as_an_octet_stream_download(
    client, world, filename, content_type, content
):
    file = attach(world["case"], filename=filename, content=content, content_type=content_type)
    client.force_login(world["agent"])
    for url in (
        f"/cases/{file.case_id}/attachments/{file.pk}/",
        f"/api/v1/cases/{file.case_id}/attachments/{file.pk}",
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "sandbox" in response["Content-Security-Policy"]
        assert body_of(response) == content


def test_an_uploaded_html_file_without_a_type_is_still_an_octet_stream(client, world):
    file = attach(world["case"], filename="evil.html", content=b"<h1>hi</h1>")
    assert file.content_type == "text/html"  # guessed from the name when stored
    client.force_login(world["agent"])
    response = client.get(f"/cases/{file.case_id}/attachments/{file.pk}/")
    assert response["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("stored", "fallback", "encoded"),
    [
        ("report.pdf", "report.pdf", "report.pdf"),
        ("Rechnung März.pdf", "Rechnung M_rz.pdf", "Rechnung%20M%C3%A4rz.pdf"),
        ('a"b\\c\r\nd.txt', "c_d.txt", "c_d.txt"),
        ("../../etc/passwd", "passwd", "passwd"),
        ("", "attachment", "attachment"),
        ("...", "attachment", "attachment"),
    ],
)
def test_the_filename_is_safe_in_the_header(stored, fallback, encoded):
    header = download_disposition(stored)
    assert header == f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    assert not re.search(r"[\r\n]", header)
