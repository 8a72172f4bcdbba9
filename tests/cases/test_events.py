import pytest
from django.db import DatabaseError, connection, transaction

from caseloop.cases.events import UnknownEventKind, event_kinds
from caseloop.cases.models import CaseEvent, Status
from caseloop.cases.services import (
    AttachmentUpload,
    attachment_add,
    case_transition,
    event_record,
    message_add,
)
from tests.builders import bearer, make_agent, make_case, make_category, make_team

pytestmark = pytest.mark.django_db


def new_events(case, since_id):
    return list(CaseEvent.objects.filter(case=case, id__gt=since_id).order_by("id"))


def last_event_id():
    return CaseEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_creating_a_case_records_created_and_message_added():
    case = make_case(subject="Kettle leaks", text="It leaks from the base.")
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds[:2] == ["created", "message_added"]
    created = CaseEvent.objects.get(case=case, kind="created")
    assert created.data["after"]["subject"] == "Kettle leaks"
    assert created.data["after"]["channel"] == "email"


@pytest.mark.parametrize(
    ("field", "kind"),
    [
        ("priority", "priority_changed"),
        ("category", "category_changed"),
        ("team", "team_changed"),
        ("assignee", "assignee_changed"),
        ("tags", "tags_changed"),
        ("subject", "subject_changed"),
    ],
)
def test_each_patched_field_writes_one_event_with_before_and_after(api, field, kind):
    agent = make_agent()
    case = make_case(actor=agent)
    case.refresh_from_db()
    category = make_category(name="Refunds")
    team = make_team(name="Billing desk")
    solver = make_agent()
    value, before, after = {
        "priority": ("urgent", case.priority, "urgent"),
        "category": (category.slug, case.category_id, category.pk),
        "team": (team.slug, case.team_id, team.pk),
        "assignee": (solver.username, case.assignee_id, solver.pk),
        "tags": (["Refund", "vip", "refund"], [], ["refund", "vip"]),
        "subject": ("Kettle leaks at the base", case.subject, "Kettle leaks at the base"),
    }[field]
    mark = last_event_id()
    response = api.patch(f"/api/v1/cases/{case.pk}", {field: value}, headers=bearer(agent))
    assert response.status_code == 200, response.content
    events = new_events(case, mark)
    assert [e.kind for e in events] == [kind]
    assert events[0].data["before"] == before and events[0].data["after"] == after
    assert events[0].actor == agent
    again = api.patch(f"/api/v1/cases/{case.pk}", {field: value}, headers=bearer(agent))
    assert again.status_code == 200
    assert new_events(case, events[0].pk) == [], "an unchanged field writes no event"


def test_a_patch_of_several_fields_writes_one_event_per_field(api):
    agent = make_agent()
    case = make_case(actor=agent)
    mark = last_event_id()
    response = api.patch(
        f"/api/v1/cases/{case.pk}",
        {"priority": "high", "tags": ["late"], "reason": "customer called twice"},
        headers=bearer(agent),
    )
    assert response.status_code == 200
    events = new_events(case, mark)
    assert sorted(e.kind for e in events) == ["priority_changed", "tags_changed"]
    assert all(e.data["reason"] == "customer called twice" for e in events)


def test_a_transition_writes_one_status_event():
    agent = make_agent()
    case = make_case(actor=agent)
    mark = last_event_id()
    case_transition(case=case, to=Status.OPEN, actor=agent)
    events = new_events(case, mark)
    assert [(e.kind, e.data["before"], e.data["after"]) for e in events] == [
        ("status_changed", "new", "open")
    ]


def test_a_message_writes_one_message_event_naming_it_and_its_attachments():
    agent = make_agent()
    case = make_case(actor=agent)
    mark = last_event_id()
    message = message_add(
        case=case,
        direction="note",
        text="See the photo",
        actor=agent,
        attachments=[AttachmentUpload("photo.png", b"\x89PNG fake", "image/png")],
    )
    events = [e for e in new_events(case, mark) if e.kind == "message_added"]
    assert len(events) == 1
    data = events[0].data
    assert data["message"] == message.pk and data["direction"] == "note"
    assert data["attachments"] == [a.pk for a in message.attachments.all()]


