"""Exact query counts of the case page, every inbox queue and the case list API.

Each is measured on a desk holding 3 cases of every kind and again after the desk grew to 10
of every kind: both must be the pinned number, so a query per row (an N+1) fails here even
when the page still looks fast. Whoever changes these queries re-pins QUERIES, for both
databases (`DATABASE_URL=postgres://… pytest tests/test_query_counts.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from caseloop.accounts.models import Team, User
from caseloop.cases.models import Case, Category
from caseloop.cases.services import case_update, message_add
from caseloop.customers.models import Customer, PurchaseRecord
from tests.builders import (
    bearer,
    make_agent,
    make_case,
    make_category,
    make_customer,
    make_escalation,
    make_team,
)

pytestmark = pytest.mark.django_db

# Queries per request, by what is measured and by database (connection.vendor).
QUERIES: dict[str, dict[str, int]] = {
    # PostgreSQL's knowledge search adds its typo-tolerant lookup to the case page.
    # The SLA panel and the service-recovery panel read one row each; opening the case
    # marks its notifications read and lists its followers. The composer and the prepared
    # responses panel share one ranking of the macros (none here; see test_macro_ranking).
    "case page": {"sqlite": 67, "postgresql": 68},
    # Each inbox page reads its customers' addresses (shown for customers without a name).
    "inbox mine": {"sqlite": 16, "postgresql": 16},
    "inbox team": {"sqlite": 17, "postgresql": 17},
    "inbox unassigned": {"sqlite": 16, "postgresql": 16},
    "inbox escalated": {"sqlite": 16, "postgresql": 16},
    "inbox waiting": {"sqlite": 16, "postgresql": 16},
    "inbox target": {"sqlite": 16, "postgresql": 16},
    "inbox review": {"sqlite": 16, "postgresql": 16},
    "inbox all": {"sqlite": 16, "postgresql": 16},
    "case list api": {"sqlite": 3, "postgresql": 3},
}

FEW, MANY = 3, 10


def pinned(what: str) -> int:
    return QUERIES[what][connection.vendor]


@dataclass
class Desk:
    """The agent whose pages are measured, a colleague, the agent's team and a category."""

    agent: User
    colleague: User
    team: Team
    category: Category
    kinds: dict[str, list[Case]] = field(default_factory=dict)


def desk_make() -> Desk:
    agent = make_agent()
    return Desk(
        agent=agent,
        colleague=make_agent(),
        team=make_team(name="Kettles", members=[agent]),
        category=make_category(name="Delivery"),
    )


def case_owned_and_waiting(desk: Desk, customer: Customer) -> Case:
    """The agent answered; the customer wrote again. Mine, my team's, waiting on me."""
    case = make_case(
        customer=customer, subject="Kettle still missing", category=desk.category, priority="high"
    )
    message_add(case=case, direction="outbound", text="It left our warehouse.", actor=desk.agent)
    message_add(case=case, direction="inbound", text="The tracking has not moved in days.")
    case_update(case=case, actor=desk.agent, team=desk.team, tags=["delivery", "vip"])
    return case


def case_nobody_answered(desk: Desk, customer: Customer) -> Case:
    """A month-old message nobody answered, which triage could not categorize. Unassigned,
    needs review, past its first-response SLA target."""
    case = make_case(customer=customer, subject="Hello?", text="Can someone call me back?")
    # A month ago: the age is set, not waited for. The SLA clocks are set up after commit,
    # so they count from this age.
    Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - timedelta(days=30))
    return case


def case_escalated_to_agent(desk: Desk, customer: Customer) -> Case:
    """The colleague owns it and escalated it to the agent, who accepted. Escalated to me,
    waiting on me."""
    case = make_case(
        customer=customer,
        subject="Refund for a leaking kettle",
        text="The kettle leaks from the base; I would like my money back.",
        category=desk.category,
        actor=desk.colleague,
    )
    message_add(case=case, direction="note", text="Over my refund limit.", actor=desk.colleague)
    make_escalation(case=case, owner=desk.colleague, solver=desk.agent)
    return case


