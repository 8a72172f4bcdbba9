import pytest

from caseloop.automation.models import AcknowledgementTemplate
from caseloop.automation.selectors import case_first_response_due
from caseloop.cases.models import CaseEvent, Message
from caseloop.channels.acknowledgement import case_acknowledge
from caseloop.channels.base import InboundMessage
from caseloop.channels.intake import inbound_receive

pytestmark = pytest.mark.django_db


def receive(django_capture_on_commit_callbacks, **fields):
    with django_capture_on_commit_callbacks(execute=True):
        return inbound_receive(InboundMessage(**fields))


def test_new_case_is_acknowledged_with_reference_and_expected_response(
    django_capture_on_commit_callbacks,
):
    result = receive(
        django_capture_on_commit_callbacks,
        channel="phone",
        phone="+14155550100",
        name="Ann Lee",
        subject="Kettle broken",
        text="It sparks.",
    )
    case = result.case
    case.refresh_from_db()  # triage may have set the priority before the acknowledgement
    ack = case.messages.get(direction=Message.Direction.OUTBOUND)
    assert case.reference in ack.text and "Ann Lee" in ack.text and "Kettle broken" in ack.text
    due = case_first_response_due(case=case)
    assert f"{due:%H:%M}" in ack.text and str(due.day) in ack.text
    assert ack.metadata["acknowledgement"] and ack.metadata["system"]
    assert ack.author_user is None
    # no agent acted: the case stays new and unowned, first response not taken
    assert case.status == "new" and case.owner_id is None and case.first_response_at is None
    event = CaseEvent.objects.get(case=case, kind="acknowledged")
    assert event.data["message"] == ack.pk


def test_auto_replies_and_bounces_are_never_acknowledged(django_capture_on_commit_callbacks):
    result = receive(
        django_capture_on_commit_callbacks,
        channel="phone",
        phone="+14155550101",
        subject="Out of office",
        text="I am away.",
        is_auto_reply=True,
    )
    assert not result.case.messages.filter(direction=Message.Direction.OUTBOUND).exists()
    skipped = CaseEvent.objects.get(case=result.case, kind="acknowledgement_skipped")
    assert "auto-reply" in skipped.data["reason"]


def test_a_case_is_acknowledged_once(django_capture_on_commit_callbacks):
    result = receive(
        django_capture_on_commit_callbacks, channel="phone", phone="+14155550102", text="Hi"
    )
    assert case_acknowledge(case_id=result.case.pk) is None
    assert result.case.messages.filter(direction="outbound").count() == 1


def test_admin_text_per_channel_is_used_and_can_switch_acknowledgements_off(
    django_capture_on_commit_callbacks,
):
    AcknowledgementTemplate.objects.create(
        channel="phone", text="Case {reference} logged; reply {expected_response}.", subject="x"
    )
    first = receive(
        django_capture_on_commit_callbacks, channel="phone", phone="+14155550103", text="Hi"
    )
    ack = first.case.messages.get(direction="outbound")
    assert ack.text.startswith(f"Case {first.case.reference} logged; reply by ")
    AcknowledgementTemplate.objects.filter(channel="phone").update(is_active=False)
    second = receive(
        django_capture_on_commit_callbacks, channel="phone", phone="+14155550104", text="Hi"
    )
    assert not second.case.messages.filter(direction="outbound").exists()
    assert CaseEvent.objects.filter(case=second.case, kind="acknowledgement_skipped").exists()


def test_template_with_unknown_placeholder_is_refused_by_validation():
    from django.core.exceptions import ValidationError

    template = AcknowledgementTemplate(channel="web", subject="ok", text="Hi {password}")
    with pytest.raises(ValidationError) as excinfo:
        template.full_clean()
    assert "unknown placeholder {password}" in str(excinfo.value)
