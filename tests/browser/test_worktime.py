"""The agent's time on a case in real Chromium: the open case page beats, the desk keeps the
interval, the agent corrects it in the page's panel, and leaving the page closes it."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TIMEOUT = 20_000


def is_beat(response) -> bool:
    return response.url.endswith("/work/beat/") and response.request.method == "POST"


def intervals(page, base: str, case_id: str) -> list[dict]:
    """The case's intervals, read through the API with the page's own session."""
    response = page.request.get(f"{base}/api/v1/cases/{case_id}/work")
    assert response.ok, response.text()
    return response.json()


def eventually(check, timeout: float = TIMEOUT / 1000):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_the_open_case_page_tracks_the_agents_time_and_the_agent_corrects_it(
    browser, desk_server, shots
):
    base = desk_server.base_url
    case_id = desk_server.run("new-case", "Kettle lid cracked, time tracked", "normal").strip()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    shots.watch("agent", page)
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )

    # The page says how often it beats; the test has it beat every second, not every 30.
    def beat_every_second(route):
        response = route.fetch()
        body = response.text().replace('data-beat-seconds="30"', 'data-beat-seconds="1"')
        route.fulfill(response=response, body=body)

    page.route(re.compile(rf"/cases/{case_id}/$"), beat_every_second)
    page.goto(base + "/login/")
    page.get_by_label("Username").fill("alex")
    page.get_by_label("Password").fill("desk-pass")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/inbox/"))

    # Opening the case starts the agent's interval at once; the next beats extend it.
    with page.expect_response(is_beat) as first:
        page.goto(f"{base}/cases/{case_id}/")
    assert first.value.ok
    panel = page.locator("#worktime")
    expect(panel.locator("[data-interval]")).to_have_count(1)
    for _ in range(2):
        with page.expect_response(is_beat) as later:
            page.mouse.move(200, 300)
        assert later.value.json()["open"] is True

    def tracked():
        (interval,) = intervals(page, base, case_id)
        assert interval["agent"]["username"] == "alex"
        assert interval["source"] == "tracker" and interval["open"] is True
        assert interval["seconds"] >= 1
        return interval

    interval = eventually(tracked)
    expect(panel).to_contain_text("Your time on this case:")
    shots.take(page, "1-tracked")

    # The agent corrects it: 12 minutes, with a note.
    row = panel.locator(f'[data-interval="{interval["id"]}"]')
    row.locator("summary", has_text="Correct").click()
    row.get_by_label("Minutes").fill("12")
    row.get_by_label("Note").fill("and a call to the courier")
    row.get_by_role("button", name="Save").click()
    corrected = panel.locator(f'[data-interval="{interval["id"]}"]')
    expect(corrected).to_contain_text("12 min")
    expect(corrected).to_contain_text("corrected")
    expect(corrected).to_contain_text("and a call to the courier")
    shots.take(page, "2-corrected")

    def stored():
        by_id = {i["id"]: i for i in intervals(page, base, case_id)}
        edited = by_id[interval["id"]]
        assert (edited["seconds"], edited["edited"], edited["open"]) == (720, True, False)
        assert edited["note"] == "and a call to the courier"

    eventually(stored)
    events = page.request.get(f"{base}/api/v1/cases/{case_id}/events").json()
    logged = [e["data"] for e in events if e["kind"] == "work_time_logged"]
    (correction,) = [e for e in logged if e["interval"] == interval["id"] and "before" in e]
    assert correction["seconds"] == 720 and correction["before"] >= interval["seconds"]

    # Tracking goes on in a new interval; leaving the page closes it with a beacon.
    with page.expect_response(is_beat):
        page.mouse.move(300, 300)
    page.wait_for_timeout(1500)
    page.goto(base + "/inbox/")

    def nothing_open():
        assert not [i for i in intervals(page, base, case_id) if i["open"]]

    eventually(nothing_open)
    assert violations == []
    context.close()
