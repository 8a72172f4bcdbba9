"""The desk's metrics from a constructed two-day history, each expected value worked out by
hand: the default schedule is Monday to Friday, 09:00–17:00 UTC, so times that cross an
evening count only open hours."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from caseloop.cases.errors import CaseError
from caseloop.cases.loop import escalations
from caseloop.cases.models import CaseEvent
from caseloop.cases.services import case_transition, event_record, message_add, reply_send
from caseloop.insights.events import WORK_TIME_LOGGED
from caseloop.insights.metrics import (
    METRICS,
    MetricsQueryError,
    Period,
    Totals,
    _values as metric_values,
    backlog_summary,
    drilldown,
    drilldown_page,
    report,
    report_grouped,
    trend,
)
from caseloop.insights.models import CaseFact, DailyRollup, WorkInterval
from caseloop.insights.rollups import rollups_catch_up, rollups_rebuild
from caseloop.insights.services import rating_record
from tests.builders import make_agent, make_case, make_customer, make_escalation

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 2)
TUESDAY = date(2026, 11, 3)
LATER = datetime(2026, 11, 10, 12, tzinfo=UTC)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def step(moment: datetime):
    return time_machine.travel(moment, tick=False)


def reply(case, agent, text="Thanks, the courier delivers it tomorrow morning."):
    return reply_send(case=case, actor=agent, text=text, send_anyway=True)


def customer_writes(case, text="Any news on this, please?"):
    return message_add(case=case, direction="inbound", text=text, author_customer=case.customer)


@pytest.fixture
def history():
    """Five cases over Monday and Tuesday (see each block)."""
    first, second = make_agent(), make_agent()
    cases = {}
    # A: first response 30 min, solved after 60 min, rated 5, 10 minutes of work: FCR.
    with step(at(MONDAY, 10)):
        cases["A"] = a = make_case(customer=make_customer())
    with step(at(MONDAY, 10, 30)):
        reply(a, first)
    with step(at(MONDAY, 10, 40)):
        interval = WorkInterval.objects.create(
            case=a,
            agent=first,
            started_at=at(MONDAY, 10, 30),
            ended_at=at(MONDAY, 10, 40),
            seconds=600,
        )
        event_record(case=a, actor=first, kind=WORK_TIME_LOGGED, data={"interval": interval.pk})
    with step(at(MONDAY, 11)):
        case_transition(case=a, to="solved", actor=first)
    with step(at(MONDAY, 12)):
        rating_record(case=a, customer=a.customer, score=5)
    # B: created Monday 16:30, first reply Tuesday 09:30 (30 + 30 business minutes); the
    # customer writes at 10:00, the next reply is 20 minutes later; solved at 11:00 (30 min
    # on Monday + 2 h on Tuesday); rated 2.
    with step(at(MONDAY, 16, 30)):
        cases["B"] = b = make_case(customer=make_customer())
    with step(at(TUESDAY, 9, 30)):
        reply(b, first)
    with step(at(TUESDAY, 10)):
        customer_writes(b)
    with step(at(TUESDAY, 10, 20)):
        reply(b, first)
    with step(at(TUESDAY, 11)):
        case_transition(case=b, to="solved", actor=first)
    with step(at(TUESDAY, 11, 30)):
        rating_record(case=b, customer=b.customer, score=2)
    # C: one reply after 10 minutes, solved, reopened by the customer, solved again at
    # 10:30: resolution 90 minutes, not FCR.
    with step(at(TUESDAY, 9)):
        cases["C"] = c = make_case(customer=make_customer())
    with step(at(TUESDAY, 9, 10)):
        reply(c, second)
    with step(at(TUESDAY, 9, 20)):
        case_transition(case=c, to="solved", actor=second)
    with step(at(TUESDAY, 10)):
        case_transition(case=c, to="open", actor=second, reason="the customer wrote back")
    with step(at(TUESDAY, 10, 30)):
        case_transition(case=c, to="solved", actor=second)
    # E: first reply after 5 minutes; a hand-off refused for missing facts, then escalated
    # to the second agent, who solves it at 14:00: one reply, but escalated, so not FCR.
    with step(at(TUESDAY, 13)):
        cases["E"] = e = make_case(customer=make_customer())
    with step(at(TUESDAY, 13, 5)):
        reply(e, first)
    with step(at(TUESDAY, 13, 10)):
        with pytest.raises(CaseError):
            escalations.case_escalate(case=e, actor=first, reason="refund", to_user=second)
        escalation = make_escalation(case=e, owner=first, solver=second)
    with step(at(TUESDAY, 14)):
        escalations.escalation_solved(escalation=escalation, actor=second, solution="Refunded")
    # D: still open, nobody answered yet.
    with step(at(TUESDAY, 15)):
        cases["D"] = make_case(customer=make_customer())
    rollups_catch_up(now=LATER)
    return cases, first, second


def values(rep, *names):
    return {name: (rep.metrics[name].value, rep.metrics[name].n) for name in names}


def test_every_metric_over_the_two_days_matches_the_hand_computed_values(history):
    _, first, second = history
    with step(LATER):
        rep = report(period=Period(MONDAY, TUESDAY))
    assert values(rep, "created", "solved") == {"created": (5, 5), "solved": (4, 4)}
    assert values(rep, "csat", "fcr", "reopen_rate", "escalation_rate") == {
        "csat": (50.0, 2),
        "fcr": (25.0, 4),
        "reopen_rate": (25.0, 4),
        "escalation_rate": (25.0, 4),
    }
    # First responses 300, 600, 1800, 3600 s; resolutions 3600, 3600, 5400, 9000 s.
    assert values(rep, "first_response_p50", "first_response_p90") == {
        "first_response_p50": (600, 4),
        "first_response_p90": (3600, 4),
    }
    assert values(rep, "resolution_p50", "resolution_p90") == {
        "resolution_p50": (3600, 4),
        "resolution_p90": (9000, 4),
    }
    assert values(rep, "next_reply_p50", "aht") == {"next_reply_p50": (1200, 1), "aht": (600, 1)}
    assert values(rep, "handoff_refusals", "sla_compliance") == {
        "handoff_refusals": (1, 1),
        "sla_compliance": (100.0, 4),
    }
    assert rep.metrics["backlog"].value == 1
    assert rep.metrics["csat"].previous is None  # nothing happened the two days before

    # As owner, the first agent has A, B and E; as solver, the second has C and E.
    mine = report(period=Period(MONDAY, TUESDAY), filters={"owner": first.pk})
    assert values(mine, "created", "solved", "fcr") == {
        "created": (3, 3),
        "solved": (3, 3),
        "fcr": (33.3, 3),
    }
    solved_by_second = report(period=Period(MONDAY, TUESDAY), filters={"solver": second.pk})
    assert values(solved_by_second, "solved", "escalation_rate") == {
        "solved": (2, 2),
        "escalation_rate": (50.0, 2),
    }
    groups = dict(report_grouped(period=Period(MONDAY, TUESDAY), group_by="solver"))
    assert groups[str(first.pk)]["solved"].n == 2 and groups[str(second.pk)]["solved"].n == 2


def test_trend_per_day_and_the_previous_period(history):
    days = trend(period=Period(MONDAY, TUESDAY), interval="day")
    assert [(day, m["created"].n, m["solved"].n) for day, m in days] == [
        (MONDAY, 2, 1),
        (TUESDAY, 3, 3),
    ]
    # Wednesday and Thursday compared with Monday and Tuesday: nothing new, all before.
    later = report(period=Period(MONDAY + timedelta(days=2), TUESDAY + timedelta(days=2)))
    assert later.metrics["solved"].value == 0 and later.metrics["solved"].previous == 4


def test_a_drill_down_opens_exactly_the_cases_behind_the_figure(history):
    cases, first, _ = history
    period = Period(MONDAY, TUESDAY)
    behind_fcr = {f.case_id for f in drilldown(metric="fcr", period=period)}
    assert behind_fcr == {cases[k].pk for k in "ABCE"}
    against = {f.case_id for f in drilldown(metric="fcr", period=period, against_only=True)}
    assert against == {cases[k].pk for k in "BCE"}
    low = drilldown(metric="csat", period=period, against_only=True)
    assert [f.case_id for f in low] == [cases["B"].pk]
    refused = drilldown(metric="handoff_refusals", period=period, filters={"owner": first.pk})
    assert [f.case_id for f in refused] == [cases["E"].pk]


def test_a_drill_down_pages_newest_first_from_a_position_without_counting(history):
    cases, _, _ = history
    period = Period(MONDAY, TUESDAY)
    first = drilldown_page(metric="fcr", period=period, size=3)
    assert len(first.items) == 3 and first.after
    rest = drilldown_page(metric="fcr", period=period, size=3, after=first.after)
    assert rest.after == ""
    listed = [f.case_id for f in [*first.items, *rest.items]]
    assert sorted(listed) == sorted(cases[k].pk for k in "ABCE")
    # Newest solved day first, then the newest case on the same day.
    keys = [(f.solved_day, f.case_id) for f in [*first.items, *rest.items]]
    assert keys == sorted(keys, reverse=True)
    with pytest.raises(MetricsQueryError):
        drilldown_page(metric="fcr", period=period, after="yesterday~x")


def test_the_backlog_counts_open_cases_by_the_day_they_were_created(history):
    cases, first, _ = history
    # D, created on Tuesday, is the only open case: on Friday it is three days old.
    friday = TUESDAY + timedelta(days=3)
    assert backlog_summary(today=friday) == {
        "open": 1,
        "ages": {"today": 0, "1–2 days": 0, "3–6 days": 1, "a week or more": 0},
    }
    # Six weeks on it is counted from the monthly rows, in the oldest bucket.
    later = backlog_summary(today=TUESDAY + timedelta(days=40))
    assert later["open"] == 1 and later["ages"]["a week or more"] == 1
    assert backlog_summary(filters={"owner": first.pk}, today=friday)["open"] == 0
    # Solving it empties the backlog at the next catch-up.
    with step(at(TUESDAY, 16)):
        case_transition(case=cases["D"], to="open", actor=first)
        case_transition(case=cases["D"], to="solved", actor=first, reason="answered by phone")
    rollups_catch_up(now=LATER)
    assert backlog_summary(today=friday)["open"] == 0


def _from_days(period, dimension="all", key=""):
    """The figures summed from the daily rows alone, to check the running totals."""
    totals = Totals()
    for counts, hists in DailyRollup.objects.filter(
        dimension=dimension, key=key, day__range=(period.start, period.end)
    ).values_list("counts", "hists"):
        totals.add(counts, hists)
    return metric_values(totals)


def test_whole_months_read_from_running_totals_agree_with_the_days(history):
    cases, first, second = history
    # An October case answered in October and solved in November; case A reopened in
    # December: changes land before, inside and after the months already totalled.
    october = date(2026, 10, 20)
    with step(at(october, 10)):
        old = make_case(customer=make_customer())
    with step(at(october, 11)):
        reply(old, first)
    with step(at(MONDAY, 9)):
        case_transition(case=old, to="solved", actor=first, reason="refunded")
    rollups_catch_up(now=LATER)
    with step(at(date(2026, 12, 2), 10)):
        case_transition(case=cases["A"], to="open", actor=first, reason="it broke again")
    rollups_catch_up(now=datetime(2026, 12, 10, tzinfo=UTC))
    periods = [
        Period(date(2026, 10, 1), date(2026, 11, 30)),
        Period(date(2026, 10, 15), date(2026, 12, 5)),
        Period(date(2026, 11, 1), date(2026, 11, 30)),
        Period(date(2026, 9, 1), date(2026, 12, 31)),
    ]
    for period in periods:
        figures = {name: (v.value, v.n) for name, v in report(period=period).metrics.items()}
        assert {n: figures[n] for n in METRICS} == _from_days(period), period
    whole = report(period=periods[0], filters={"owner": first.pk})
    assert whole.metrics["solved"].n == _from_days(periods[0], "owner", str(first.pk))["solved"][1]
    grouped = dict(report_grouped(period=periods[3], group_by="owner"))
    assert grouped[str(first.pk)]["created"].n == 4  # A, B, E and the October case
    # The running totals kept by the catch-up are those a rebuild writes.
    kept = sorted(DailyRollup.objects.values_list("dimension", "key", "day", "counts", "hists"))
    rollups_rebuild()
    rebuilt = sorted(DailyRollup.objects.values_list("dimension", "key", "day", "counts", "hists"))
    assert kept == rebuilt
    assert any(row[0].startswith("c:") for row in kept)


def test_catching_up_twice_or_rebuilding_changes_no_figure(history):
    before = sorted(DailyRollup.objects.values_list("dimension", "key", "day", "counts", "hists"))
    assert rollups_catch_up(now=LATER).cases == 0  # nothing new
    assert rollups_rebuild() == 5
    after = sorted(DailyRollup.objects.values_list("dimension", "key", "day", "counts", "hists"))
    assert before == after


def test_a_reopen_after_the_report_moves_the_case_out_of_solved(history):
    cases, first, _ = history
    with step(at(TUESDAY, 16)):
        case_transition(case=cases["A"], to="open", actor=first, reason="not fixed after all")
    rollups_catch_up(now=LATER)
    rep = report(period=Period(MONDAY, TUESDAY))
    assert values(rep, "solved", "fcr") == {"solved": (3, 3), "fcr": (0.0, 3)}
    assert CaseFact.objects.get(case=cases["A"]).reopens == 1
    assert CaseEvent.objects.filter(case=cases["A"], kind="status_changed").count() >= 2


def test_events_still_settling_are_read_again_not_skipped():
    agent = make_agent()
    with step(at(MONDAY, 10)):
        case = make_case(actor=agent)
        # Read one second later: the events are inside the settling window.
        first_pass = rollups_catch_up(now=at(MONDAY, 10) + timedelta(seconds=1))
    assert first_pass.cases == 1
    with step(at(MONDAY, 10, 5)):
        case_transition(case=case, to="open", actor=agent)
        case_transition(case=case, to="solved", actor=agent)
    rollups_catch_up(now=LATER)
    assert report(period=Period(MONDAY, MONDAY)).metrics["solved"].value == 1


def test_sla_compliance_counts_a_breach_and_not_the_hours_waiting_on_the_customer():
    """A policy for normal priority: first response in 240 business minutes, resolution in
    8 business hours. One case is answered after 300 minutes (breached when the minute
    check runs). The other is answered at once and then waits on the customer from Monday
    09:30 to Tuesday 10:00 (8½ business hours) before it is solved: the resolution clock is
    paused while it waits, so it used 30 minutes and is no breach."""
    from caseloop.automation.models import SlaPolicy
    from caseloop.automation.services import sla_check
    from tests.automation.support import sla_effects_run

    SlaPolicy.objects.create(
        name="Normal", priority="normal", first_response_minutes=240, resolution_minutes=480
    )
    agent = make_agent()
    with step(at(MONDAY, 9)):
        late = make_case(customer=make_customer())
        waiting = make_case(customer=make_customer())
    with step(at(MONDAY, 9, 30)):
        reply(waiting, agent)
        case_transition(case=waiting, to="pending_customer", actor=agent)
    with step(at(MONDAY, 13, 5)):
        sla_effects_run()  # the SLA clocks follow the case hooks, run after commit
        sla_check()
    with step(at(MONDAY, 17, 30)):
        sla_check()
    with step(at(MONDAY, 14)):
        reply(late, agent)
    with step(at(TUESDAY, 10)):
        customer_writes(waiting, "It works now, thanks.")
        case_transition(case=waiting, to="solved", actor=agent)
        case_transition(case=late, to="solved", actor=agent)
        sla_effects_run()
        sla_check()
    rollups_catch_up(now=LATER)
    rep = report(period=Period(MONDAY, TUESDAY))
    assert values(rep, "sla_compliance") == {"sla_compliance": (50.0, 2)}
    breached = drilldown(metric="sla_compliance", period=Period(MONDAY, TUESDAY), against_only=True)
    assert [fact.case_id for fact in breached] == [late.pk]
    assert CaseFact.objects.get(case=late).sla_breaches == ["first_response"]
    assert CaseFact.objects.get(case=waiting).sla_breaches == []
