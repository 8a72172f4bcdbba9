"""The outbox: side effects recorded with their change, run at least once, retried with
backoff, given up with a reason, and run again after a dispatcher died."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from caseloop.cases import outbox
from caseloop.cases.models import CaseEvent, Message, OutboxEffect
from caseloop.cases.services import message_add
from tests.builders import make_agent, make_case

pytestmark = pytest.mark.django_db

runs: list[dict] = []


def _flaky(payload):
    runs.append(payload)
    if payload.get("fail_times", 0) >= len(runs):
        raise outbox.EffectRetry("not yet")


@pytest.fixture(autouse=True)
def _flaky_effect():
    runs.clear()
    outbox.effect_type_register("test.flaky", _flaky, max_attempts=3)
    yield
    outbox._types.pop("test.flaky", None)


def test_an_effect_is_recorded_with_its_change_and_rolled_back_with_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.effect_record(kind="test.flaky", payload={"n": 1}, key="rolled-back")
        raise RuntimeError("the change fails")
    assert not OutboxEffect.objects.filter(key="rolled-back").exists()
    outbox.effect_record(kind="test.flaky", payload={"n": 2}, key="kept")
    # The same key twice is one effect.
    assert outbox.effect_record(kind="test.flaky", payload={"n": 3}, key="kept") is None
    assert OutboxEffect.objects.filter(key="kept").count() == 1


def test_a_failing_effect_is_retried_with_backoff_then_given_up_with_its_reason():
    effect = outbox.effect_record(kind="test.flaky", payload={"fail_times": 9})
    assert outbox.effects_sweep() == 1
    effect.refresh_from_db()
    assert effect.state == "pending" and effect.attempts == 1 and "not yet" in effect.last_error
    assert effect.available_at > timezone.now() + timedelta(seconds=20)
    assert outbox.effects_sweep() == 0  # not due yet
    later = timezone.now() + timedelta(hours=2)
    outbox.effects_sweep(now=later)
    outbox.effects_sweep(now=later + timedelta(hours=2))
    effect.refresh_from_db()
    assert effect.state == "failed" and effect.attempts == 3 and len(runs) == 3


def test_an_effect_held_by_a_dispatcher_that_died_runs_again_once_its_lease_passes(settings):
    settings.OUTBOX_LEASE_SECONDS = 60
    effect = outbox.effect_record(kind="test.flaky", payload={})
    now = timezone.now()
    # A dispatcher claimed it, then its process was killed before it finished.
    OutboxEffect.objects.filter(pk=effect.pk).update(claimed_until=now + timedelta(seconds=60))
    assert outbox.effects_sweep(now=now) == 0  # still held: never run twice at once
    assert outbox.effects_sweep(now=now + timedelta(seconds=61)) == 1
    effect.refresh_from_db()
    assert effect.state == "done" and runs == [{}]


def test_a_reply_is_delivered_by_its_effect_and_a_rerun_sends_nothing_twice(mailoutbox):
    agent = make_agent()
    case = make_case(actor=agent)
    reply = message_add(case=case, direction="outbound", text="On its way", actor=agent)
    effect = OutboxEffect.objects.get(key=f"message.deliver:{reply.pk}")
    assert effect.case_id == case.pk
    outbox.effects_sweep()
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT
    outbox.effects_sweep()  # and whatever the first sweep recorded (the acknowledgement)

    def replies_sent():
        return sum("On its way" in mail.body for mail in mailoutbox)

    assert replies_sent() == 1
    # The process died after sending but before marking the effect done: run it again.
    OutboxEffect.objects.filter(pk=effect.pk).update(state="pending", claimed_until=None)
    outbox.effects_sweep()
    assert replies_sent() == 1


def test_a_new_case_is_acknowledged_and_triaged_by_its_effects_once_even_when_rerun():
    case = make_case()
    kinds = set(OutboxEffect.objects.filter(case_id=case.pk).values_list("kind", flat=True))
    assert any(kind.startswith("case_created:") and "acknowledge" in kind for kind in kinds)
    assert any(kind.startswith("case_created:") and "triage" in kind for kind in kinds)
    outbox.effects_sweep()
    OutboxEffect.objects.filter(case_id=case.pk).update(state="pending", claimed_until=None)
    outbox.effects_sweep()
    assert CaseEvent.objects.filter(case=case, kind="acknowledged").count() == 1
    assert CaseEvent.objects.filter(case=case, kind="triaged").count() == 1
