import re

import pytest

from caseloop.cases.models import CaseEvent, Status
from caseloop.cases.services import case_transition, case_update, message_add
from caseloop.web.models import SavedView
from caseloop.web.selectors import InboxParams, inbox_page
from tests.automation.support import at, sla_effects_run, step
from tests.builders import make_agent, make_case, make_customer, make_team

pytestmark = pytest.mark.django_db

# On the default schedule, Monday to Friday 09:00–17:00 UTC.
MONDAY = (2026, 11, 30)


def refs(response):
    return {case.reference for case in response.context["page"].cases}


@pytest.fixture
def agent(client):
    agent = make_agent()
    client.force_login(agent)
    return agent


def test_each_queue_shows_the_cases_that_belong_to_it(client, agent):
    other = make_agent()
    team = make_team(members=[agent])
    mine = make_case(subject="mine")
    case_transition(case=mine, to=Status.OPEN, actor=agent)
    unassigned = make_case(subject="nobody yet")
    team_case = make_case(subject="team")
    case_update(case=team_case, actor=other, team=team)
    escalated = make_case(subject="escalated")
    case_update(case=escalated, actor=other, assignee=agent)
    internal = make_case(subject="internal")
    case_transition(case=internal, to=Status.OPEN, actor=other)
    case_update(case=internal, actor=other, assignee=agent)
    case_transition(case=internal, to=Status.PENDING_INTERNAL, actor=other)
    replied = make_case(subject="replied")
    message_add(case=replied, direction="outbound", text="On it.", actor=agent)
    message_add(case=replied, direction="inbound", text="Any news?")
    acknowledged = make_case(subject="acknowledged")
    case_transition(case=acknowledged, to=Status.OPEN, actor=agent)
    message_add(case=acknowledged, direction="outbound", text="We have it.", system=True)
    answered = make_case(subject="answered")
    message_add(case=answered, direction="outbound", text="Done.", actor=agent)
    closed = make_case(subject="closed")
    case_transition(case=closed, to=Status.OPEN, actor=agent)
    case_transition(case=closed, to=Status.SOLVED, actor=agent)

    queue = lambda name: refs(client.get("/inbox/", {"queue": name}))  # noqa: E731
    assert queue("mine") == {
        mine.reference,
        replied.reference,
        acknowledged.reference,
        answered.reference,
    }
    assert queue("unassigned") == {unassigned.reference}
    assert queue("team") == {team_case.reference}
    assert queue("escalated") == {escalated.reference, internal.reference}
    # "mine" has never been answered, so it waits on its owner as well; an automatic
    # acknowledgement is no answer, an agent's reply is.
    assert queue("waiting") == {
        mine.reference,
        internal.reference,
        replied.reference,
        acknowledged.reference,
    }
    assert closed.reference in queue("all")


def test_the_review_queue_holds_open_cases_triage_could_not_categorize(client, agent):
    unsure = make_case(subject="Hello?")
    case_update(case=unsure, actor=None, tags=["needs-review"])
    done = make_case(subject="Sorted")
    case_update(case=done, actor=None, tags=["needs-review"])
    case_transition(case=done, to=Status.OPEN, actor=agent)
    case_transition(case=done, to=Status.SOLVED, actor=agent)
    make_case(subject="Categorized")
    response = client.get("/inbox/", {"queue": "review"})
    assert refs(response) == {unsure.reference}
    assert response.context["counts"]["review"] == 1
    assert 'data-queue="review"' in response.content.decode()


def subjects(response):
    return [case.subject for case in response.context["page"].cases]


def test_the_near_target_queue_holds_open_cases_near_or_past_an_sla_target_most_urgent_first(
    client, agent
):
    with step(at(*MONDAY, 9)):
        soon = make_case(subject="soon", priority="high")  # due 11:00, the warning from 10:30
        overdue = make_case(subject="overdue", priority="urgent")  # due 10:00
        later = make_case(subject="later")  # due 13:00, the warning from 12:00
        answered = make_case(subject="answered", priority="urgent")
        solved = make_case(subject="solved", priority="urgent")
    with step(at(*MONDAY, 9, 30)):
        message_add(case=answered, direction="outbound", text="On it.", actor=agent)
        case_transition(case=solved, to=Status.OPEN, actor=agent)
        case_transition(case=solved, to=Status.SOLVED, actor=agent)
        sla_effects_run()
    with step(at(*MONDAY, 10, 40)):
        response = client.get("/inbox/", {"queue": "target"})
        oldest_first = client.get("/inbox/", {"queue": "target", "sort": "oldest"})
        live_soon = client.get(f"/inbox/row/{soon.pk}/", {"queue": "target"})
        live_later = client.get(f"/inbox/row/{later.pk}/", {"queue": "target"})
    assert response.context["page"].cases == [overdue, soon]
    html = response.content.decode()
    rows = re.findall(r'<tr id="case-\d+".*?</tr>', html, re.S)
    assert 'data-sla="breached"' in rows[0] and "First response overdue by 40m" in rows[0]
    assert 'data-sla="warning"' in rows[1] and "First response due in 20m" in rows[1]
    # The queue's own order is its default; the other orders still apply to it.
    assert 'value="urgency" selected' in html
    assert subjects(oldest_first) == ["soon", "overdue"]
    assert live_soon.status_code == 200 and live_later.status_code == 204
    assert InboxParams.from_query({"queue": "all", "sort": "urgency"}).sort == "newest"


