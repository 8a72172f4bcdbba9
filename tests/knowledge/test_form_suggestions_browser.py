"""The contact form's article suggestions in real Chromium: typing a subject shows public
articles; "This solved my problem" records a deflection and opens no case."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from caseloop.cases.models import Case
from caseloop.knowledge.models import Audience, Deflection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _form_page(base_url: str) -> tuple[str, str]:
    """A contact form with a subject field and the suggestions partial, and its CSRF secret."""
    request = RequestFactory().get("/contact/", HTTP_HOST=base_url.split("//")[1])
    partial = render_to_string("knowledge/partials/form_suggestions.html", request=request)
    html = (
        "<!doctype html><html><head><meta charset='utf-8'></head><body>"
        "<form><label for='id_subject'>Subject</label>"
        "<input type='text' id='id_subject' name='subject'>"
        f"{partial}<button type='submit'>Send</button></form></body></html>"
    )
    return html, request.META["CSRF_COOKIE"]


def test_typing_a_subject_suggests_articles_and_a_deflection_opens_no_case(
    live_server, publish, monkeypatch
):
    from playwright.sync_api import expect, sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    refund = publish(title="Refund times", body="Refunds reach your card in five days.")
    publish(title="Refund override", body="Internal refund steps.", audience=Audience.INTERNAL)
    html, csrf_secret = _form_page(live_server.url)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            context = browser.new_context()
            context.add_cookies(
                [{"name": "csrftoken", "value": csrf_secret, "url": live_server.url}]
            )
            page = context.new_page()
            page.route(
                f"{live_server.url}/contact/",
                lambda route: route.fulfill(status=200, content_type="text/html", body=html),
            )
            page.goto(f"{live_server.url}/contact/")
            page.fill("#id_subject", "When will my refund arrive")
            items = page.locator(".kb-suggest-list li")
            expect(items).to_have_count(1)
            expect(items.first.locator("a")).to_have_text("Refund times")
            expect(items.first.locator("mark").first).to_be_visible()
            items.first.locator("button.kb-solved").click()
            expect(page.locator(".kb-suggest-thanks")).to_be_visible()
        finally:
            browser.close()
    deflection = Deflection.objects.get()
    assert deflection.article_id == refund.pk
    assert deflection.query == "when will my refund arrive"
    assert Case.objects.count() == 0
