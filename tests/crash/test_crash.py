"""Nothing acknowledged is lost when the desk's processes are killed: real `caseloop serve`
(and `caseloop worker` on PostgreSQL + Redis) are killed with SIGKILL while clients open
cases and reply, then restarted; every case the clients were told exists has exactly one
acknowledgement and its triage, and every reply was delivered or failed with a reason."""

from __future__ import annotations

import pytest

from tests.crash.harness import Desk, drive, settle

pytestmark = pytest.mark.crash


def test_a_desk_killed_mid_flight_loses_nothing_it_acknowledged(tmp_path):
    desk = Desk(tmp_path)
    desk.setup()
    try:
        desk.start()
        state = drive(desk, cases=40, clients=6, kill_after=15, on_kill=desk.kill)
        assert len(state.cases) >= 15
        desk.start()
        # A client retrying a create whose answer it never got finds its case, once.
        key, case_id = next(iter(state.cases.items()))
        status, again = desk.api(
            "POST",
            "/api/v1/cases",
            {
                "subject": "retry",
                "channel": "email",
                "customer": {"email": "retry@example.com"},
                "message": {"text": "retry"},
            },
            key=key,
        )
        assert status == 200 and again["id"] == case_id
        result = settle(desk, state)
    finally:
        desk.stop()
    assert result.acknowledgements_missing == 0, result
    assert result.acknowledgements_duplicated == 0, result
    assert result.triage_missing == 0, result
    assert result.replies_stuck == 0, result
    assert result.replies_failed == [], result
