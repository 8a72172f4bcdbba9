import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from caseloop.automation.selectors import case_first_response_due
from caseloop.cases.models import Attachment, Case, Message
from caseloop.channels.webform.models import WebForm
from caseloop.customers.models import ContactPoint
from tests.builders import fresh_address

pytestmark = pytest.mark.django_db


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)


def fields(**overrides) -> dict:
    data = {
        "name": "Ann Lee",
        "email": "ann@example.com",
        "phone": "",
        "subject": "Kettle leaks",
        "message": "The kettle I bought leaks from the bottom.",
        "order_reference": "ORD-1001",
        "website": "",
    }
    data.update(overrides)
    return data


def submit(browser, path="/channels/form/", *, csrf=True, **overrides):
    page = browser.get(path).content.decode()
    data = fields(**overrides)
    data["form_token"] = hidden(page, "form_token")
    if csrf:
        data["csrfmiddlewaretoken"] = hidden(page, "csrfmiddlewaretoken")
    return browser.post(path, data, follow=True)


def test_the_form_has_labels_for_every_field_and_a_csrf_token(browser):
    page = browser.get("/channels/form/").content.decode()
    for name in ("name", "email", "phone", "subject", "message", "order_reference", "attachments"):
        assert f'<label for="id_{name}">' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert "<script>" not in page  # no inline script


def test_submitting_opens_a_case_and_confirms_reference_and_due_time(
    browser, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(browser)
    assert response.status_code == 200
    case = Case.objects.get()
    page = response.content.decode()
    assert case.reference in page
    due = case_first_response_due(case=case)
    assert f"{due:%H:%M}" in page and f"{due:%B %Y}" in page
    assert case.channel == "web" and case.subject == "Kettle leaks"
    inbound = case.messages.get(direction="inbound")
    assert inbound.metadata["order_reference"] == "ORD-1001" and "ORD-1001" in inbound.text
    ack = case.messages.get(direction="outbound")
    assert case.reference in ack.text and f"{due:%H:%M}" in ack.text
    assert ContactPoint.objects.get(customer=case.customer).value == "ann@example.com"


def test_a_post_without_the_csrf_token_is_refused(browser):
    response = submit(browser, csrf=False)
    assert response.status_code == 403 and not Case.objects.exists()


def test_posting_the_same_rendered_form_twice_opens_one_case(browser):
    page = browser.get("/channels/form/").content.decode()
    data = fields(
        form_token=hidden(page, "form_token"),
        csrfmiddlewaretoken=hidden(page, "csrfmiddlewaretoken"),
    )
    first = browser.post("/channels/form/", data)
    second = browser.post("/channels/form/", data)
    assert first.status_code == second.status_code == 302
    assert Case.objects.count() == 1


def test_phone_alone_is_enough_and_is_stored_in_e164(browser):
    response = submit(browser, email="", phone="+44 20 7946 0000")
    assert response.status_code == 200
    assert ContactPoint.objects.get().value == "+442079460000"


def test_without_email_or_phone_the_form_says_what_is_missing(browser):
    response = submit(browser, email="", phone="")
    assert response.status_code == 400
    assert "Give an email address or a phone number" in response.content.decode()
    assert not Case.objects.exists()


def test_filled_honeypot_looks_like_success_but_opens_nothing(browser):
    response = submit(browser, website="http://spam.example")
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    assert not Case.objects.exists()


def test_too_many_submissions_from_one_address_get_429(browser):
    WebForm.objects.create(key="default", rate_limit=2, rate_window_seconds=600)
    assert submit(browser, subject="one").status_code == 200
    assert submit(browser, subject="two").status_code == 200
    third = submit(browser, subject="three")
    assert third.status_code == 429
    assert "Too many messages from your address" in third.content.decode()
    assert Case.objects.count() == 2
    other = Client(enforce_csrf_checks=True, REMOTE_ADDR=fresh_address())
    assert submit(other, subject="four").status_code == 200


def test_behind_a_trusted_proxy_the_limit_counts_each_forwarded_client(settings):
    settings.TRUSTED_PROXIES = ["10.9.0.0/16"]
    WebForm.objects.create(key="default", rate_limit=1, rate_window_seconds=600)
    proxy = "10.9.0.2"

    def via_proxy(forwarded: str) -> Client:
        return Client(enforce_csrf_checks=True, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded)

    ann, bob = fresh_address(), fresh_address()
    assert submit(via_proxy(ann), subject="one").status_code == 200
    # Bob shares the proxy but not Ann's allowance.
    assert submit(via_proxy(bob), subject="two").status_code == 200
    # Ann again, with a made-up address prepended: only the proxy's own entry counts.
    assert submit(via_proxy(f"{fresh_address()}, {ann}"), subject="three").status_code == 429


def test_a_client_that_is_not_a_trusted_proxy_cannot_choose_its_address(settings):
    settings.TRUSTED_PROXIES = ["10.9.0.0/16"]
    WebForm.objects.create(key="default", rate_limit=1, rate_window_seconds=600)
    direct = fresh_address()

    def spoofing(forwarded: str) -> Client:
        return Client(enforce_csrf_checks=True, REMOTE_ADDR=direct, HTTP_X_FORWARDED_FOR=forwarded)

    assert submit(spoofing(fresh_address()), subject="one").status_code == 200
    assert submit(spoofing(fresh_address()), subject="two").status_code == 429


def test_an_oversized_attachment_is_refused_clearly_and_nothing_is_created(browser, settings):
    settings.MAX_ATTACHMENT_BYTES = 1000
    page = browser.get("/channels/form/").content.decode()
    data = fields(
        form_token=hidden(page, "form_token"),
        csrfmiddlewaretoken=hidden(page, "csrfmiddlewaretoken"),
        attachments=[
            SimpleUploadedFile("ok.txt", b"fine", "text/plain"),
            SimpleUploadedFile("big.bin", b"x" * 5000, "application/octet-stream"),
        ],
    )
    response = browser.post("/channels/form/", data)
    assert response.status_code == 413
    page = response.content.decode()
    assert "big.bin" in page and "files may be at most 1000" in page
    assert not Case.objects.exists() and not Attachment.objects.exists()
    assert not Message.objects.exists()


def test_attachments_within_the_limit_are_stored_on_the_message(browser):
    page = browser.get("/channels/form/").content.decode()
    data = fields(
        form_token=hidden(page, "form_token"),
        csrfmiddlewaretoken=hidden(page, "csrfmiddlewaretoken"),
        attachments=[SimpleUploadedFile("photo.png", b"\x89PNG data", "image/png")],
    )
    assert browser.post("/channels/form/", data).status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.filename == "photo.png" and attachment.message.direction == "inbound"
    assert attachment.file.read() == b"\x89PNG data"


def test_hostile_html_is_escaped_on_the_confirmation_page(browser):
    response = submit(
        browser,
        name="<script>alert('n')</script>",
        subject="<img src=x onerror=alert(1)>",
        message="<script>alert(2)</script>",
    )
    page = response.content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    inbound = Message.objects.get(direction="inbound")
    assert inbound.html == ""  # stored as text; every page escapes it


def test_a_tampered_confirmation_link_is_404(browser):
    assert browser.get("/channels/form/thanks/forged:token/").status_code == 404


def test_knowledge_suggestions_point_renders_nothing_while_the_template_is_missing(
    browser, monkeypatch
):
    from caseloop.channels.webform import views

    monkeypatch.setattr(views, "SUGGESTIONS_TEMPLATE", "knowledge/partials/not_there.html")
    page = browser.get("/channels/form/")
    assert page.status_code == 200 and 'name="message"' in page.content.decode()
    assert "kb-suggest" not in page.content.decode()


def test_the_suggestions_template_is_included_when_it_exists(browser, settings, tmp_path):
    partials = tmp_path / "knowledge" / "partials"
    partials.mkdir(parents=True)
    (partials / "form_suggestions.html").write_text('<div id="kb-suggestions"></div>')
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]},
    ]
    page = browser.get("/channels/form/").content.decode()
    assert '<div id="kb-suggestions"></div>' in page


