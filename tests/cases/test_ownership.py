import pytest

from caseloop.cases.errors import OwnershipError
from caseloop.cases.models import CaseEvent, Status
from caseloop.cases.services import (
    case_transfer_ownership,
    case_transition,
    case_update,
    message_add,
)
from tests.builders import bearer, make_agent, make_case, make_customer_user

pytestmark = pytest.mark.django_db


def owner_of(case):
    case.refresh_from_db()
    return case.owner


def test_a_case_from_a_customer_has_no_owner_until_an_agent_acts():
    case = make_case()
    assert owner_of(case) is None
    first, second = make_agent(), make_agent()
    message_add(case=case, direction="outbound", text="On it.", actor=first)
    assert owner_of(case) == first
    message_add(case=case, direction="note", text="Looked at it too.", actor=second)
    case_update(case=case, actor=second, priority="high")
    case_transition(case=case, to=Status.PENDING_CUSTOMER, actor=second)
    assert owner_of(case) == first
    assigned = CaseEvent.objects.filter(case=case, kind="owner_assigned")
    assert [(e.data["before"], e.data["after"]) for e in assigned] == [(None, first.pk)]


@pytest.mark.parametrize("first_act", ["note", "update", "transition"])
def test_the_first_agent_to_act_in_any_way_becomes_the_owner(first_act):
    case = make_case()
    agent = make_agent()
    if first_act == "note":
        message_add(case=case, direction="note", text="Checking the carrier.", actor=agent)
    elif first_act == "update":
        case_update(case=case, actor=agent, tags=["carrier"])
    else:
        case_transition(case=case, to=Status.OPEN, actor=agent)
    assert owner_of(case) == agent


def test_an_agent_filing_a_case_owns_it_from_the_start():
    agent = make_agent()
    case = make_case(actor=agent, channel="phone")
    assert owner_of(case) == agent


def test_customers_and_the_system_never_become_owners():
    customer_user = make_customer_user()
    case = make_case(customer=customer_user.customer, actor=customer_user)
    message_add(case=case, direction="inbound", text="Any news?", actor=customer_user)
    message_add(case=case, direction="outbound", text="We received it.", system=True)
    assert owner_of(case) is None
    with pytest.raises(OwnershipError):
        case_transition(case=case, to=Status.OPEN, actor=customer_user)
    with pytest.raises(OwnershipError):
        case_transition(case=case, to=Status.OPEN, actor=None)
    assert owner_of(case) is None
    case.refresh_from_db()
    assert case.status == Status.NEW


def test_ownership_moves_only_by_an_explicit_transfer():
    owner, colleague = make_agent(), make_agent()
    case = make_case()
    message_add(case=case, direction="outbound", text="Hello", actor=owner)
    case_update(case=case, actor=colleague, assignee=colleague, priority="urgent")
    message_add(case=case, direction="outbound", text="I'll solve it", actor=colleague)
    assert owner_of(case) == owner
    case_transfer_ownership(case=case, to_user=colleague, actor=owner, reason="holiday")
    assert owner_of(case) == colleague
    event = CaseEvent.objects.get(case=case, kind="owner_transferred")
    assert event.data == {"before": owner.pk, "after": colleague.pk, "reason": "holiday"}
    assert event.actor == owner


def test_an_open_case_never_loses_its_owner_through_the_whole_loop():
    agent = make_agent()
    case = make_case()
    message_add(case=case, direction="outbound", text="Hello", actor=agent)
    path = [
        Status.PENDING_CUSTOMER,
        Status.OPEN,
        Status.PENDING_INTERNAL,
        Status.SOLVED,
        Status.CLOSED,
        Status.OPEN,
    ]
    for status in path:
        case_transition(case=case, to=status, actor=agent)
        assert owner_of(case) == agent
    message_add(case=case, direction="inbound", text="Thanks!")
    assert owner_of(case) == agent
    with pytest.raises(OwnershipError):
        case_transfer_ownership(case=case, to_user=None, actor=agent)
    assert owner_of(case) == agent


def test_transfer_to_a_customer_is_refused(api):
    agent = make_agent()
    customer_user = make_customer_user()
    case = make_case()
    message_add(case=case, direction="outbound", text="Hello", actor=agent)
    with pytest.raises(OwnershipError):
        case_transfer_ownership(case=case, to_user=customer_user, actor=agent)
    response = api.post(
        f"/api/v1/cases/{case.pk}/ownership", {"to": customer_user.username}, headers=bearer(agent)
    )
    assert response.status_code == 409
    assert "agent" in response.json()["detail"]
    assert owner_of(case) == agent
    assert not CaseEvent.objects.filter(case=case, kind="owner_transferred").exists()


def test_transfer_through_the_api_moves_ownership_and_records_it(api):
    agent, colleague = make_agent(), make_agent()
    case = make_case()
    message_add(case=case, direction="outbound", text="Hello", actor=agent)
    response = api.post(
        f"/api/v1/cases/{case.pk}/ownership",
        {"to": colleague.username, "reason": "shift change"},
        headers=bearer(agent),
    )
    assert response.status_code == 200, response.content
    assert response.json()["owner"]["username"] == colleague.username
    unknown = api.post(
        f"/api/v1/cases/{case.pk}/ownership", {"to": "nobody-here"}, headers=bearer(agent)
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "to"
