"""Accessibility: axe-core (from the npm registry, `make test-tools`) checks the pages people
live in — the inbox, a case, the dashboard, the help centre, the web form and the
customer's portal — in real Chromium; no serious or critical violation is allowed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_journeys import TIMEOUT, agent_page, magic_link

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page as it stands (WCAG 2.0/2.1 A and AA rules) and return the
    serious and critical violations, each with the elements at fault."""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
            resultTypes: ["violations"],
        })"""
    )
    return [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


def check(page, label: str, found: dict) -> None:
    page.wait_for_load_state("networkidle")
    found[label] = axe_violations(page)


def test_no_serious_or_critical_accessibility_violations(browser, desk_server, shots):
    assert AXE.exists(), "run `make test-tools` to install axe-core"
    base = desk_server.base_url
    case_id = int(desk_server.run("reply-case", "alex"))
    found: dict[str, list] = {}

    agent = agent_page(browser, desk_server, "alex")
    shots.watch("agent", agent)
    check(agent, "inbox", found)
    agent.goto(f"{base}/cases/{case_id}/")
    expect(agent.locator("body[data-ready=yes]")).to_have_count(1)
    check(agent, "case page", found)
    agent.goto(f"{base}/notifications/")
    check(agent, "notifications", found)

    manager = agent_page(browser, desk_server, "morgan")
    shots.watch("manager", manager)
    manager.goto(f"{base}/manager/")
    check(manager, "dashboard", found)

    visitor = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    visitor.set_default_timeout(TIMEOUT)
    shots.watch("visitor", visitor)
    visitor.goto(f"{base}/help/")
    check(visitor, "help centre", found)
    visitor.goto(f"{base}/channels/form/")
    check(visitor, "web form", found)

    # The customer whose case it is, in the portal.
    email = "dana.returns@example.com"  # the reply-case customer
    visitor.goto(f"{base}/portal/sign-in/")
    check(visitor, "portal sign-in", found)
    visitor.get_by_label("Email address").fill(email)
    visitor.get_by_role("button", name="Email me a sign-in link").click()
    visitor.goto(magic_link(desk_server, email))
    visitor.get_by_role("button", name="Sign in").click()
    expect(visitor).to_have_url(re.compile(r"/portal/"))
    check(visitor, "portal", found)
    visitor.get_by_role("link", name=re.compile(r"CL-\d+")).first.click()
    check(visitor, "portal case", found)

    print(json.dumps({label: len(v) for label, v in found.items()}))
    assert {label: v for label, v in found.items() if v} == {}

    # The checker does see a fault: an image with no text alternative is critical.
    visitor.evaluate("document.querySelector('main').append(document.createElement('img'))")
    assert "image-alt" in {v["rule"] for v in axe_violations(visitor)}
