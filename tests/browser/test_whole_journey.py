"""The whole journey a new user takes, in real Chromium and without the Django admin: a
customer writes through the web form; the agent records the facts and escalates to a
specialist, who is told at once; the agent asks the warehouse, which answers from its
requests page; the specialist reports it solved; the customer confirms it in the portal."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_journeys import TIMEOUT, agent_page, magic_link

pytestmark = pytest.mark.browser


def test_web_form_to_specialist_and_warehouse_to_the_customers_confirmation(
    browser, desk_server, shots
):
    base = desk_server.base_url
    desk_server.run("specialist-and-warehouse")

    customer_context = browser.new_context(viewport={"width": 390, "height": 800})
    customer_context.set_default_timeout(TIMEOUT)
    customer = customer_context.new_page()
    shots.watch("customer", customer)
    customer.goto(base + "/channels/form/")
    customer.get_by_label("Your name").fill("Lee Park")
    customer.get_by_label("Email", exact=True).fill("lee.park@example.com")
    customer.get_by_label("Subject").fill("Espresso machine leaks from the base")
    customer.get_by_label(re.compile("^Message")).fill(
        "My Brio espresso machine leaks water from the base since Monday. Order 8812."
    )
    customer.get_by_role("button", name="Send").click()
    reference = re.search(r"CL-\d+", customer.get_by_text(re.compile(r"CL-\d+")).inner_text())[0]

    agent = agent_page(browser, desk_server, "alex")
    specialist = agent_page(browser, desk_server, "sky")
    warehouse = agent_page(browser, desk_server, "wes")
    for label, page in (("agent", agent), ("specialist", specialist), ("warehouse", warehouse)):
        shots.watch(label, page)
    expect(specialist.locator("body[data-live=on]")).to_have_count(1)

    # The agent finds it by reference and records the facts a hand-off needs, by label.
    agent.get_by_placeholder("Subject or CL-000123").fill(reference)
    agent.get_by_placeholder("Subject or CL-000123").press("Enter")
    agent.get_by_role("link", name=reference).click()
    expect(agent.locator("body[data-ready=yes]")).to_have_count(1)
    loop = agent.locator("#panel-loop")
    for label, value in (
        ("Date and time of the problem", "2026-12-01 08:00"),
        ("Nature of the problem", "Leak from the base"),
    ):
        loop.locator('[data-stage="facts"] a').click()
        loop.get_by_label("Fact", exact=True).select_option(label=f"{label} *")
        loop.get_by_label("Value").fill(value)
        loop.get_by_role("button", name="Add fact").click()
        expect(loop.locator("#loop-facts li.done", has_text=value)).to_have_count(1)

    # Escalated to the specialist, who is told at once (no reload).
    loop.locator("details#loop-escalation > summary").click()
    loop.get_by_label("or person").select_option(label="Sky (tier 2)")
    loop.get_by_label("Why").fill("Needs a tier 2 decision on a replacement")
    loop.get_by_role("button", name=re.compile("^Escalate")).click()
    expect(specialist.locator("#bell-count .badge")).to_have_text(re.compile(r"^1"))
    shots.take(specialist, "1-told-of-the-escalation")

    # The agent asks the warehouse whether a replacement is in stock.
    agent.get_by_role("link", name="Ask another department").click()
    agent.get_by_label("Ask", exact=True).select_option(label="Warehouse")
    agent.get_by_label("Question or what to do").fill("Is a Brio base gasket in stock?")
    due = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    agent.get_by_label("Due").fill(due)
    agent.get_by_role("button", name="Send request").click()
    warehouse.goto(base + "/requests/")
    warehouse.get_by_label("Your answer").fill("Yes, 14 in stock; one can leave today.")
    warehouse.get_by_role("button", name="Send answer").click()
    agent.reload()
    expect(agent.locator("#timeline")).to_contain_text("14 in stock")

    # The specialist opens the case from the notification and reports it solved.
    specialist.locator("#bell").click()
    specialist.locator("#notification-list li", has_text=reference).get_by_role("link").click()
    expect(specialist.locator("body[data-ready=yes]")).to_have_count(1)
    escalation = specialist.locator("#loop-escalation")
    specialist.locator('[data-stage="escalation"] a').click()
    escalation.get_by_label(re.compile("^Question, or the solution")).fill(
        "A new base gasket is on its way today; fit it as the leaflet shows."
    )
    escalation.get_by_role("button", name="Report solved").click()
    expect(specialist.locator(".meta .status")).to_have_text("Solved")
    shots.take(specialist, "2-reported-solved")

    # The customer reads the solution in the portal and confirms it.
    customer.goto(base + "/portal/sign-in/")
    customer.get_by_label("Email address").fill("lee.park@example.com")
    customer.get_by_role("button", name="Email me a sign-in link").click()
    customer.goto(magic_link(desk_server, "lee.park@example.com"))
    customer.get_by_role("button", name="Sign in").click()
    customer.get_by_role("link", name=re.compile(reference)).click()
    expect(customer.locator(".msg.outbound", has_text="base gasket")).to_be_visible()
    customer.get_by_role("button", name="Yes, it's solved").click()
    expect(customer.locator(".meta .status")).to_have_text("Closed")
    shots.take(customer, "3-confirmed")
    agent.reload()
    expect(agent.locator(".meta .status")).to_have_text("Closed")
    for context in (customer_context, agent.context, specialist.context, warehouse.context):
        context.close()
