"""Notifications and collision warnings in real Chromium: two colleagues on one case see
each other, one typing a reply warns the other, and a mention in a note lights the other's
notification count at once, without a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_journeys import agent_page

pytestmark = pytest.mark.browser


def test_colleagues_see_each_other_on_a_case_and_a_mention_arrives_live(
    browser, desk_server, shots
):
    case_id = int(desk_server.run("new-case", "Kettle lid cracked on arrival", "normal"))
    case_url = f"{desk_server.base_url}/cases/{case_id}/"
    alex = agent_page(browser, desk_server, "alex")
    morgan = agent_page(browser, desk_server, "morgan")
    shots.watch("alex", alex)
    shots.watch("morgan", morgan)
    for page in (alex, morgan):
        page.goto(case_url)
        expect(page.locator("body[data-live=on]")).to_have_count(1)

    expect(alex.locator("#presence")).to_have_text(re.compile(r"Morgan.* is viewing it"))
    expect(morgan.locator("#presence")).to_have_text(re.compile(r"Alex.* is viewing it"))

    morgan.locator("#reply-text").fill("Hello Sam, I am sorry the lid")
    expect(alex.locator("#presence")).to_have_text(
        re.compile(r"Morgan.* is replying to this case right now")
    )
    expect(alex.locator("#presence.warn")).to_have_count(1)
    shots.take(alex, "1-colleague-replying")

    # Morgan leaves for the inbox; Alex mentions Morgan in a note.
    morgan.goto(f"{desk_server.base_url}/inbox/")
    expect(morgan.locator("body[data-live=on]")).to_have_count(1)
    expect(alex.locator("#presence")).to_be_hidden()
    alex.get_by_label("Internal note").check()
    alex.locator("#reply-text").fill("@morgan could you check the warranty on this one?")
    alex.get_by_role("button", name="Send", exact=True).click()
    expect(morgan.locator("#bell-count .badge")).to_have_text(re.compile(r"^1"))
    shots.take(morgan, "2-mention-arrived")
    morgan.locator("#bell").click()
    item = morgan.locator("#notification-list li.unread", has_text="could you check the warranty")
    expect(item).to_have_count(1)
    item.get_by_role("link").click()
    expect(morgan).to_have_url(case_url)
    expect(morgan.locator("#bell-count .badge")).to_have_count(0)
