"""The chat widget in real Chromium, embedded on a page, against a real server: a visitor
chats, claims the address of an existing customer, and links the chat with the mailed code."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TIMEOUT = 20_000


@pytest.fixture(scope="module")
def browser():
    """The shop page below is made up by the test, so Chromium counts it as a public site
    and would block its socket to the loopback desk (local network access checks). A real
    shop and desk are both public; only this harness needs the check off."""
    from playwright.sync_api import sync_playwright

    from .conftest import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[*CHROMIUM_ARGS, "--disable-features=LocalNetworkAccessChecks"],
        )
        yield chromium
        chromium.close()


def mailed_code(desk_server, address: str) -> str:
    for body in reversed(desk_server.mails()):
        if address in body and "chat code" in body:
            return re.search(r"enter (\d{6})", body).group(1)
    raise AssertionError(f"no chat code mailed to {address}")


def test_a_visitor_links_the_chat_to_their_history_with_the_mailed_code(browser, desk_server):
    base = desk_server.base_url
    desk_server.run("chat-widget", "shop", "lee@example.com")
    context = browser.new_context(viewport={"width": 390, "height": 800})
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    # A shop page on the desk's own origin (always allowed) that embeds the widget.
    page.route(
        base + "/shop/",
        lambda route: route.fulfill(
            content_type="text/html",
            body=f"<!doctype html><title>Shop</title><h1>Shop</h1>"
            f'<script src="{base}/static/chat/widget.js" data-widget="shop" async></script>',
        ),
    )
    page.goto(base + "/shop/")
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_label("Your message").fill("My blender arrived without its jar")
    page.get_by_role("button", name="Send").click()
    status = page.get_by_role("status")
    expect(status).to_have_text(re.compile(r"Case CL-\d{6}"), timeout=TIMEOUT)
    reference = re.search(r"CL-\d{6}", status.text_content()).group(0)

    page.get_by_label(re.compile("Your email")).fill("lee@example.com")
    page.get_by_role("button", name="Save").click()
    expect(status).to_contain_text("We emailed a code to lee@example.com", timeout=TIMEOUT)
    # Not linked yet: the chat's customer has only the chat id.
    assert "lee@example.com" not in desk_server.run("case-customer", reference)

    code_box = page.get_by_label("The code we emailed you")
    code_box.fill("000000" if mailed_code(desk_server, "lee@example.com") != "000000" else "1")
    page.get_by_role("button", name="Confirm").click()
    expect(status).to_have_text("that code is not right", timeout=TIMEOUT)

    code_box.fill(mailed_code(desk_server, "lee@example.com"))
    page.get_by_role("button", name="Confirm").click()
    expect(status).to_contain_text("send the transcript to lee@example.com", timeout=TIMEOUT)
    expect(code_box).to_be_hidden()
    assert "lee@example.com" in desk_server.run("case-customer", reference)
    context.close()
