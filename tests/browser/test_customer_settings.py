"""In real Chromium: an admin searches the customer list, opens a customer's page and their
organization's, then edits the desk's business hours in the workspace's settings."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TIMEOUT = 20_000
ROOT = Path(__file__).resolve().parents[2]

SEED = """
import django
django.setup()
from caseloop.accounts.models import User
from caseloop.accounts.services import user_create
from caseloop.cases.services import case_create
from caseloop.customers.models import Organization
from caseloop.customers.services import Identity, customer_find_or_create

if not User.objects.filter(username="robin").exists():
    user_create(username="robin", role="admin", password="desk-pass", first_name="Robin")
org = Organization.objects.get_or_create(name="Harper & Sons", service_level="premium")[0]
quinn = customer_find_or_create(identity=Identity(email="quinn@harper.test", name="Quinn Harper"))
quinn.organization = org
quinn.save(update_fields=["organization"])
case_create(customer=quinn, subject="Fridge door rattles", text="It rattles.", channel="web")
"""

HOURS = """
import django
django.setup()
from caseloop.automation.models import BusinessHours
hours = BusinessHours.objects.get(name="Standard")
print(";".join(str(i) for i in hours.intervals.all()))
"""


def desk_python(desk_server, code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=desk_server.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_an_admin_finds_a_customer_opens_their_organization_and_edits_business_hours(
    browser, desk_server, shots
):
    base = desk_server.base_url
    desk_python(desk_server, SEED)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    shots.watch("admin", page)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console",
        lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(base + "/login/")
    page.get_by_label("Username").fill("robin")
    page.get_by_label("Password").fill("desk-pass")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/inbox/"))

    # The customer list, from the navigation, searched by the email address.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    expect(page).to_have_url(re.compile(r"/customers/$"))
    page.get_by_label("Name, email, phone or organization").fill("quinn@harper")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("#customers tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Harper & Sons")
    rows.first.get_by_role("link", name="Quinn Harper").click()

    # The customer's page: contact points and their case, then their organization.
    expect(page.get_by_role("heading", level=1)).to_have_text("Quinn Harper")
    expect(page.locator("#contact-points")).to_contain_text("quinn@harper.test")
    expect(page.locator("#customer-cases")).to_contain_text("Fridge door rattles")
    shots.take(page, "customer")
    page.locator("#customer-organization").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Harper & Sons")
    expect(page.locator("#service-level")).to_contain_text("premium")
    expect(page.locator("#org-customers")).to_contain_text("Quinn Harper")
    expect(page.locator("#org-open")).to_contain_text("Fridge door rattles")
    shots.take(page, "organization")

    # Settings: the standard schedule gets Saturday hours; a backwards period is refused.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Business hours").first.click()
    page.locator("#settings-rows").get_by_role("link", name=re.compile("Standard")).click()
    page.get_by_label("Sunday").fill("17:00-09:00")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_day_6_error")).to_contain_text("ends before it starts")
    shots.take(page, "schedule-refused")
    page.get_by_label("Sunday").fill("")
    page.get_by_label("Saturday").fill("10:00-14:00")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/settings/business-hours/$"))
    expect(page.locator("#flash")).to_contain_text("saved")
    expect(page.locator("#settings-rows")).to_contain_text("Saturday 10:00-14:00")
    shots.take(page, "business-hours")
    assert "Saturday 10:00-14:00" in desk_python(desk_server, HOURS)
    assert "Sunday" not in desk_python(desk_server, HOURS)
    assert errors == []
    context.close()
