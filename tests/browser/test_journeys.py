"""The main journeys in real Chromium against a real server: a customer writes through the
web form, the agent sees it arrive live and replies with the coach's help, the customer
follows it in the portal, approves the plan and confirms it is solved."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TIMEOUT = 20_000
expect.set_options(timeout=TIMEOUT)


def agent_page(browser, desk_server, username="alex"):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.goto(desk_server.base_url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("desk-pass")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/inbox/"))
    return page


def magic_link(desk_server, email: str) -> str:
    for body in reversed(desk_server.mails()):
        if email in body:
            match = re.search(r"http://\S+/portal/link/[^/\s]+/", body)
            if match:
                return match.group(0)
    raise AssertionError(f"no sign-in link mailed to {email}")


def test_web_form_to_live_inbox_to_coached_reply_to_portal_plan_and_solved(
    browser, desk_server, shots
):
    base = desk_server.base_url
    agent = agent_page(browser, desk_server)
    shots.watch("agent", agent)
    agent.goto(base + "/inbox/?queue=unassigned")
    expect(agent.locator("body")).to_have_attribute("data-live", "on")

    # The customer writes through the public web form, on a phone-sized screen.
    customer_context = browser.new_context(viewport={"width": 360, "height": 780})
    customer_context.set_default_timeout(TIMEOUT)
    customer = customer_context.new_page()
    shots.watch("customer", customer)
    customer.goto(base + "/channels/form/")
    customer.get_by_label("Your name").fill("Dana Reyes")
    customer.get_by_label("Email", exact=True).fill("dana@example.com")
    customer.get_by_label("Subject").fill("Kettle arrived with a cracked lid")
    customer.get_by_label(re.compile("^Message")).fill(
        "Hello, my new kettle arrived today and the lid is cracked. Order 5521."
    )
    customer.get_by_role("button", name="Send").click()
    expect(customer.get_by_text(re.compile(r"CL-\d+"))).to_be_visible()
    shots.take(customer, "1-form-sent")

    # It appears in the agent's inbox without a reload.
    row = agent.locator("tr.case-row", has_text="Kettle arrived with a cracked lid")
    expect(row).to_be_visible()
    expect(agent.locator("#live")).to_contain_text("New case")
    shots.take(agent, "2-inbox-live")
    reference = row.locator("a").first.inner_text()

    # The agent opens it with the keyboard and replies; the coach flags a bad phrase.
    agent.keyboard.press("j")
    expect(row).to_have_class(re.compile("current"))
    agent.keyboard.press("o")
    expect(agent.locator("h1")).to_contain_text(reference)
    expect(agent.locator("body[data-ready=yes]")).to_have_count(1)
    agent.keyboard.press("r")
    expect(agent.locator("#reply-text")).to_be_focused()
    agent.locator("#reply-text").press_sequentially("Sorry, I can't help you with that.")
    finding = agent.locator('#coach-findings .finding[data-rule="no-cant-help"]')
    expect(finding).to_be_visible()
    expect(agent.locator(".coach-highlights mark")).to_have_text("I can't help you")
    shots.take(agent, "3-coach-flags")

    # Sending as it is stops at the coach; the agent fixes the reply and sends it.
    agent.get_by_role("button", name="Send", exact=True).click()
    expect(agent.get_by_role("button", name="Send anyway")).to_be_visible()
    agent.locator("#reply-text").fill(
        "Hi Dana, thanks for the photo of the lid. A replacement lid leaves our "
        "warehouse today and reaches you by Friday."
    )
    expect(agent.locator("#coach-findings")).to_contain_text("no suggestions")
    agent.get_by_role("button", name="Send", exact=True).click()
    expect(agent.locator(".msg.outbound").last).to_contain_text("replacement lid")
    shots.take(agent, "4-reply-sent")
    expect(agent.locator("body[data-ready=yes]")).to_have_count(1)
    agent.locator("h1").click()
    agent.keyboard.press("e")
    expect(agent.locator("#loop-esc-team").first).to_be_focused()

    # The customer signs in to the portal by emailed link and sees the reply.
    customer.goto(base + "/portal/sign-in/")
    customer.get_by_label("Email address").fill("dana@example.com")
    customer.get_by_role("button", name="Email me a sign-in link").click()
    expect(customer.get_by_role("heading", name="Check your email")).to_be_visible()
    customer.goto(magic_link(desk_server, "dana@example.com"))
    customer.get_by_role("button", name="Sign in").click()
    customer.get_by_role("link", name=re.compile(reference)).click()
    expect(customer.locator(".msg.outbound", has_text="replacement lid")).to_be_visible()
    assert customer.evaluate("document.documentElement.scrollWidth") <= 360
    shots.take(customer, "5-portal-reply")

    # The agent shares a plan; the customer approves it in the portal.
    desk_server.run("share-plan", reference, "alex")
    customer.reload()
    customer.get_by_role("button", name="Approve the plan").click()
    expect(customer.locator("#plan-state")).to_have_text("Approved")
    shots.take(customer, "6-plan-approved")

    # The agent marks it solved; the customer confirms and rates the service.
    agent.reload()
    agent.get_by_role("button", name="Mark solved", exact=True).click()
    expect(agent.locator(".meta .status")).to_have_text("Solved")
    customer.reload()
    customer.get_by_role("button", name="Yes, it's solved").click()
    expect(customer.locator(".meta .status")).to_have_text("Closed")
    customer.get_by_label("5").check()
    customer.get_by_role("button", name="Send rating").click()
    expect(customer.get_by_text("Thank you for rating our service.")).to_be_visible()
    shots.take(customer, "7-solved-and-rated")
    agent.reload()
    expect(agent.locator("#timeline")).to_contain_text("Rated the service 5/5")
    customer_context.close()
    agent.context.close()


def test_keyboard_help_bulk_tagging_and_the_manager_view(browser, desk_server, shots):
    base = desk_server.base_url
    manager = agent_page(browser, desk_server, username="morgan")
    shots.watch("manager", manager)
    manager.goto(base + "/inbox/?queue=all")
    expect(manager.locator("body[data-ready=yes]")).to_have_count(1)
    manager.keyboard.press("?")
    expect(manager.get_by_role("dialog")).to_be_visible()
    shots.take(manager, "1-shortcuts")
    manager.keyboard.press("Escape")
    expect(manager.get_by_role("dialog")).to_be_hidden()
    manager.keyboard.press("j")
    manager.keyboard.press("x")
    expect(manager.locator("tr.case-row.current input[type=checkbox]")).to_be_checked()
    manager.get_by_label("With selected").select_option("tag")
    manager.get_by_label("Tags").fill("kettles")
    manager.get_by_role("button", name="Apply to selected").click()
    expect(manager.locator(".flash.success")).to_contain_text("Tag")
    expect(manager.locator("tr.case-row .tag", has_text="kettles").first).to_be_visible()
    manager.goto(base + "/manager/")
    expect(manager.get_by_role("heading", name="Queue health")).to_be_visible()
    expect(manager.locator("#override-total")).to_be_visible()
    shots.take(manager, "2-manager")
    manager.set_viewport_size({"width": 360, "height": 780})
    manager.goto(base + "/inbox/?queue=all")
    assert manager.evaluate("document.documentElement.scrollWidth") <= 360
    shots.take(manager, "3-inbox-phone")
    manager.context.close()


def test_an_inbox_sorted_by_priority_moves_a_row_when_its_priority_changes(
    browser, desk_server, shots
):
    base = desk_server.base_url
    low = int(desk_server.run("new-case", "Printer jammed again", "low"))
    desk_server.run("new-case", "Question about an invoice", "normal")
    manager = agent_page(browser, desk_server, username="morgan")
    shots.watch("priority-sort", manager)
    manager.goto(base + "/inbox/?queue=all&sort=priority")
    expect(manager.locator("body[data-live=on]")).to_have_count(1)
    first = manager.locator("tr.case-row").first
    expect(first).not_to_have_id(f"case-{low}")

    # A colleague raises it to urgent on the case page's triage panel.
    colleague = agent_page(browser, desk_server)
    colleague.goto(f"{base}/cases/{low}/")
    colleague.get_by_label("Priority", exact=True).select_option("urgent")
    colleague.locator("#triage-decide").get_by_role("button", name="Save").click()
    expect(colleague.locator(".flash.success")).to_contain_text("triage learns")
    colleague.locator("#panel-triage").scroll_into_view_if_needed()
    shots.take(colleague, "0-triage-panel")

    # Without a reload it is now the first row: the newest of the urgent cases.
    expect(first).to_have_id(f"case-{low}")
    expect(first.locator(".prio")).to_have_text("Urgent")
    assert manager.locator(f"#case-{low}").count() == 1
    shots.take(manager, "1-moved-to-top")
    colleague.context.close()
    manager.context.close()


def test_an_inbox_sorted_by_longest_wait_moves_a_row_down_when_it_is_answered(
    browser, desk_server, shots
):
    base = desk_server.base_url
    older = int(desk_server.run("new-case", "Scanner shows an error", "normal"))
    newer = int(desk_server.run("new-case", "Scanner error again", "normal"))
    manager = agent_page(browser, desk_server, username="morgan")
    shots.watch("waiting-sort", manager)
    manager.goto(base + "/inbox/?queue=all&sort=waiting")
    expect(manager.locator("body[data-live=on]")).to_have_count(1)
    row_ids = manager.locator("tr.case-row").evaluate_all("rows => rows.map(r => r.id)")
    assert row_ids.index(f"case-{older}") < row_ids.index(f"case-{newer}")
    expect(manager.locator(f"#case-{older} .waiting")).to_contain_text("waiting")

    # A colleague answers the case that has waited longer.
    colleague = agent_page(browser, desk_server)
    colleague.goto(f"{base}/cases/{older}/")
    colleague.locator("#reply-text").fill(
        "Hi Sam,\n\nThank you for telling us. I have reset the scanner's driver on our side; "
        "please restart it and tell me if the error comes back.\n\nRegards,\nAlex"
    )
    colleague.get_by_role("button", name="Send", exact=True).click()
    sent = colleague.locator(".msg.outbound", has_text="scanner's driver")
    send_anyway = colleague.get_by_role("button", name="Send anyway")
    expect(sent.or_(send_anyway).first).to_be_visible()
    if send_anyway.is_visible():  # the coach may have a suggestion; it only advises
        send_anyway.click()
    expect(sent).to_have_count(1)

    # Without a reload it leaves the waiting cases for the answered ones, below them all.
    expect(manager.locator(f"#case-{older} .waiting")).to_have_count(0)
    row_ids = manager.locator("tr.case-row").evaluate_all("rows => rows.map(r => r.id)")
    assert row_ids.count(f"case-{older}") == 1
    assert row_ids.index(f"case-{older}") > row_ids.index(f"case-{newer}")
    waiting_after = manager.locator(
        f"#case-{older} ~ tr.case-row[data-waiting]:not([data-waiting=''])"
    )
    assert waiting_after.count() == 0
    shots.take(manager, "1-answered-moves-down")
    colleague.context.close()
    manager.context.close()
