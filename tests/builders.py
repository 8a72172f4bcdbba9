"""Small builders for tests: `make_case(**overrides)` and friends. One place, no fixtures."""

from __future__ import annotations

import itertools
import uuid

from caseloop.accounts.models import Role, Team, User
from caseloop.accounts.services import token_issue, user_create
from caseloop.cases.loop import escalations as loop_escalations, facts as loop_facts
from caseloop.cases.models import Case, Category, Escalation
from caseloop.cases.services import case_create
from caseloop.customers.models import Customer
from caseloop.customers.services import Identity, customer_find_or_create

_seq = itertools.count(1)


def make_user(
    *,
    role: str = Role.AGENT,
    tier: int = 1,
    username: str | None = None,
    password: str | None = "pw",
    **extra,
) -> User:
    n = next(_seq)
    return user_create(
        username=username or f"{role}{n}",
        email=f"{role}{n}@desk.test",
        role=role,
        tier=tier,
        password=password,
        **extra,
    )


def make_agent(**extra) -> User:
    return make_user(role=Role.AGENT, **extra)


def make_customer(*, email: str | None = None, name: str = "", **identity) -> Customer:
    n = next(_seq)
    return customer_find_or_create(
        identity=Identity(
            email=email or f"customer{n}@example.com", name=name or f"Customer {n}", **identity
        )
    )


def make_customer_user(*, customer: Customer | None = None) -> User:
    customer = customer or make_customer()
    return make_user(role=Role.CUSTOMER, customer=customer)


def make_team(*, name: str | None = None, members: list[User] = ()) -> Team:
    n = next(_seq)
    name = name or f"Team {n}"
    team = Team.objects.create(name=name, slug=name.lower().replace(" ", "-"))
    team.members.add(*members)
    return team


def make_category(*, name: str | None = None) -> Category:
    name = name or f"Category {next(_seq)}"
    return Category.objects.get_or_create(
        name=name, defaults={"slug": name.lower().replace(" ", "-")}
    )[0]


def make_case(
    *,
    customer: Customer | None = None,
    subject: str = "My order never arrived",
    text: str = "I ordered a kettle two weeks ago and it has not arrived.",
    channel: str = "email",
    actor: User | None = None,
    **overrides,
) -> Case:
    return case_create(
        customer=customer or make_customer(),
        subject=subject,
        text=text,
        channel=channel,
        actor=actor,
        **overrides,
    )


def bearer(user: User) -> dict:
    """Headers for an API request authenticated as `user`."""
    return {"Authorization": f"Bearer {token_issue(user=user)}"}


_addresses = itertools.count(1)


def fresh_address() -> str:
    """A client address no other test used, so per-address rate limits kept in a shared
    cache (Redis in the PostgreSQL run) never leak between tests or runs."""
    return f"fd00::{uuid.uuid4().hex[:4]}:{next(_addresses):x}"


def make_escalation(*, case: Case, owner: User, solver: User, accept: bool = True) -> Escalation:
    """`owner` records the facts every hand-off needs and escalates `case` to `solver`, who
    accepts it (and becomes the assignee) unless `accept` is false."""
    loop_facts.fact_record(case=case, key="problem_at", value="2026-11-20 14:30", actor=owner)
    loop_facts.fact_record(case=case, key="nature", value=case.subject, actor=owner)
    escalation = loop_escalations.case_escalate(
        case=case, actor=owner, reason="needs a specialist", to_user=solver
    )
    if accept:
        escalation = loop_escalations.escalation_accept(escalation=escalation, solver=solver)
    return escalation
