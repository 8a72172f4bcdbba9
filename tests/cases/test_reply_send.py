"""reply_send: only the coach's holding findings stop a reply; "send and set status" moves
the case in the reply's own transaction."""

import pytest

from caseloop.cases.errors import CaseError, InvalidTransition, ReplyObjection
from caseloop.cases.extensions import _solve_checks, solve_check_register
from caseloop.cases.models import Case, CaseEvent, Status
from caseloop.cases.services import case_transition, reply_send
from caseloop.coach.models import CoachOverride
from tests.builders import make_agent, make_case

pytestmark = pytest.mark.django_db


def outbound(case):
    return case.messages.filter(direction="outbound")


def test_advice_alone_never_holds_a_reply_and_counts_no_override():
    agent = make_agent()
    case = make_case()
    # "A promise of action should say when": advice.
    reply_send(case=case, actor=agent, text="I will look into it.")
    assert outbound(case).count() == 1
    assert not CoachOverride.objects.exists()


def test_a_holding_finding_refuses_the_reply_with_every_finding_until_sent_anyway():
    agent = make_agent()
    case = make_case()
    text = "You should have read the manual. I will look into it."
    with pytest.raises(ReplyObjection) as refused:
        reply_send(case=case, actor=agent, text=text)
    assert {f.rule_id: f.blocks for f in refused.value.findings} == {
        "no-blame": True,
        "promise-when": False,
    }
    assert not outbound(case).exists()
    reply_send(case=case, actor=agent, text=text, send_anyway=True)
    assert outbound(case).count() == 1
    # What was overridden is what held the reply, not the advice.
    assert CoachOverride.objects.get().rule_ids == ["no-blame"]


@pytest.mark.parametrize("then", [Status.PENDING_CUSTOMER, Status.SOLVED])
def test_send_and_set_status_moves_a_new_case_on_with_the_reply(then):
    agent = make_agent()
    case = make_case()
    message = reply_send(
        case=case, actor=agent, text="Your parcel arrives on Friday before noon.", then_status=then
    )
    case.refresh_from_db()
    assert case.status == then
    kinds = list(
        CaseEvent.objects.filter(case=case)
        .exclude(kind__in=["created", "message_added", "owner_assigned", "problem_recorded"])
        .values_list("kind", "data")
    )
    assert kinds == [
        ("status_changed", {"before": "new", "after": "open", "reason": "agent acted"}),
        ("status_changed", {"before": "open", "after": then}),
    ]
    assert message.case_id == case.pk


def test_send_and_set_status_to_where_the_case_already_is_just_sends():
    agent = make_agent()
    case = make_case()
    case_transition(case=case, to="open", actor=agent)
    case_transition(case=case, to="pending_customer", actor=agent)
    reply_send(
        case=case,
        actor=agent,
        text="A reminder: your label is attached.",
        then_status="pending_customer",
    )
    case.refresh_from_db()
    assert case.status == "pending_customer" and outbound(case).count() == 1


def test_a_move_the_case_may_not_make_sends_nothing():
    agent = make_agent()
    case = make_case()
    case_transition(case=case, to="open", actor=agent)
    case_transition(case=case, to="solved", actor=agent)
    with pytest.raises(InvalidTransition):
        reply_send(case=case, actor=agent, text="One more thing.", then_status="pending_customer")
    with pytest.raises(InvalidTransition):
        reply_send(case=case, actor=agent, text="One more thing.", then_status="elsewhere")
    assert not outbound(case).exists()


def test_a_check_refusing_to_solve_rolls_the_reply_back_with_it():
    agent = make_agent()
    case = make_case()

    class NotYet(CaseError):
        code = "not_yet"

    def refuse(case, actor):
        raise NotYet("the remedy needs a manager's approval first")

    solve_check_register("test.refuse", refuse)
    try:
        with pytest.raises(NotYet):
            reply_send(case=case, actor=agent, text="Refunded today.", then_status="solved")
    finally:
        _solve_checks.pop("test.refuse", None)
    assert not outbound(case).exists()
    assert Case.objects.get(pk=case.pk).status == "new"
