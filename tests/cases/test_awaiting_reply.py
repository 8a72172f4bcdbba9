"""How long a customer has waited for a reply: set when they write, kept while more of
their messages arrive, cleared by an agent's reply or when the case stops waiting on us."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from caseloop.cases.models import Case, Message, Status
from caseloop.cases.services import case_merge, case_transition, message_add
from tests.builders import make_agent, make_case, make_customer

pytestmark = pytest.mark.django_db


def _reload(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def test_a_new_case_waits_until_an_agent_replies_and_again_when_the_customer_writes():
    agent = make_agent()
    case = make_case()
    since = _reload(case).awaiting_reply_since
    assert since is not None
    # An automatic acknowledgement is no answer.
    message_add(case=case, direction=Message.Direction.OUTBOUND, text="We have it.", system=True)
    assert _reload(case).awaiting_reply_since == since
    # Nor is an internal note.
    message_add(case=case, direction=Message.Direction.NOTE, text="Checking stock", actor=agent)
    assert _reload(case).awaiting_reply_since == since
    message_add(case=case, direction=Message.Direction.OUTBOUND, text="On its way.", actor=agent)
    assert _reload(case).awaiting_reply_since is None
    first = message_add(case=case, direction=Message.Direction.INBOUND, text="Still nothing.")
    second = message_add(case=case, direction=Message.Direction.INBOUND, text="Hello?")
    # The wait is counted from the oldest message still without an answer.
    assert first.created_at <= _reload(case).awaiting_reply_since < second.created_at


def test_an_out_of_office_reply_does_not_start_a_wait():
    agent = make_agent()
    case = make_case()
    message_add(case=case, direction=Message.Direction.OUTBOUND, text="Answer", actor=agent)
    message_add(
        case=case,
        direction=Message.Direction.INBOUND,
        text="I am away until Monday.",
        metadata={"auto_reply": True},
    )
    assert _reload(case).awaiting_reply_since is None


@pytest.mark.parametrize("status", [Status.PENDING_CUSTOMER, Status.SOLVED])
def test_a_case_that_no_longer_waits_on_the_desk_has_no_wait(status):
    agent = make_agent()
    case = make_case()
    case_transition(case=case, to=Status.OPEN, actor=agent)
    assert _reload(case).awaiting_reply_since is not None
    case_transition(case=case, to=status, actor=agent)
    assert _reload(case).awaiting_reply_since is None
    # The customer writing again starts a new wait, from now.
    before = timezone.now()
    message_add(case=case, direction=Message.Direction.INBOUND, text="It broke again.")
    assert _reload(case).awaiting_reply_since >= before


def test_a_merge_keeps_the_longer_wait_and_the_closed_source_waits_no_more():
    agent = make_agent()
    customer = make_customer()
    older = make_case(customer=customer, subject="older")
    newer = make_case(customer=customer, subject="newer")
    long_ago = timezone.now() - timedelta(hours=5)
    Case.objects.filter(pk=older.pk).update(awaiting_reply_since=long_ago)
    case_merge(source=_reload(older), target=_reload(newer), actor=agent)
    assert _reload(newer).awaiting_reply_since == long_ago
    assert _reload(older).awaiting_reply_since is None


def test_the_migration_backfills_the_wait_from_the_conversation():
    agent = make_agent()
    replied = make_case(subject="replied")
    message_add(case=replied, direction=Message.Direction.OUTBOUND, text="Done", actor=agent)
    waiting = make_case(subject="waiting")
    message_add(case=waiting, direction=Message.Direction.OUTBOUND, text="Ack", system=True)
    wrote_back = make_case(subject="wrote back")
    message_add(case=wrote_back, direction=Message.Direction.OUTBOUND, text="Answer", actor=agent)
    again = message_add(case=wrote_back, direction=Message.Direction.INBOUND, text="But why?")
    message_add(case=wrote_back, direction=Message.Direction.INBOUND, text="Hello?")
    solved = make_case(subject="solved")
    case_transition(case=solved, to=Status.OPEN, actor=agent)
    case_transition(case=solved, to=Status.SOLVED, actor=agent)
    first_of_waiting = Message.objects.filter(case=waiting).earliest("id").created_at
    Case.objects.update(awaiting_reply_since=None)

    migration = importlib.import_module("caseloop.cases.migrations.0007_case_awaiting_reply_since")
    migration.awaiting_backfill(apps, None)

    assert _reload(replied).awaiting_reply_since is None
    assert _reload(waiting).awaiting_reply_since == first_of_waiting
    assert _reload(wrote_back).awaiting_reply_since == again.created_at
    assert _reload(solved).awaiting_reply_since is None