def test_an_attachment_added_on_its_own_writes_an_attachment_event():
    agent = make_agent()
    case = make_case(actor=agent)
    mark = last_event_id()
    attachment = attachment_add(
        case=case, upload=AttachmentUpload("receipt.txt", b"order NW-1"), actor=agent
    )
    events = new_events(case, mark)
    assert [e.kind for e in events] == ["attachment_added"]
    assert events[0].data == {"attachment": attachment.pk, "filename": "receipt.txt", "size": 10}


def test_the_first_reply_records_owner_status_and_message_events(api):
    agent = make_agent()
    case = make_case()
    mark = last_event_id()
    response = api.post(
        f"/api/v1/cases/{case.pk}/messages", {"text": "Looking into it"}, headers=bearer(agent)
    )
    assert response.status_code == 201
    kinds = [e.kind for e in new_events(case, mark)]
    assert kinds.count("owner_assigned") == 1
    assert kinds.count("status_changed") == 1
    assert kinds.count("message_added") == 1


def test_the_event_log_is_served_in_order_to_agents(api):
    agent = make_agent()
    case = make_case(actor=agent)
    case_transition(case=case, to=Status.OPEN, actor=agent)
    response = api.get(f"/api/v1/cases/{case.pk}/events", headers=bearer(agent))
    assert response.status_code == 200
    body = response.json()
    assert [e["id"] for e in body] == sorted(e["id"] for e in body)
    assert body[-1]["kind"] == "status_changed" and body[-1]["actor"]["id"] == agent.pk


def test_events_cannot_be_updated_or_deleted_through_the_model_layer():
    case = make_case()
    event = CaseEvent.objects.filter(case=case).first()
    event.kind = "tampered"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    with pytest.raises(TypeError, match="append-only"):
        CaseEvent.objects.filter(pk=event.pk).update(kind="tampered")
    with pytest.raises(TypeError, match="append-only"):
        CaseEvent.objects.filter(pk=event.pk).delete()
    assert CaseEvent.objects.get(pk=event.pk).kind == "created"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE cases_caseevent SET kind = 'tampered' WHERE id = %s",
        "DELETE FROM cases_caseevent WHERE id = %s",
    ],
)
def test_raw_sql_cannot_change_events_where_the_database_has_the_trigger(statement):
    """On PostgreSQL the trigger refuses raw SQL too; SQLite relies on the model layer."""
    case = make_case()
    event = CaseEvent.objects.filter(case=case).first()
    if connection.vendor == "postgresql":
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event.pk])
        assert CaseEvent.objects.get(pk=event.pk).kind == "created"
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                ["cases_caseevent"],
            )
            assert cursor.fetchone()[0] == 0
        with pytest.raises(TypeError, match="append-only"):
            event.delete()


def test_a_refused_change_writes_no_event(api):
    agent = make_agent()
    case = make_case(actor=agent)
    mark = last_event_id()
    response = api.post(
        f"/api/v1/cases/{case.pk}/transitions", {"to": "closed"}, headers=bearer(agent)
    )
    assert response.status_code == 409
    assert new_events(case, mark) == []


def test_an_event_of_a_kind_no_app_registered_is_refused():
    case = make_case()
    with pytest.raises(UnknownEventKind):
        event_record(case=case, kind="statsu_changed", data={})
    assert not CaseEvent.objects.filter(case=case, kind="statsu_changed").exists()
    # Every app's kinds are known from start-up, with the words the timeline uses.
    kinds = event_kinds()
    assert kinds["status_changed"].label == "Status changed"
    assert kinds["triaged"].label == "Triaged"
    assert kinds["escalated"].label == "Escalated"
    assert kinds["chat_closed"].label == "Chat closed"
    assert kinds["satisfaction_rated"].label == "Satisfaction rated"
