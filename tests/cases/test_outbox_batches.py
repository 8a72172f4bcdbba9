"""Effects that only write to the database share one transaction per batch: fewer
statements, and a failure among them still leaves every effect with its own outcome."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from caseloop.cases import hooks, outbox
from caseloop.cases.models import CaseEvent, Message, OutboxEffect
from caseloop.cases.services import message_add
from tests.builders import make_agent, make_case

pytestmark = pytest.mark.django_db


NOTED = CaseEvent.Kind.TAGS_CHANGED  # any kind: the rows carry the effect's number


def _note(payload):
    case_id = payload["case"]
    if not CaseEvent.objects.filter(case_id=case_id, data__test_n=payload["n"]).exists():
        CaseEvent.objects.create(case_id=case_id, kind=NOTED, data={"test_n": payload["n"]})


def _broken(payload):
    _note(payload)  # writes, then fails: its write must not survive
    raise RuntimeError("the effect breaks")


def _swallowed(payload):
    """Fails inside a nested atomic block and hides the failure, as a get-or-create that
    loses a race does; then writes on."""
    try:
        with transaction.atomic():
            CaseEvent.objects.create(case_id=payload["case"], kind=NOTED, data={"test_n": -1})
            raise IntegrityError("lost a race")
    except IntegrityError:
        pass
    _note(payload)


@pytest.fixture(autouse=True)
def _effect_types():
    outbox.effect_type_register("test.note", _note, database_only=True)
    outbox.effect_type_register("test.broken", _broken, database_only=True, max_attempts=3)
    outbox.effect_type_register("test.swallowed", _swallowed, database_only=True)
    yield
    for kind in ("test.note", "test.broken", "test.swallowed"):
        outbox._types.pop(kind, None)


def _record(case, kind, n):
    return outbox.effect_record(kind=kind, payload={"case": case.pk, "n": n}, case_id=case.pk)


def test_database_only_effects_of_a_batch_run_in_one_transaction_and_are_marked_done_together():
    case = make_case()
    effects = [_record(case, "test.note", n) for n in range(4)]
    with CaptureQueriesContext(connection) as run:
        assert outbox.effects_run([e.pk for e in effects]) == 4
    marked_done = [q for q in run.captured_queries if "\"state\" = 'done'" in q["sql"]]
    assert len(marked_done) == 1
    # All or nothing by design, so the effects' own atomic blocks open no savepoints (the
    # one left is the batch's transaction, nested in the test's).
    opened = [q for q in run.captured_queries if q["sql"].upper().startswith("SAVEPOINT")]
    assert len(opened) == 1
    assert OutboxEffect.objects.filter(pk__in=[e.pk for e in effects], state="done").count() == 4
    noted = CaseEvent.objects.filter(case=case, data__test_n__isnull=False)
    assert sorted(noted.values_list("data__test_n", flat=True)) == [0, 1, 2, 3]


def test_when_one_effect_of_a_batch_fails_the_others_still_happen_once_and_it_keeps_its_error():
    case = make_case()
    first = _record(case, "test.note", 1)
    broken = _record(case, "test.broken", 2)
    last = _record(case, "test.note", 3)
    outbox.effects_run([first.pk, broken.pk, last.pk])
    for effect in (first, broken, last):
        effect.refresh_from_db()
    assert first.state == last.state == "done" and first.attempts == last.attempts == 1
    assert broken.state == "pending" and broken.attempts == 1
    assert "the effect breaks" in broken.last_error
    noted = CaseEvent.objects.filter(case=case, data__test_n__isnull=False)
    # The broken effect's own write was rolled back; the others wrote exactly once.
    assert sorted(noted.values_list("data__test_n", flat=True)) == [1, 3]


def test_a_failure_caught_inside_a_batch_rolls_the_batch_back_and_each_effect_runs_alone():
    """Without savepoints a caught failure cannot be undone on its own: the batch is not
    committed half-done, and run one by one (with savepoints) each effect happens once."""
    case = make_case()
    first = _record(case, "test.note", 1)
    swallowed = _record(case, "test.swallowed", 2)
    last = _record(case, "test.note", 3)
    outbox.effects_run([first.pk, swallowed.pk, last.pk])
    for effect in (first, swallowed, last):
        effect.refresh_from_db()
        assert effect.state == "done" and effect.attempts == 1
    noted = CaseEvent.objects.filter(case=case, data__test_n__isnull=False)
    assert sorted(noted.values_list("data__test_n", flat=True)) == [1, 2, 3]


def test_an_effect_that_reaches_outside_the_database_runs_in_a_transaction_of_its_own():
    assert outbox._types["message.deliver"].database_only is False
    reaction = next(kind for kind in outbox._types if kind.startswith("case_created:"))
    assert outbox._types[reaction].database_only is True


def _kinds(case):
    return {
        e.kind.split(".")[-1]
        for e in OutboxEffect.objects.filter(case_id=case.pk, kind__startswith="message_added:")
    }


def test_an_automatic_message_records_no_reaction_that_would_have_nothing_to_do():
    case = make_case()
    OutboxEffect.objects.all().delete()
    message_add(case=case, direction="outbound", text="We got your message.", system=True)
    kinds = _kinds(case)
    # Indexed for search, but no mood (not the customer's), no SLA clock, no notification,
    # no work time.
    assert "message_index_hook" in kinds
    assert not kinds & {"message_added", "message_notify", "work_message_added"}


def test_a_customer_reply_and_an_agent_reply_record_the_reactions_they_need():
    agent = make_agent()
    case = make_case(actor=agent)
    OutboxEffect.objects.all().delete()
    message_add(case=case, direction="inbound", text="It still leaks.")
    assert {"message_added", "message_notify", "message_index_hook"} <= _kinds(case)
    assert "work_message_added" not in _kinds(case)
    OutboxEffect.objects.all().delete()
    message_add(case=case, direction="outbound", text="Sending a new one.", actor=agent)
    kinds = _kinds(case)
    assert {"message_added", "work_message_added"} <= kinds  # the SLA clock and work time
    assert "message_notify" not in kinds
    assert Message.objects.filter(case=case, direction="outbound").exists()


def test_a_reaction_can_decline_a_message_from_its_facts():
    seen = []

    def on_reply(message_id):
        seen.append(message_id)

    hooks.on_message_added(on_reply, wants=lambda facts: facts.direction == "outbound")
    try:
        agent = make_agent()
        case = make_case(actor=agent)
        message_add(case=case, direction="inbound", text="Hello?")
        reply = message_add(case=case, direction="outbound", text="Hello!", actor=agent)
        outbox.effects_sweep()
    finally:
        hooks.unregister(on_reply)
    assert seen == [reply.pk]