def test_the_acknowledgement_and_agent_replies_to_a_form_case_go_out_by_email(
    browser, django_capture_on_commit_callbacks, mailoutbox
):
    from caseloop.cases.services import message_add
    from tests.builders import make_agent

    with django_capture_on_commit_callbacks(execute=True):
        response = submit(browser)
    case = Case.objects.get()
    assert "emailed an acknowledgement to ann@example.com" in response.content.decode()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["ann@example.com"]
    assert case.reference in mailoutbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        reply = message_add(
            case=case, direction="outbound", text="A new lid is on its way.", actor=make_agent()
        )
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT
    assert mailoutbox[-1].to == ["ann@example.com"] and "new lid" in mailoutbox[-1].body


def test_a_phone_only_submitter_is_told_nothing_about_email(browser):
    response = submit(browser, email="", phone="+14155550100")
    assert "emailed" not in response.content.decode()


def test_the_form_and_its_confirmation_carry_the_desks_name(browser):
    from caseloop.accounts.services import desk_identity_set

    desk_identity_set(name="Northwind Home")
    page = browser.get("/channels/form/").content.decode()
    assert " · Northwind Home</title>" in page and "Caseloop" not in page
    thanks = submit(browser).content.decode()
    assert "<title>Message received · Northwind Home</title>" in thanks
    assert "Caseloop" not in thanks