KINDS = {
    "owned": case_owned_and_waiting,
    "unanswered": case_nobody_answered,
    "escalated": case_escalated_to_agent,
}
# The kinds of case each queue shows (all of them, with 3 and with 10 of each).
QUEUE_KINDS = {
    "mine": ["owned"],
    "team": ["owned"],
    "unassigned": ["unanswered"],
    "escalated": ["escalated"],
    "waiting": ["owned", "escalated"],
    "target": ["unanswered"],
    "review": ["unanswered"],
    "all": ["owned", "unanswered", "escalated"],
}


def desk_grow(desk: Desk, *, to: int, capture) -> None:
    """Cases of every kind until there are `to` of each, each from its own customer, with
    the after-commit work done (triage, acknowledgement, indexing)."""
    for kind, make in KINDS.items():
        cases = desk.kinds.setdefault(kind, [])
        while len(cases) < to:
            with capture(execute=True):
                cases.append(make(desk, make_customer()))


def counted(assert_num_queries, what: str, request):
    """The response of `request`, asserting it ran exactly the pinned number of queries."""
    # Warm up first: the first request after the desk changed rebuilds the similar-cases
    # index the process keeps, and a token's first use records when it was used (at most
    # once a minute). Neither is a cost per row, and either would shift the count.
    request()
    with assert_num_queries(pinned(what)):
        return request()


@pytest.mark.parametrize("queue", list(QUEUE_KINDS))
def test_each_inbox_queue_runs_the_same_queries_for_3_cases_as_for_10(
    client, django_assert_num_queries, django_capture_on_commit_callbacks, queue
):
    desk = desk_make()
    client.force_login(desk.agent)
    for size in (FEW, MANY):
        desk_grow(desk, to=size, capture=django_capture_on_commit_callbacks)
        response = counted(
            django_assert_num_queries,
            f"inbox {queue}",
            lambda: client.get("/inbox/", {"queue": queue}),
        )
        assert response.status_code == 200
        shown = {case.pk for case in response.context["page"].cases}
        assert shown == {c.pk for kind in QUEUE_KINDS[queue] for c in desk.kinds[kind]}


def test_the_case_page_runs_the_same_queries_for_3_cases_and_messages_as_for_10(
    client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    desk = desk_make()
    client.force_login(desk.agent)
    customer = make_customer(name="Ada Lovelace")
    PurchaseRecord.objects.create(
        customer=customer,
        order_id="A-77",
        product="Kettle",
        purchased_at=timezone.now() - timedelta(days=12),
        amount=40,
    )
    with django_capture_on_commit_callbacks(execute=True):
        case = case_escalated_to_agent(desk, customer)
    earlier: list[Case] = []
    for size in (FEW, MANY):
        with django_capture_on_commit_callbacks(execute=True):
            while len(earlier) < size:
                earlier.append(case_owned_and_waiting(desk, customer))
                message_add(case=case, direction="inbound", text="Any news on my refund?")
                message_add(
                    case=case, direction="outbound", text="The specialist has it.", actor=desk.agent
                )
        response = counted(
            django_assert_num_queries, "case page", lambda: client.get(f"/cases/{case.pk}/")
        )
        assert response.status_code == 200
        assert len(response.context["sidebar"]["earlier"]) == size
        assert len(response.context["timeline"]) > 2 * size


def test_the_case_list_api_runs_the_same_queries_for_3_cases_as_for_10(
    api, django_assert_num_queries, django_capture_on_commit_callbacks
):
    desk = desk_make()
    headers = bearer(desk.agent)
    for size in (FEW, MANY):
        desk_grow(desk, to=size, capture=django_capture_on_commit_callbacks)
        response = counted(
            django_assert_num_queries, "case list api", lambda: api.get("/api/v1/cases", headers)
        )
        assert response.status_code == 200
        items = response.json()["items"]
        assert len(items) == size * len(KINDS)
        assert all(item["triage"] is not None for item in items)