def test_the_near_target_queue_pages_most_urgent_first_without_gaps_or_overlap(client, agent):
    with step(at(*MONDAY, 9)):
        for n, priority in enumerate(["low", "urgent", "high", "normal", "urgent"]):
            make_case(subject=f"late {n}", priority=priority)
        sla_effects_run()
    params = InboxParams.from_query({"queue": "target"})
    seen, cursor = [], ""
    with step(at(*MONDAY, 17, 30)):
        while True:
            page = inbox_page(user=agent, params=params, cursor=cursor, limit=1)
            seen += [case.subject for case in page.cases]
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        # A cursor another order handed out starts the queue again.
        stale = client.get("/inbox/", {"queue": "target", "cursor": "MTIz"})
    # Due 17:00, 10:00, 11:00, 13:00 and 10:00: the longest overdue first, then by id.
    assert seen == ["late 1", "late 4", "late 2", "late 3", "late 0"]
    assert subjects(stale) == seen


def test_filters_narrow_the_queue(client, agent):
    urgent = make_case(subject="Boiler flooding", priority="urgent", channel="phone")
    make_case(subject="Invoice copy", priority="low")
    case_update(case=urgent, actor=agent, tags=["vip"])
    base = {"queue": "all"}
    assert refs(client.get("/inbox/", {**base, "priority": "urgent"})) == {urgent.reference}
    assert refs(client.get("/inbox/", {**base, "channel": "phone"})) == {urgent.reference}
    assert refs(client.get("/inbox/", {**base, "q": "boiler"})) == {urgent.reference}
    assert refs(client.get("/inbox/", {**base, "q": urgent.reference})) == {urgent.reference}
    assert refs(client.get("/inbox/", {**base, "tag": "vip"})) == {urgent.reference}
    assert refs(client.get("/inbox/", {**base, "status": "solved"})) == set()


