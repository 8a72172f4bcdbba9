"""The Content-Security-Policy in real Chromium: the desk's pages, the API docs and the
embeddable form load and work without the browser refusing anything."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TIMEOUT = 20_000


def watched_page(browser, violations: list[str]):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return page


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("desk-pass")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/inbox/"))


def test_the_desks_pages_and_the_api_docs_run_under_the_policy(browser, desk_server):
    base = desk_server.base_url
    case_id = desk_server.run("new-case", "Printer jammed under the policy", "normal").strip()
    desk_server.run("chat-widget", "csp-shop", "csp@example.com")
    violations: list[str] = []
    page = watched_page(browser, violations)

    for path in ("/portal/sign-in/", "/help/", "/channels/form/", "/channels/form/default/embed/"):
        page.goto(base + path)
        expect(page.locator("body")).to_be_visible()

    sign_in(page, base, "alex")
    expect(page.locator("body")).to_have_attribute("data-live", "on", timeout=TIMEOUT)
    page.goto(f"{base}/cases/{case_id}/")
    expect(page.get_by_text("Printer jammed under the policy").first).to_be_visible()
    # htmx works (its indicator styles come from desk.css, not an inline <style>).
    page.goto(base + "/inbox/?queue=all")
    expect(page.get_by_text("Printer jammed under the policy").first).to_be_visible()

    page.goto(base + "/api/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Caseloop API").first).to_be_visible()

    page.context.close()
    manager = watched_page(browser, violations)
    sign_in(manager, base, "morgan")
    manager.goto(base + "/channels/chat/preview/csp-shop/")
    expect(manager.get_by_role("button", name="Chat with us")).to_be_visible()
    manager.get_by_role("button", name="Chat with us").click()
    manager.get_by_label("Your message").fill("Is the policy in the way?")
    manager.get_by_role("button", name="Send").click()
    expect(manager.get_by_role("status")).to_have_text(re.compile(r"Case CL-\d{6}"))
    manager.context.close()

    assert violations == []
