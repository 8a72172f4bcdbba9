"""The manager's dashboard in real Chromium: the charts draw under the desk's strict
Content-Security-Policy, and a figure opens the cases behind it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_journeys import agent_page

pytestmark = pytest.mark.browser


def test_the_dashboard_draws_its_charts_and_a_figure_opens_its_cases(browser, desk_server, shots):
    reference = desk_server.run("solved-case", "Refund for a cracked kettle lid").strip()
    page = agent_page(browser, desk_server, username="morgan")
    shots.watch("manager", page)
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(desk_server.base_url + "/manager/")
    for chart in ("chart-volume", "chart-quality", "chart-speed"):
        expect(page.locator(f"#{chart}")).to_have_attribute("data-drawn", re.compile(r"[1-9]"))
    solved = page.locator('#kpis .kpi[data-metric="solved"]')
    expect(solved.locator(".kpi-value")).not_to_have_text("0")
    solved.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/manager/metrics/cases/\?metric=solved"))
    expect(page.locator("#metric-cases")).to_contain_text(reference)
    assert violations == [], violations
