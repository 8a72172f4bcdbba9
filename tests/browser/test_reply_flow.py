"""The agent's reply flow in real Chromium: the composer at the top of a long conversation,
a suggested article put into the reply with "Used", a reply the coach holds coming back
under the composer with the draft kept, and "send and mark solved" in one action."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_journeys import TIMEOUT, agent_page

pytestmark = pytest.mark.browser


def test_reply_at_the_top_used_suggestion_held_reply_and_send_and_mark_solved(
    browser, desk_server, shots
):
    case_id = int(desk_server.run("reply-case", "alex"))
    case_url = f"{desk_server.base_url}/cases/{case_id}/"
    page = agent_page(browser, desk_server)
    shots.watch("agent", page)
    # The flow runs under the desk's strict Content-Security-Policy, swaps included.
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(case_url)
    expect(page.locator("body[data-ready=yes]")).to_have_count(1)
    composer, reply = page.locator("#reply"), page.locator("#reply-text")

    # The reply box comes before the conversation and stays in view while it scrolls.
    assert composer.bounding_box()["y"] < page.locator("#timeline").bounding_box()["y"]
    page.locator("#timeline li").last.scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 1000
    expect(reply).to_be_in_viewport()
    shots.take(page, "1-composer-sticky")

    # "Used" on the suggested article puts its answer (and its help-centre link) in the reply.
    suggestion = page.locator(
        "#panel-knowledge-suggestions li", has_text="How do I return a kettle?"
    )
    suggestion.get_by_role("button", name="Used").click()
    expect(reply).to_have_value(re.compile(r"^You can return a kettle within 30 days of delivery"))
    value = reply.input_value()
    assert "1. Open the order in your account.\n2. Print the prepaid label." in value
    assert re.search(r"More in our help centre: http://127\.0\.0\.1:\d+/help/articles/\d+/", value)
    assert "For our team" not in value
    expect(suggestion.get_by_role("button", name=re.compile("^Used"))).to_be_disabled()
    shots.take(page, "2-used-inserted")

    # A reply that blames the customer is held: the page stays, the draft stays, and says so.
    blame = "You should have read the returns page. The label is in your account."
    reply.fill(blame)
    page.get_by_role("button", name="Send and mark solved", exact=True).click()
    held = page.locator("#coach-findings .reply-held")
    expect(held).to_contain_text(
        "Not sent yet: the coach suggests a change before this reply goes to Dana Reyes."
    )
    expect(held.locator('.finding[data-rule="no-blame"]')).to_contain_text("Holds the reply")
    expect(held.get_by_role("button", name="Send anyway and mark solved")).to_be_visible()
    assert page.url == case_url
    expect(reply).to_have_value(blame)
    shots.take(page, "3-held")

    # "Edit" goes back to the draft, at what held it; the revised reply goes, and the case
    # is solved with it.
    held.get_by_role("link", name="Edit").click()
    expect(reply).to_be_focused()
    assert (
        page.evaluate(
            "() => { const t = document.getElementById('reply-text');"
            " return t.value.slice(t.selectionStart, t.selectionEnd); }"
        )
        == "You should have"
    )
    reply.fill(
        "Hi Dana, your prepaid return label is in your account under the order. "
        "Does this solve it for you?"
    )
    expect(held).to_have_count(0, timeout=TIMEOUT)
    page.get_by_role("button", name="Send and mark solved", exact=True).click()
    expect(page.locator(".flash.success")).to_have_text(
        "Reply sent to Dana Reyes by email; the case is marked solved."
    )
    expect(page.locator(".meta .status")).to_have_text("Solved")
    timeline = page.locator("#timeline")
    sent = timeline.locator(".msg.outbound", has_text="prepaid return label")
    expect(sent.locator(".who")).to_contain_text("Alex replied to Dana Reyes by email")
    expect(timeline).to_contain_text("Status: Open → Solved")
    expect(timeline).to_contain_text("Suggested article “How do I return a kettle?” marked used")
    expect(reply).to_have_value("")
    shots.take(page, "4-sent-and-solved")
    assert refused == []
    page.context.close()
