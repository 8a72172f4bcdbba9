import pytest

from caseloop.cases import hooks
from caseloop.cases.errors import CaseValidationError
from caseloop.cases.models import Attachment, CaseEvent, Message, Status
from caseloop.cases.services import AttachmentUpload, case_merge, case_update, message_add
from tests.builders import make_agent, make_case, make_customer

pytestmark = pytest.mark.django_db


def test_merging_moves_messages_and_attachments_and_closes_the_source():
    agent = make_agent()
    customer = make_customer()
    target = make_case(customer=customer, text="My kettle leaks")
    source = make_case(customer=customer, text="Kettle again")
    message_add(
        case=source,
        direction="inbound",
        text="photo attached",
        attachments=[AttachmentUpload(filename="leak.jpg", content=b"jpeg")],
    )
    case_update(case=source, actor=agent, tags=["kettle"])
    source_messages = set(source.messages.values_list("id", flat=True))
    case_merge(source=source, target=target, actor=agent)
    source.refresh_from_db()
    assert source.status == Status.CLOSED
    assert set(Message.objects.filter(case=target).values_list("id", flat=True)) >= source_messages
    assert Message.objects.filter(case=source).count() == 0
    assert Attachment.objects.get(filename="leak.jpg").case_id == target.pk
    assert "kettle" in target.tags.values_list("name", flat=True)
    into = source.events.get(kind="merged_into")
    assert into.data["target"] == target.pk and set(into.data["messages"]) == source_messages
    assert target.events.filter(kind="merged_from", data__source=source.pk).exists()
    assert source.events.filter(kind=CaseEvent.Kind.STATUS_CHANGED, data__after="closed").exists()


def test_only_cases_of_one_customer_merge_and_never_into_themselves():
    agent = make_agent()
    a, b = make_case(), make_case()
    with pytest.raises(CaseValidationError):
        case_merge(source=a, target=b, actor=agent)
    with pytest.raises(CaseValidationError):
        case_merge(source=a, target=a, actor=agent)
    assert a.messages.count() == 1 and b.messages.count() == 1


def test_merging_closes_the_source_through_the_status_machine_so_status_hooks_run(
    django_capture_on_commit_callbacks,
):
    seen = []

    def record(case_id, before, after):
        seen.append((case_id, before, after))

    hooks.on_case_status_changed(record)
    try:
        agent = make_agent()
        customer = make_customer(email="hooks@example.com")
        source = make_case(customer=customer, actor=agent)
        target = make_case(customer=customer, actor=agent)
        source.refresh_from_db()
        before = source.status
        with django_capture_on_commit_callbacks(execute=True):
            case_merge(source=source, target=target, actor=agent)
    finally:
        hooks.unregister(record)
    assert (source.pk, before, Status.CLOSED) in seen
    event = CaseEvent.objects.get(case=source, kind="status_changed", data__after="closed")
    assert event.data["reason"] == f"merged into {target.reference}"
