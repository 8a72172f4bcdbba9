"""The loop as a stepper in real Chromium: the stages numbered as their sections, one
section open at a time, and each loop form swapping only the loop (no page reload)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_journeys import agent_page

pytestmark = pytest.mark.browser


def test_the_loop_steps_through_its_stages_without_reloading_the_page(browser, desk_server, shots):
    case_id = int(desk_server.run("new-case", "The kettle lid cracked", "normal"))
    page = agent_page(browser, desk_server, "alex")
    shots.watch("agent", page)
    page.goto(f"{desk_server.base_url}/cases/{case_id}/")
    expect(page.locator("body[data-ready=yes]")).to_have_count(1)
    loop = page.locator("#panel-loop")
    expect(loop.locator(".loop-next")).to_have_text(re.compile(r"Next: 1\. "))
    expect(loop.locator("details[open]")).to_have_count(1)
    expect(loop.locator("details#loop-problem")).to_have_attribute("open", "")

    # The stepper opens a stage's section and folds the one that was open.
    loop.locator('[data-stage="facts"] a').click()
    expect(loop.locator("details#loop-facts")).to_have_attribute("open", "")
    expect(loop.locator("details[open]")).to_have_count(1)

    # A loop form swaps the loop in place: the page is not reloaded.
    page.evaluate("window.stillHere = true")
    loop.locator('[data-stage="problem"] a').click()
    page.get_by_label("Your paraphrase").fill("The kettle's lid arrived cracked.")
    page.get_by_role("button", name="Save paraphrase").click()
    expect(loop.locator('[data-stage="problem"]')).to_contain_text("Not sent")
    expect(page.locator("#flash .flash")).to_be_visible()
    assert page.evaluate("window.stillHere") is True
    # The step after the saved paraphrase is named with its own stage's number.
    next_text = loop.locator(".loop-next").inner_text()
    number = int(re.search(r"Next: (\d+)\.", next_text).group(1))
    current = loop.locator("li.current")
    expect(current).to_have_attribute("value", str(number))
    shots.take(page, "1-stepper")
