"""The manager's dashboard, its drill-downs and CSV exports, and the metrics API, over the
two-day history of tests/insights/test_metrics.py."""

import csv
import io

import pytest

from caseloop.accounts.models import Role
from tests.builders import bearer, make_agent, make_user
from tests.insights.test_metrics import MONDAY, TUESDAY, history  # noqa: F401

pytestmark = pytest.mark.django_db

RANGE = {"from": MONDAY.isoformat(), "to": TUESDAY.isoformat()}


@pytest.fixture
def manager_client(client):
    client.force_login(make_user(role=Role.MANAGER))
    return client


def test_the_dashboard_shows_each_figure_with_its_n_and_a_link_to_its_cases(
    history,  # noqa: F811
    manager_client,
):
    page = manager_client.get("/manager/", {**RANGE, "group_by": "solver"})
    assert page.status_code == 200
    html = page.content.decode()
    kpis = html[html.index('id="kpis"') : html.index("The loop")]
    assert "50.0 %" in kpis and "n = 2" in kpis  # CSAT
    assert "25.0 %" in kpis  # FCR
    assert "/manager/metrics/cases/?metric=fcr&amp;from=2026-11-02&amp;to=2026-11-03" in kpis
    assert 'id="chart-volume"' in html and 'id="dashboard-data"' in html
    assert "chart.umd.min.js" in html
    # The breakdown by solver: each agent's solved count links to their cases.
    _, first, second = history
    table = html[html.index('id="slices"') :]
    assert first.display_name in table and second.display_name in table
    assert f"metric=solved&amp;from=2026-11-02&amp;to=2026-11-03&amp;solver={second.pk}" in table


def test_the_fcr_drill_down_lists_the_cases_and_those_counting_against(
    history,  # noqa: F811
    manager_client,
):
    cases, _, _ = history
    page = manager_client.get("/manager/metrics/cases/", {**RANGE, "metric": "fcr"})
    html = page.content.decode()
    assert page.status_code == 200
    for key in "ABCE":
        assert cases[key].reference in html
    assert cases["D"].reference not in html
    against = manager_client.get(
        "/manager/metrics/cases/", {**RANGE, "metric": "fcr", "against": "1"}
    ).content.decode()
    assert cases["A"].reference not in against and cases["B"].reference in against


def test_csv_exports_of_the_report_and_of_the_cases_behind_it(
    history,  # noqa: F811
    manager_client,
):
    report = manager_client.get("/manager/metrics.csv", {**RANGE, "group_by": "owner"})
    assert report["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(report.content.decode())))
    assert rows[0]["slice"] == "all" and rows[0]["csat"] == "50.0" and rows[0]["csat_n"] == "2"
    _, first, _ = history
    mine = next(row for row in rows if row["key"] == str(first.pk))
    assert (mine["solved"], mine["fcr"]) == ("3.0", "33.3")

    facts = manager_client.get(
        "/manager/metrics/cases/", {**RANGE, "metric": "solved", "format": "csv"}
    )
    lines = list(csv.DictReader(io.StringIO(facts.content.decode())))
    assert sorted(line["reference"] for line in lines) == sorted(
        history[0][k].reference for k in "ABCE"
    )
    assert {line["reference"]: line["resolution_seconds"] for line in lines}[
        history[0]["B"].reference
    ] == "9000"


def test_agents_may_not_see_the_dashboard_and_bad_dates_are_a_clear_4xx(client, history):  # noqa: F811
    for path in ("/manager/", "/manager/metrics.csv", "/manager/metrics/cases/"):
        assert client.get(path).status_code == 302  # to the sign-in page
    client.force_login(make_agent())
    assert client.get("/manager/").status_code == 403
    assert client.get("/manager/metrics/cases/", {"metric": "fcr"}).status_code == 403
    client.force_login(make_user(role=Role.MANAGER))
    assert client.get("/manager/", {"from": "yesterday"}).status_code == 422
    assert client.get("/manager/", {"from": "2026-11-05", "to": "2026-11-01"}).status_code == 422
    assert client.get("/manager/metrics/cases/", {"metric": "nonsense"}).status_code == 422


def test_the_metrics_api_returns_values_and_n_per_group(history, api):  # noqa: F811
    manager = make_user(role=Role.MANAGER)
    body = api.get(
        "/api/v1/insights/metrics", headers=bearer(manager), group_by="agent", **RANGE
    ).json()
    assert body["metrics"]["csat"]["value"] == 50.0 and body["metrics"]["csat"]["n"] == 2
    assert body["metrics"]["first_response_p50"]["value"] == 600
    assert body["metrics"]["fcr"]["unit"] == "percent"
    _, first, _ = history
    mine = next(group for group in body["groups"] if group["key"] == str(first.pk))
    assert mine["name"] == first.display_name and mine["metrics"]["solved"]["n"] == 3
    agent = make_agent()
    denied = api.get("/api/v1/insights/metrics", headers=bearer(agent), **RANGE)
    assert denied.status_code == 403
    bad = api.get("/api/v1/insights/metrics", headers=bearer(manager), **{"from": "2026-13-01"})
    assert bad.status_code == 422


def test_where_it_is_going_wrong_names_the_slice_that_got_worse(manager_client):
    from datetime import UTC, datetime

    import time_machine

    from caseloop.cases.services import case_transition
    from caseloop.insights.rollups import rollups_catch_up
    from caseloop.insights.services import rating_record
    from tests.builders import make_case

    agent = make_agent(first_name="Robin")
    for day, score in [(3, 5), (10, 1)]:  # a good week, then a bad one
        for n in range(5):
            with time_machine.travel(datetime(2026, 11, day, 10, n, tzinfo=UTC), tick=False):
                case = make_case(actor=agent)
                case_transition(case=case, to="open", actor=agent)
                case_transition(case=case, to="solved", actor=agent)
                rating_record(case=case, customer=case.customer, score=score)
    rollups_catch_up(now=datetime(2026, 11, 20, tzinfo=UTC))
    page = manager_client.get(
        "/manager/", {"from": "2026-11-09", "to": "2026-11-15", "group_by": "owner"}
    ).content.decode()
    wrong = page[page.index('id="going-wrong"') :]
    wrong = wrong[: wrong.index("</section>")]
    assert "Robin" in wrong and "0.0 %, was 100.0 %" in wrong
    assert "metric=csat" in wrong and "against=1" in wrong
