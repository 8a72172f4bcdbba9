import pytest

from caseloop.cases.errors import InvalidTransition
from caseloop.cases.models import CaseEvent, Status
from caseloop.cases.services import case_transition
from caseloop.cases.transitions import TRANSITIONS
from tests.builders import make_agent, make_case

pytestmark = pytest.mark.django_db

PATHS = {
    Status.NEW: [],
    Status.OPEN: [Status.OPEN],
    Status.PENDING_CUSTOMER: [Status.OPEN, Status.PENDING_CUSTOMER],
    Status.PENDING_INTERNAL: [Status.OPEN, Status.PENDING_INTERNAL],
    Status.SOLVED: [Status.OPEN, Status.SOLVED],
    Status.CLOSED: [Status.OPEN, Status.SOLVED, Status.CLOSED],
}


def case_in(status, agent):
    case = make_case()
    for step in PATHS[status]:
        case = case_transition(case=case, to=step, actor=agent)
    assert case.status == status
    return case


ALL_PAIRS = [(a, b) for a in Status.values for b in Status.values]


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_every_transition_is_allowed_or_refused_by_the_machine(current, target):
    agent = make_agent()
    case = case_in(current, agent)
    events_before = CaseEvent.objects.filter(case=case).count()
    if target in TRANSITIONS[current]:
        case = case_transition(case=case, to=target, actor=agent)
        assert case.status == target
        event = CaseEvent.objects.filter(case=case, kind="status_changed").last()
        assert event.data["before"] == current and event.data["after"] == target
    else:
        with pytest.raises(InvalidTransition) as raised:
            case_transition(case=case, to=target, actor=agent)
        assert current in str(raised.value)
        assert raised.value.allowed == sorted(TRANSITIONS[current], key=Status.values.index)
        case.refresh_from_db()
        assert case.status == current
        assert CaseEvent.objects.filter(case=case).count() == events_before


def test_reopen_clears_solved_and_closed_times():
    agent = make_agent()
    case = case_in(Status.CLOSED, agent)
    assert case.solved_at and case.closed_at
    case = case_transition(case=case, to=Status.OPEN, actor=agent)
    assert case.solved_at is None and case.closed_at is None
    assert CaseEvent.objects.filter(case=case, kind="status_changed").last().data["reopened"]