def test_a_text_search_also_finds_cases_by_their_conversation(
    client, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # messages are indexed on commit
        kettle = make_case(subject="Broken on arrival", text="The kettle lid snapped off")
        make_case(subject="Refund", text="The toaster never arrived")
        noted = make_case(subject="Call me back", text="Please ring after five")
        message_add(case=noted, direction="note", text="Kettle replacement sent", actor=agent)
    base = {"queue": "all"}
    assert refs(client.get("/inbox/", {**base, "q": "kettle"})) == {
        kettle.reference,
        noted.reference,
    }
    # Every word must be in one message, as an inbox filter should narrow, not widen.
    assert refs(client.get("/inbox/", {**base, "q": "kettle lid"})) == {kettle.reference}
    assert refs(client.get("/inbox/", {**base, "q": "refund"})) != set()


def test_a_misspelt_search_is_corrected_to_the_knowledge_base_vocabulary(client, agent):
    from caseloop.knowledge.search import terms_learn

    terms_learn(texts=["Refund policy for damaged parcels"])
    refund = make_case(subject="Refund for a damaged parcel")
    make_case(subject="Password reset")
    response = client.get("/inbox/", {"queue": "all", "q": "Refnd"})
    assert refs(response) == {refund.reference}
    assert response.context["page"].corrected_query == "Refund"
    body = response.content.decode()
    assert "Nothing matched “Refnd”" in body and 'value="Refund"' in body
    # What matches as typed is never second-guessed; nothing close is no correction.
    exact = client.get("/inbox/", {"queue": "all", "q": "password"})
    assert exact.context["page"].corrected_query == ""
    nothing = client.get("/inbox/", {"queue": "all", "q": "zzzqx"})
    assert refs(nothing) == set() and nothing.context["page"].corrected_query == ""


def test_pages_follow_the_cursor_in_either_order_without_overlap(client, agent):
    cases = [make_case(subject=f"case {n}") for n in range(7)]
    seen = []
    cursor = ""
    while True:
        response = client.get("/inbox/", {"queue": "all", "sort": "oldest", "cursor": cursor})
        page = response.context["page"]
        seen += [c.pk for c in page.cases]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
        assert len(page.cases) == 50 or not page.next_cursor
    assert seen == sorted(c.pk for c in cases)


def _walk_pages(client, sort: str, max_queries) -> tuple[list[int], int]:
    """Every case of the all-cases queue in `sort` order, page by page: (ids, pages)."""
    seen, cursor, pages = [], "", 0
    while True:
        with max_queries(40):
            response = client.get("/inbox/", {"queue": "all", "sort": sort, "cursor": cursor})
        page = response.context["page"]
        seen += [c.pk for c in page.cases]
        pages += 1
        if not page.next_cursor:
            return seen, pages
        cursor = page.next_cursor


def test_priority_sort_pages_highest_first_then_newest_without_gaps_or_overlap(
    client, agent, django_assert_max_num_queries
):
    customer = make_customer()
    priorities = ["low", "urgent", "normal", "high", "normal", "low", "normal"]
    cases = [
        make_case(subject=f"p{n}", customer=customer, priority=priorities[n % 7]) for n in range(60)
    ]
    rank = {"urgent": 3, "high": 2, "normal": 1, "low": 0}
    expected = [c.pk for c in sorted(cases, key=lambda c: (-rank[c.priority], -c.pk))]
    seen, pages = _walk_pages(client, "priority", django_assert_max_num_queries)
    assert pages == 2
    assert seen == expected
    assert (
        "More cases" in client.get("/inbox/", {"queue": "all", "sort": "priority"}).content.decode()
    )
    # Filters still apply, and a cursor it cannot read starts again rather than failing.
    urgent = client.get("/inbox/", {"queue": "all", "sort": "priority", "priority": "urgent"})
    assert {c.priority for c in urgent.context["page"].cases} == {"urgent"}
    for garbage in ["!!!", "MTIz", "x.y"]:
        response = client.get("/inbox/", {"queue": "all", "sort": "priority", "cursor": garbage})
        assert response.status_code == 200


def test_waiting_longest_pages_the_longest_waits_first_then_the_answered_newest_first(
    client, agent, django_assert_max_num_queries
):
    from datetime import timedelta

    from django.utils import timezone

    from caseloop.cases.models import Case, Message

    customer = make_customer()
    cases = [make_case(subject=f"w{n}", customer=customer) for n in range(60)]
    now = timezone.now()
    answered = cases[::10]  # 54 wait: the first page ends inside the waiting walk
    for case in answered:
        message_add(case=case, direction=Message.Direction.OUTBOUND, text="Hi", actor=agent)
    waits = {}
    for n, case in enumerate(c for c in cases if c not in answered):
        # Some share a wait to the microsecond: the id breaks the tie.
        waits[case.pk] = now - timedelta(minutes=(n * 7) % 23)
        Case.objects.filter(pk=case.pk).update(awaiting_reply_since=waits[case.pk])
    expected = sorted(waits, key=lambda pk: (waits[pk], pk)) + sorted(
        (c.pk for c in answered), reverse=True
    )
    seen, pages = _walk_pages(client, "waiting", django_assert_max_num_queries)
    assert pages == 2
    assert seen == expected
    first_page = client.get("/inbox/", {"queue": "all", "sort": "waiting"}).content.decode()
    assert "waiting 22\xa0minutes" in first_page
    for garbage in ["!!!", "MTIz", "bnw", "d25vdGFkYXRlfDE"]:
        response = client.get("/inbox/", {"queue": "all", "sort": "waiting", "cursor": garbage})
        assert response.status_code == 200


def test_keyset_pages_of_fifty(client, agent):
    customer = make_customer()
    for n in range(55):
        make_case(subject=f"bulk {n}", customer=customer)
    first = client.get("/inbox/", {"queue": "all"}).context["page"]
    assert len(first.cases) == 50 and first.next_cursor
    second = client.get(
        "/inbox/", {"queue": "all", "cursor": first.next_cursor}, headers={"HX-Request": "true"}
    )
    assert second.templates[0].name == "web/partials/inbox_rows.html"
    assert len(second.context["page"].cases) == 5
    assert not {c.pk for c in first.cases} & {c.pk for c in second.context["page"].cases}


def test_a_garbage_cursor_is_an_empty_page_not_an_error(client, agent):
    make_case()
    response = client.get("/inbox/", {"queue": "all", "cursor": "!!!"})
    assert response.status_code == 200


def test_the_inbox_query_count_does_not_grow_with_the_cases(
    client, agent, django_assert_max_num_queries
):
    team = make_team(members=[agent])
    for n in range(5):
        case = make_case(subject=f"first {n}")
        case_update(case=case, actor=agent, team=team, tags=["a", "b"], assignee=make_agent())
    with django_assert_max_num_queries(30) as few:
        client.get("/inbox/", {"queue": "all"})
    for n in range(25):
        case = make_case(subject=f"more {n}")
        case_update(case=case, actor=agent, team=team, tags=["c"], assignee=make_agent())
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/inbox/", {"queue": "all"})
    assert len(response.context["page"].cases) == 30


def test_saved_views_keep_the_query_and_belong_to_their_agent(client, agent):
    query = "queue=all&priority=urgent"
    response = client.post("/inbox/views/", {"name": "Hot kettles", "query": query})
    assert response.status_code == 302
    view = SavedView.objects.get(user=agent)
    assert view.query == query
    page = client.get("/inbox/")
    assert b"Hot kettles" in page.content and b"?queue=all&amp;priority=urgent" in page.content
    other = make_agent()
    client.force_login(other)
    assert b"Hot kettles" not in client.get("/inbox/").content
    client.post(f"/inbox/views/{view.pk}/delete/")
    assert SavedView.objects.filter(pk=view.pk).exists()
    client.force_login(agent)
    client.post(f"/inbox/views/{view.pk}/delete/")
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_bulk_assign_status_and_tag_write_events(client, agent):
    solver = make_agent()
    a, b = make_case(), make_case()
    ids = [a.pk, b.pk]
    client.post("/inbox/bulk/", {"cases": ids, "action": "assign", "value_assign": solver.pk})
    for case in (a, b):
        case.refresh_from_db()
        assert case.owner_id == solver.pk and case.assignee_id == solver.pk
        assert case.events.filter(kind=CaseEvent.Kind.OWNER_TRANSFERRED).exists()
        assert case.events.filter(kind=CaseEvent.Kind.ASSIGNEE_CHANGED).exists()
    client.post("/inbox/bulk/", {"cases": ids, "action": "status", "value_status": "open"})
    client.post("/inbox/bulk/", {"cases": ids, "action": "tag", "value_tag": "recall, kettle"})
    for case in (a, b):
        case.refresh_from_db()
        assert case.status == Status.OPEN
        assert set(case.tags.values_list("name", flat=True)) == {"recall", "kettle"}
        assert case.events.filter(kind=CaseEvent.Kind.TAGS_CHANGED).exists()


def test_a_refused_bulk_transition_is_reported_and_others_still_happen(client, agent):
    fresh = make_case()
    opened = make_case()
    case_transition(case=opened, to=Status.OPEN, actor=agent)
    response = client.post(
        "/inbox/bulk/",
        {"cases": [fresh.pk, opened.pk], "action": "status", "value_status": "solved"},
        follow=True,
    )
    opened.refresh_from_db()
    fresh.refresh_from_db()
    assert opened.status == Status.SOLVED and fresh.status == Status.NEW
    assert b"cannot move a case from" in response.content


def test_bulk_merge_moves_everything_into_the_oldest(client, agent):
    customer = make_customer()
    older = make_case(customer=customer, text="first")
    newer = make_case(customer=customer, text="second")
    client.post("/inbox/bulk/", {"cases": [newer.pk, older.pk], "action": "merge"})
    newer.refresh_from_db()
    assert newer.status == Status.CLOSED
    assert list(older.messages.values_list("text", flat=True)) == ["first", "second"]
    assert newer.events.filter(kind="merged_into", data__target=older.pk).exists()


def test_the_live_row_endpoint_answers_only_for_cases_in_the_queue(client, agent):
    case = make_case()
    assert client.get(f"/inbox/row/{case.pk}/", {"queue": "unassigned"}).status_code == 200
    assert client.get(f"/inbox/row/{case.pk}/", {"queue": "mine"}).status_code == 204
    row = client.get(f"/inbox/row/{case.pk}/", {"queue": "all"})
    assert f'id="case-{case.pk}"'.encode() in row.content


def test_customers_cannot_use_the_inbox(client):
    from tests.builders import make_customer_user

    client.force_login(make_customer_user())
    assert client.get("/inbox/").status_code == 403
    assert client.post("/inbox/bulk/", {"action": "tag"}).status_code == 403
