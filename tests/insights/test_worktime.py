"""The agents' time on cases: the workspace's heartbeats, replies as activity, corrections,
time added by hand on the page and through the API, and the sum that is handling time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from caseloop.accounts.models import Role
from caseloop.cases.errors import CaseValidationError
from caseloop.cases.models import CaseEvent
from caseloop.cases.services import message_add, reply_send
from caseloop.insights.models import WorkInterval
from caseloop.insights.worktime import (
    IDLE_GAP,
    WorkTimeForbidden,
    case_handling_seconds,
    case_work_intervals,
    work_heartbeat,
    work_interval_add,
    work_interval_edit,
    work_intervals_close_idle,
)
from tests.builders import bearer, make_agent, make_case, make_customer_user, make_user

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def logged(case) -> list[dict]:
    return [
        e.data for e in CaseEvent.objects.filter(case=case, kind="work_time_logged").order_by("id")
    ]


def beats(case, agent, *seconds: float, active: bool = True) -> WorkInterval | None:
    interval = None
    for s in seconds:
        interval = work_heartbeat(case=case, agent=agent, active=active, now=at(s))
    return interval


@pytest.fixture
def agent(client):
    agent = make_agent()
    client.force_login(agent)
    return agent


# --- The tracker -------------------------------------------------------------------------


def test_heartbeats_30_seconds_apart_extend_one_interval_by_the_time_elapsed():
    case, agent = make_case(), make_agent()
    beats(case, agent, 0, 30, 60, 90)
    (interval,) = case_work_intervals(case=case)
    assert (interval.agent, interval.source, interval.seconds) == (agent, "tracker", 90)
    assert (interval.started_at, interval.ended_at, interval.is_open) == (at(0), at(90), True)
    # Beats are cheap: the interval is announced when it closes, not on every beat.
    assert logged(case) == []


def test_a_gap_longer_than_the_idle_limit_starts_a_new_interval_and_does_not_count():
    case, agent = make_case(), make_agent()
    beats(case, agent, 0, 30)
    back = 30 + IDLE_GAP.total_seconds() + 1
    beats(case, agent, back, back + 30)
    first, second = case_work_intervals(case=case)
    assert (first.seconds, first.ended_at, first.is_open) == (30, at(30), False)
    assert (second.seconds, second.started_at, second.is_open) == (30, at(back), True)
    assert case_handling_seconds(case=case) == 60
    assert logged(case) == [
        {"interval": first.pk, "agent": agent.pk, "seconds": 30, "source": "tracker"}
    ]


def test_active_false_closes_the_interval_and_the_time_hidden_after_it_does_not_count():
    case, agent = make_case(), make_agent()
    beats(case, agent, 0, 30)
    closed = work_heartbeat(case=case, agent=agent, active=False, now=at(40))
    assert closed is not None
    assert (closed.seconds, closed.is_open) == (40, False)
    assert logged(case) == [
        {"interval": closed.pk, "agent": agent.pk, "seconds": 40, "source": "tracker"}
    ]
    # Back on the tab 20 s later, well within the idle limit: a new interval.
    beats(case, agent, 60, 90)
    assert [i.seconds for i in case_work_intervals(case=case)] == [40, 30]
    assert case_handling_seconds(case=case) == 70


def test_an_interval_that_never_grew_is_dropped_unannounced():
    case, agent = make_case(), make_agent()
    beats(case, agent, 0)
    assert work_heartbeat(case=case, agent=agent, active=False, now=at(0)) is None
    assert work_heartbeat(case=case, agent=agent, active=False, now=at(5)) is None
    assert not case_work_intervals(case=case).exists()
    assert logged(case) == []


def test_starting_work_on_another_case_closes_the_idle_interval_left_open_elsewhere():
    first_case, second_case, agent = make_case(), make_case(), make_agent()
    beats(first_case, agent, 0, 30)  # the tab was closed without its last beat
    beats(second_case, agent, 600)
    (left,) = case_work_intervals(case=first_case)
    assert (left.seconds, left.is_open) == (30, False)
    assert [e["seconds"] for e in logged(first_case)] == [30]
    # And a periodic sweep closes what nobody came back to, once it is idle.
    beats(second_case, agent, 630)
    assert work_intervals_close_idle(now=at(630 + 60)) == 0
    assert work_intervals_close_idle(now=at(630 + IDLE_GAP.total_seconds() + 1)) == 1
    assert [e["seconds"] for e in logged(second_case)] == [30]


def test_each_agent_has_their_own_interval_on_a_case():
    case, alex, sam = make_case(), make_agent(), make_agent()
    beats(case, alex, 0, 30)
    beats(case, sam, 10, 40, 70)
    assert {i.agent: i.seconds for i in case_work_intervals(case=case)} == {alex: 30, sam: 60}


def test_a_beat_that_extends_the_open_interval_reads_it_and_updates_it(
    django_assert_num_queries,
):
    case, agent = make_case(), make_agent()
    beats(case, agent, 0)
    # The savepoint of the service's transaction, the locked read, the update.
    with django_assert_num_queries(4):
        beats(case, agent, 30)


def test_customers_do_not_keep_time():
    case = make_case()
    with pytest.raises(WorkTimeForbidden):
        work_heartbeat(case=case, agent=make_customer_user(customer=case.customer), active=True)


# --- Replies count as activity -----------------------------------------------------------


def test_a_reply_starts_tracking_and_extends_the_interval_of_an_agent_at_work(
    django_capture_on_commit_callbacks,
):
    case, agent, colleague = make_case(), make_agent(), make_agent()
    with django_capture_on_commit_callbacks(execute=True):
        reply_send(case=case, actor=agent, text="Your kettle ships today.")
    (started,) = case_work_intervals(case=case)
    assert (started.agent, started.is_open) == (agent, True)

    minute_ago = timezone.now() - timedelta(seconds=60)
    work_heartbeat(case=case, agent=colleague, active=True, now=minute_ago)
    with django_capture_on_commit_callbacks(execute=True):
        reply_send(case=case, actor=colleague, text="Internal: courier booked.", kind="note")
    (extended,) = case_work_intervals(case=case, agent=colleague)
    assert extended.started_at == minute_ago
    assert 60 <= extended.seconds < 90


def test_the_customers_messages_are_nobodys_work_time(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case()
        message_add(case=case, direction="inbound", text="Any news?")
    assert not case_work_intervals(case=case).exists()


# --- Corrections and time added by hand --------------------------------------------------


def test_the_agent_corrects_an_interval_and_the_event_has_the_length_before_and_after():
    case, agent = make_case(), make_agent()
    interval = beats(case, agent, 0, 30, 60, 90)
    edited = work_interval_edit(interval=interval, agent=agent, seconds=300, note="call too")
    assert (edited.seconds, edited.note, edited.edited, edited.is_open) == (
        300,
        "call too",
        True,
        False,
    )
    assert logged(case) == [
        {
            "interval": interval.pk,
            "agent": agent.pk,
            "seconds": 300,
            "source": "tracker",
            "before": 90,
        }
    ]
    # The correction stands: the next beat starts a new interval instead of extending it.
    beats(case, agent, 120)
    assert [i.seconds for i in case_work_intervals(case=case)] == [300, 0]


def test_a_correction_that_changes_nothing_records_nothing():
    case, agent = make_case(), make_agent()
    interval = work_interval_add(case=case, agent=agent, seconds=120, note="research")
    work_interval_edit(interval=interval, agent=agent, seconds=120, note="research")
    assert len(logged(case)) == 1


def test_another_agent_cannot_correct_it_but_a_manager_can():
    case, agent = make_case(), make_agent()
    interval = work_interval_add(case=case, agent=agent, seconds=120)
    with pytest.raises(WorkTimeForbidden):
        work_interval_edit(interval=interval, agent=make_agent(), seconds=0, note="")
    manager = make_user(role=Role.MANAGER)
    work_interval_edit(interval=interval, agent=manager, seconds=60, note="double-counted")
    interval.refresh_from_db()
    assert interval.seconds == 60
    event = CaseEvent.objects.filter(case=case, kind="work_time_logged").latest("id")
    assert (event.actor, event.data["agent"], event.data["before"]) == (manager, agent.pk, 120)


def test_time_added_by_hand_ends_now_unless_its_start_is_given():
    case, agent = make_case(), make_agent()
    added = work_interval_add(case=case, agent=agent, seconds=600, note="supplier call")
    assert (added.source, added.seconds, added.note) == ("manual", 600, "supplier call")
    assert added.ended_at - added.started_at == timedelta(seconds=600)
    assert abs(added.ended_at - timezone.now()) < timedelta(seconds=5)
    earlier = work_interval_add(case=case, agent=agent, seconds=60, started_at=T0)
    assert (earlier.started_at, earlier.ended_at) == (T0, at(60))
    assert [e["seconds"] for e in logged(case)] == [600, 60]


@pytest.mark.parametrize(
    ("seconds", "started_at", "field"),
    [
        (0, None, "seconds"),
        (24 * 3600 + 1, None, "seconds"),
        (60, datetime(2026, 3, 2, 9, 0), "started_at"),  # noqa: DTZ001 - the point
        (60, timezone.now() + timedelta(hours=1), "started_at"),
    ],
)
def test_time_added_by_hand_is_checked(seconds, started_at, field):
    case, agent = make_case(), make_agent()
    with pytest.raises(CaseValidationError) as refused:
        work_interval_add(case=case, agent=agent, seconds=seconds, started_at=started_at)
    assert refused.value.field == field
    assert not WorkInterval.objects.exists()


def test_handling_seconds_sum_every_agents_tracked_added_and_corrected_time():
    case, alex, sam = make_case(), make_agent(), make_agent()
    beats(case, alex, 0, 30, 60)
    tracked = beats(case, sam, 0, 45)
    work_interval_edit(interval=tracked, agent=sam, seconds=50, note="")
    work_interval_add(case=case, agent=sam, seconds=600)
    work_interval_add(case=make_case(), agent=sam, seconds=999)  # another case
    assert case_handling_seconds(case=case) == 60 + 50 + 600


# --- The case page -----------------------------------------------------------------------


def test_the_case_page_carries_the_time_panel_and_its_script(client, agent):
    case = make_case()
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="worktime"' in body
    assert f'data-beat-url="/cases/{case.pk}/work/beat/"' in body
    assert "/static/web/worktime.js" in body
    # The page itself writes nothing: the script's first beat starts the interval.
    assert not WorkInterval.objects.exists()


def test_beats_from_the_page_start_and_extend_the_agents_interval(client, agent):
    case = make_case()
    first = client.post(f"/cases/{case.pk}/work/beat/", {"active": "1"}).json()
    again = client.post(f"/cases/{case.pk}/work/beat/", {"active": "1"}).json()
    assert first["interval"] == again["interval"] and again["open"] is True
    WorkInterval.objects.filter(pk=first["interval"]).update(
        started_at=timezone.now() - timedelta(seconds=40),
        ended_at=timezone.now() - timedelta(seconds=10),
        seconds=30,
    )
    stopped = client.post(f"/cases/{case.pk}/work/beat/", {"active": "0"}).json()
    assert stopped["interval"] == first["interval"] and stopped["open"] is False
    assert 40 <= stopped["seconds"] < 45
    assert [e["seconds"] for e in logged(case)] == [stopped["seconds"]]


def test_a_customer_cannot_beat_nor_see_the_panel(client):
    case = make_case()
    client.force_login(make_customer_user(customer=case.customer))
    assert client.post(f"/cases/{case.pk}/work/beat/", {"active": "1"}).status_code == 403
    assert client.get(f"/cases/{case.pk}/work/").status_code == 403
    assert client.post(f"/cases/{case.pk}/work/add/", {"minutes": "5"}).status_code == 403
    assert not WorkInterval.objects.exists()


def test_signed_out_beats_go_to_the_sign_in_page(client):
    case = make_case()
    response = client.post(f"/cases/{case.pk}/work/beat/", {"active": "1"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_no_beat_on_a_case_that_does_not_exist(client, agent):
    assert client.post("/cases/999999/work/beat/", {"active": "1"}).status_code == 404


def test_the_panel_shows_the_agents_own_time_on_the_case(client, agent):
    case = make_case()
    work_interval_add(case=case, agent=agent, seconds=600, note="supplier call")
    work_interval_add(case=case, agent=agent, seconds=150)
    work_interval_add(case=case, agent=make_agent(), seconds=3000, note="someone else's")
    body = client.get(f"/cases/{case.pk}/work/").content.decode()
    assert "Your time on this case: <strong data-worktime-total>13 min</strong>" in body
    assert "supplier call" in body and "someone else" not in body
    assert body.count("data-interval=") == 2


def test_time_added_on_the_page(client, agent):
    case = make_case()
    panel = client.post(
        f"/cases/{case.pk}/work/add/", {"minutes": "25", "note": "research"}, HTTP_HX_REQUEST="true"
    )
    assert panel.status_code == 200
    assert "Your time on this case: <strong data-worktime-total>25 min</strong>" in (
        panel.content.decode()
    )
    plain = client.post(f"/cases/{case.pk}/work/add/", {"minutes": "5"})
    assert plain.status_code == 302 and plain["Location"] == f"/cases/{case.pk}/#worktime"
    assert sorted(i.seconds for i in case_work_intervals(case=case)) == [300, 1500]
    assert {i.source for i in case_work_intervals(case=case)} == {"manual"}


def test_nonsense_minutes_are_refused_with_the_reason(client, agent):
    case = make_case()
    for minutes in ("0", "-5", "lots", str(24 * 60 + 1)):
        response = client.post(
            f"/cases/{case.pk}/work/add/", {"minutes": minutes}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 422
        assert 'role="alert"' in response.content.decode()
    assert not WorkInterval.objects.exists()


def test_the_agent_corrects_the_minutes_and_the_note_on_the_page(client, agent):
    case = make_case()
    interval = beats(case, agent, 0, 30, 60, 90)
    response = client.post(
        f"/cases/{case.pk}/work/{interval.pk}/",
        {"minutes": "12", "note": "plus a call"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    interval.refresh_from_db()
    assert (interval.seconds, interval.note, interval.edited) == (720, "plus a call", True)
    assert logged(case)[-1]["before"] == 90


def test_changing_only_the_note_keeps_the_exact_seconds(client, agent):
    case = make_case()
    interval = work_interval_add(case=case, agent=agent, seconds=100)  # shown as 2 min
    client.post(f"/cases/{case.pk}/work/{interval.pk}/", {"minutes": "2", "note": "research"})
    interval.refresh_from_db()
    assert (interval.seconds, interval.note) == (100, "research")


def test_another_agent_cannot_edit_it_on_the_page(client, agent):
    case = make_case()
    theirs = work_interval_add(case=case, agent=make_agent(), seconds=600)
    response = client.post(
        f"/cases/{case.pk}/work/{theirs.pk}/", {"minutes": "1", "note": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403
    assert "corrects this time" in response.content.decode()
    theirs.refresh_from_db()
    assert (theirs.seconds, theirs.edited) == (600, False)


def test_an_interval_is_edited_only_through_its_own_case(client, agent):
    interval = work_interval_add(case=make_case(), agent=agent, seconds=600)
    other = make_case()
    response = client.post(f"/cases/{other.pk}/work/{interval.pk}/", {"minutes": "1"})
    assert response.status_code == 404


# --- The API -----------------------------------------------------------------------------


def test_the_api_lists_every_agents_intervals_with_a_fixed_number_of_queries(
    api, django_assert_num_queries
):
    case, agent = make_case(), make_agent()
    headers = bearer(agent)
    api.get(f"/api/v1/cases/{case.pk}/work", headers)  # the token's first use is recorded
    for count in (3, 10):
        while WorkInterval.objects.filter(case=case).count() < count:
            work_interval_add(case=case, agent=make_agent(), seconds=60)
        # The token, the case with its tags, the intervals with their agents.
        with django_assert_num_queries(4):
            response = api.get(f"/api/v1/cases/{case.reference}/work", headers)
        assert response.status_code == 200
        assert len(response.json()) == count
    item = response.json()[0]
    assert set(item) == {
        "id",
        "agent",
        "source",
        "started_at",
        "ended_at",
        "seconds",
        "note",
        "edited",
        "open",
    }
    assert item["seconds"] == 60 and item["source"] == "manual"


def test_time_entered_through_the_api(api):
    case, agent = make_case(), make_agent()
    response = api.post(
        f"/api/v1/cases/{case.pk}/work",
        {"seconds": 420, "note": "call on the shop line", "started_at": "2026-03-02T09:00:00Z"},
        bearer(agent),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["agent"]["id"], body["seconds"], body["source"]) == (agent.pk, 420, "manual")
    assert body["ended_at"].startswith("2026-03-02T09:07:00")
    assert logged(case) == [
        {"interval": body["id"], "agent": agent.pk, "seconds": 420, "source": "manual"}
    ]
    assert case_handling_seconds(case=case) == 420


def test_a_phone_system_enters_time_for_the_agent_who_took_the_call(api):
    case, agent = make_case(), make_agent()
    manager = make_user(role=Role.MANAGER)
    payload = {"seconds": 300, "agent": agent.username}
    response = api.post(f"/api/v1/cases/{case.pk}/work", payload, bearer(manager))
    assert response.status_code == 201
    assert response.json()["agent"]["username"] == agent.username
    event = CaseEvent.objects.get(case=case, kind="work_time_logged")
    assert (event.actor, event.data["agent"]) == (manager, agent.pk)
    # An agent enters only their own time; a name nobody has is refused.
    colleague = make_agent()
    refused = api.post(f"/api/v1/cases/{case.pk}/work", payload, bearer(colleague))
    assert refused.status_code == 403 and refused.json()["code"] == "work_time_forbidden"
    unknown = {"seconds": 300, "agent": "nobody-here"}
    response = api.post(f"/api/v1/cases/{case.pk}/work", unknown, bearer(manager))
    assert response.status_code == 422 and response.json()["field"] == "agent"


@pytest.mark.parametrize(
    "payload",
    [
        {"seconds": 0},
        {"seconds": -60},
        {"seconds": 24 * 3600 + 1},
        {"seconds": 60, "note": "x" * 201},
        {"seconds": 60, "started_at": "2026-03-02T09:00:00"},
        {"note": "no time"},
    ],
)
def test_the_api_refuses_time_it_cannot_count(api, payload):
    case = make_case()
    response = api.post(f"/api/v1/cases/{case.pk}/work", payload, bearer(make_agent()))
    assert response.status_code == 422
    assert not WorkInterval.objects.exists()


def test_customers_have_no_access_to_work_time_through_the_api(api):
    case = make_case()
    headers = bearer(make_customer_user(customer=case.customer))
    assert api.get(f"/api/v1/cases/{case.pk}/work", headers).status_code == 403
    assert api.post(f"/api/v1/cases/{case.pk}/work", {"seconds": 60}, headers).status_code == 403
    assert not WorkInterval.objects.exists()


def test_the_agent_corrects_their_time_through_the_api_and_only_theirs(api):
    case, agent = make_case(), make_agent()
    interval = work_interval_add(case=case, agent=agent, seconds=600, note="call")
    url = f"/api/v1/cases/{case.pk}/work/{interval.pk}"
    response = api.patch(url, {"seconds": 480}, bearer(agent))
    assert response.status_code == 200, response.content
    assert (response.json()["seconds"], response.json()["note"]) == (480, "call")
    assert response.json()["edited"] is True
    assert logged(case)[-1]["before"] == 600
    # Null clears the note; the length cannot be null.
    assert api.patch(url, {"note": None}, bearer(agent)).json()["note"] == ""
    refused = api.patch(url, {"seconds": None}, bearer(agent))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "seconds"
    other = api.patch(url, {"seconds": 1}, bearer(make_agent()))
    assert other.status_code == 403
    manager = api.patch(url, {"seconds": 300}, bearer(make_user(role=Role.MANAGER)))
    assert manager.status_code == 200 and manager.json()["seconds"] == 300
    elsewhere = f"/api/v1/cases/{make_case().pk}/work/{interval.pk}"
    assert api.patch(elsewhere, {"seconds": 1}, bearer(agent)).status_code == 404
    too_big = f"/api/v1/cases/{case.pk}/work/{2**64}"
    assert api.patch(too_big, {"seconds": 1}, bearer(agent)).status_code in (404, 422)
