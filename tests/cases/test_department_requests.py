"""Asking another department: a request to a team or an outside address, with the facts it
carries, answered in the desk or through a signed link, reminded when overdue; the owner
stays the owner."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail, signing
from django.utils import timezone

from caseloop.accounts.models import Role
from caseloop.cases import outbox
from caseloop.cases.loop import facts as loop_facts, requests as loop_requests
from caseloop.cases.loop.errors import LinkExpired, LinkInvalid, LoopError, LoopStateError
from caseloop.cases.loop.tokens import PURPOSES
from caseloop.cases.models import CaseEvent, DepartmentRequest, Fact, Message, OutboxEffect
from tests.builders import bearer, make_agent, make_case, make_customer_user, make_team, make_user

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def kinds(case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("id").values_list("kind", flat=True))


def run_request_mail() -> int:
    ids = OutboxEffect.objects.filter(
        kind=loop_requests.REQUEST_MAIL_EFFECT, state=OutboxEffect.State.PENDING
    ).values_list("pk", flat=True)
    return outbox.effects_run(list(ids))


def owned_case(owner):
    case = make_case(actor=owner)
    loop_facts.fact_record(case=case, key="problem_at", value="2026-11-20 14:30", actor=owner)
    loop_facts.fact_record(case=case, key="order_number", value="A-1001", actor=owner)
    case.refresh_from_db()
    return case


def link_in(body: str) -> str:
    return re.search(r"https?://\S+/requests/reply/(\S+)/", body).group(1)


def test_a_request_to_a_team_carries_the_chosen_facts_and_keeps_the_owner():
    owner = make_agent()
    warehouse = make_team(name="Warehouse", members=[make_agent()])
    case = owned_case(owner)
    request = loop_requests.request_create(
        case=case,
        actor=owner,
        question="Was order A-1001 shipped?",
        due_at=timezone.now() + timedelta(hours=4),
        to_team=warehouse,
        fact_keys=["order_number"],
    )
    case.refresh_from_db()
    assert case.owner == owner
    assert request.state == "open" and request.to_team == warehouse
    assert request.facts == [{"key": "order_number", "label": "Order number", "value": "A-1001"}]
    assert kinds(case)[-1] == "request_sent"
    # A team's request sends no email.
    assert not OutboxEffect.objects.filter(kind=loop_requests.REQUEST_MAIL_EFFECT).exists()


def test_a_request_is_refused_without_a_question_a_recipient_or_a_future_due_time():
    owner = make_agent()
    case = owned_case(owner)
    team = make_team()
    later = timezone.now() + timedelta(hours=1)
    with pytest.raises(LoopError, match="say what"):
        loop_requests.request_create(
            case=case, actor=owner, question=" ", due_at=later, to_team=team
        )
    with pytest.raises(LoopError, match="one of them"):
        loop_requests.request_create(case=case, actor=owner, question="?", due_at=later)
    with pytest.raises(LoopError, match="one of them"):
        loop_requests.request_create(
            case=case, actor=owner, question="?", due_at=later, to_team=team, to_email="a@b.test"
        )
    with pytest.raises(LoopError, match="not an email"):
        loop_requests.request_create(
            case=case, actor=owner, question="?", due_at=later, to_email="nobody"
        )
    with pytest.raises(LoopError, match="future"):
        loop_requests.request_create(
            case=case, actor=owner, question="?", due_at=timezone.now(), to_team=team
        )
    with pytest.raises(LoopError, match="no fact 'colour'"):
        loop_requests.request_create(
            case=case, actor=owner, question="?", due_at=later, to_team=team, fact_keys=["colour"]
        )
    assert not DepartmentRequest.objects.exists()


def test_a_team_member_answers_and_the_answer_lands_on_the_case_for_the_owner(
    monkeypatch, django_capture_on_commit_callbacks
):
    pushed = []
    monkeypatch.setattr(
        "caseloop.cases.loop.requests.publish",
        lambda group, payload: pushed.append((group, payload)),
    )
    owner, member, outsider = make_agent(), make_agent(), make_agent()
    team = make_team(members=[member])
    case = owned_case(owner)
    with django_capture_on_commit_callbacks(execute=True):
        request = loop_requests.request_create(
            case=case,
            actor=owner,
            question="Was it shipped?",
            due_at=timezone.now() + timedelta(hours=4),
            to_team=team,
        )
    assert (f"user-{member.pk}", "request.sent") in [(g, p["kind"]) for g, p in pushed]
    assert list(loop_requests.requests_for_teams_of(user=member)) == [request]
    assert list(loop_requests.requests_for_teams_of(user=outsider)) == []
    with pytest.raises(loop_requests.RequestForbidden):
        loop_requests.request_answer(request=request, answer="No idea", actor=outsider)
    with django_capture_on_commit_callbacks(execute=True):
        loop_requests.request_answer(request=request, answer="Shipped on the 21st", actor=member)
    request.refresh_from_db()
    case.refresh_from_db()
    assert request.state == "answered" and request.answered_by == member
    assert case.owner == owner
    note = Message.objects.filter(case=case, direction="note").order_by("-id").first()
    assert "Shipped on the 21st" in note.text and "Was it shipped?" in note.text
    assert (f"user-{owner.pk}", "request.answered") in [(g, p["kind"]) for g, p in pushed]
    with pytest.raises(LoopStateError, match="already answered"):
        loop_requests.request_answer(request=request, answer="Again", actor=member)


def test_an_outside_person_gets_the_question_facts_and_a_link_and_answers_once():
    owner = make_agent()
    case = owned_case(owner)
    request = loop_requests.request_create(
        case=case,
        actor=owner,
        kind="action",
        question="Please collect the parcel from the depot.",
        due_at=timezone.now() + timedelta(days=1),
        to_email="depot@carrier.test",
        fact_keys=["order_number", "problem_at"],
    )
    assert run_request_mail() == 1
    (letter,) = mail.outbox
    assert letter.to == ["depot@carrier.test"] and case.reference in letter.subject
    assert "Please collect the parcel from the depot." in letter.body
    assert "- Order number: A-1001" in letter.body
    assert "- Date and time of the problem: 2026-11-20 14:30" in letter.body
    token = link_in(letter.body)
    assert loop_requests.request_from_token(token=token) == request
    with pytest.raises(LinkInvalid):
        loop_requests.request_from_token(token=token[:-2] + "xx")
    with pytest.raises(loop_requests.RequestForbidden):
        loop_requests.request_answer(request=request, answer="done", actor=make_agent())
    loop_requests.request_answer(request=request, answer="Collected at 3 pm.")
    request.refresh_from_db()
    assert request.state == "answered" and request.answered_by is None
    with pytest.raises(LoopStateError):
        loop_requests.request_answer(request=request, answer="Collected twice?")
    # Answered: a later reminder effect mails nothing.
    assert run_request_mail() == 0 and len(mail.outbox) == 1


def test_an_old_link_has_expired():
    owner = make_agent()
    request = loop_requests.request_create(
        case=owned_case(owner),
        actor=owner,
        question="?",
        due_at=timezone.now() + timedelta(days=1),
        to_email="x@partner.test",
    )
    signer = signing.TimestampSigner(salt=PURPOSES["request"])
    token = signer.sign_object({"id": request.pk, "a": "answer"}, compress=True)
    with time_machine.travel(timezone.now() + timedelta(days=30)), pytest.raises(LinkExpired):
        loop_requests.request_from_token(token=token)


def test_a_link_for_another_purpose_is_not_a_request_link():
    from caseloop.cases.loop.tokens import token_make

    token = token_make(purpose="plan", object_id=1, answer="approved")
    with pytest.raises(LinkInvalid):
        loop_requests.request_from_token(token=token)


def test_the_owner_turns_an_answer_into_a_fact_with_one_call():
    owner, member = make_agent(), make_agent()
    case = owned_case(owner)
    request = loop_requests.request_create(
        case=case,
        actor=owner,
        question="Serial number?",
        due_at=timezone.now() + timedelta(hours=2),
        to_team=make_team(members=[member]),
    )
    with pytest.raises(LoopStateError):
        loop_requests.request_answer_to_fact(request=request, key="Serial number", actor=owner)
    loop_requests.request_answer(request=request, answer="SN-4471", actor=member)
    loop_requests.request_answer_to_fact(request=request, key="Serial number", actor=owner)
    fact = Fact.objects.filter(case=case).order_by("-id").first()
    assert (fact.key, fact.value) == ("serial_number", "SN-4471")
    request.refresh_from_db()
    assert request.answer_fact_key == "serial_number"
    assert kinds(case)[-2:] == ["fact_recorded", "request_answer_fact"]


def test_cancel_is_for_the_asker_or_owner_and_stops_answers():
    owner, member = make_agent(), make_agent()
    request = loop_requests.request_create(
        case=owned_case(owner),
        actor=owner,
        question="?",
        due_at=timezone.now() + timedelta(hours=2),
        to_team=make_team(members=[member]),
    )
    with pytest.raises(loop_requests.RequestForbidden):
        loop_requests.request_cancel(request=request, actor=member)
    loop_requests.request_cancel(request=request, actor=owner)
    with pytest.raises(LoopStateError, match="cancelled"):
        loop_requests.request_answer(request=request, answer="late", actor=member)


def test_overdue_requests_remind_the_recipient_once_per_interval_and_tell_the_owner(
    monkeypatch, django_capture_on_commit_callbacks
):
    pushed = []
    monkeypatch.setattr(
        "caseloop.cases.loop.requests.publish",
        lambda group, payload: pushed.append((group, payload)),
    )
    owner, member = make_agent(), make_agent()
    with time_machine.travel(START, tick=False):
        case = owned_case(owner)
        to_team = loop_requests.request_create(
            case=case,
            actor=owner,
            question="Stock level?",
            due_at=START + timedelta(hours=2),
            to_team=make_team(members=[member]),
        )
        to_mail = loop_requests.request_create(
            case=case,
            actor=owner,
            question="Pick-up time?",
            due_at=START + timedelta(hours=2),
            to_email="depot@carrier.test",
        )
        run_request_mail()
    assert len(mail.outbox) == 1
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        assert loop_requests.request_reminders_send() == 0
    with time_machine.travel(START + timedelta(hours=3), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert loop_requests.request_reminders_send() == 2
        run_request_mail()
        # The default interval is 4 hours: nothing more an hour later.
        assert loop_requests.request_reminders_send() == 0
    assert len(mail.outbox) == 2 and mail.outbox[1].subject.startswith(
        f"[{case.reference}] Reminder"
    )
    groups = [(g, p["kind"]) for g, p in pushed]
    assert (f"user-{member.pk}", "request.reminder") in groups
    assert (f"user-{owner.pk}", "request.overdue") in groups
    assert kinds(case).count("request_reminded") == 2
    loop_requests.request_answer(request=to_team, answer="12 in stock", actor=member)
    with time_machine.travel(START + timedelta(hours=7, minutes=1), tick=False):
        assert loop_requests.request_reminders_send() == 1
    to_mail.refresh_from_db()
    to_team.refresh_from_db()
    assert (to_mail.reminder_count, to_team.reminder_count) == (2, 1)
    case.refresh_from_db()
    assert case.owner == owner


def test_a_customer_can_never_see_requests(client, api):
    owner = make_agent()
    customer_user = make_customer_user()
    case = make_case(actor=owner, customer=customer_user.customer)
    loop_requests.request_create(
        case=case,
        actor=owner,
        question="Internal question for the warehouse",
        due_at=timezone.now() + timedelta(hours=2),
        to_team=make_team(),
    )
    with pytest.raises(LoopError):
        loop_requests.request_create(
            case=case,
            actor=customer_user,
            question="?",
            due_at=timezone.now() + timedelta(hours=2),
            to_team=make_team(),
        )
    client.force_login(customer_user)
    page = client.get(f"/portal/cases/{case.pk}/")
    assert page.status_code == 200
    assert b"Internal question for the warehouse" not in page.content
    assert client.get("/requests/").status_code == 403
    response = api.get(f"/api/v1/cases/{case.pk}/requests", headers=bearer(customer_user))
    assert response.status_code == 403
    assert b"Internal question" not in response.content


def test_a_manager_may_answer_any_teams_request():
    owner = make_agent()
    manager = make_user(role=Role.MANAGER)
    request = loop_requests.request_create(
        case=owned_case(owner),
        actor=owner,
        question="?",
        due_at=timezone.now() + timedelta(hours=2),
        to_team=make_team(),
    )
    assert list(loop_requests.requests_for_teams_of(user=manager)) == [request]
    loop_requests.request_answer(request=request, answer="Done", actor=manager)


def test_the_api_creates_lists_and_answers_requests(api):
    owner, member = make_agent(), make_agent()
    team = make_team(name="Billing desk", members=[member])
    case = owned_case(owner)
    due = (timezone.now() + timedelta(hours=3)).isoformat()
    created = api.post(
        f"/api/v1/cases/{case.pk}/requests",
        {
            "question": "Was the refund issued?",
            "due_at": due,
            "to_team": team.slug,
            "facts": ["order_number"],
        },
        headers=bearer(owner),
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == "open" and body["to_team"] == team.slug
    assert body["facts"] == [{"key": "order_number", "label": "Order number", "value": "A-1001"}]
    bad = api.post(
        f"/api/v1/cases/{case.pk}/requests",
        {"question": "?", "due_at": due, "to_team": "nope"},
        headers=bearer(owner),
    )
    assert bad.status_code == 422
    naive = api.post(
        f"/api/v1/cases/{case.pk}/requests",
        {"question": "?", "due_at": "not a time", "to_email": "x@y.test"},
        headers=bearer(owner),
    )
    assert naive.status_code in (400, 422)
    mine = api.get("/api/v1/requests", headers=bearer(member)).json()
    assert [r["id"] for r in mine] == [body["id"]]
    refused = api.post(
        f"/api/v1/cases/{case.pk}/requests/{body['id']}/answer",
        {"answer": "guess"},
        headers=bearer(owner),
    )
    assert refused.status_code == 403
    answered = api.post(
        f"/api/v1/cases/{case.pk}/requests/{body['id']}/answer",
        {"answer": "Yes, on Monday"},
        headers=bearer(member),
    )
    assert answered.status_code == 200 and answered.json()["state"] == "answered"
    twice = api.post(
        f"/api/v1/cases/{case.pk}/requests/{body['id']}/answer",
        {"answer": "Again"},
        headers=bearer(member),
    )
    assert twice.status_code == 409
    listed = api.get(f"/api/v1/cases/{case.pk}/requests", headers=bearer(owner)).json()
    assert listed[0]["answer"] == "Yes, on Monday"
    fact = api.post(
        f"/api/v1/cases/{case.pk}/requests/{body['id']}/fact",
        {"key": "Refund date"},
        headers=bearer(owner),
    )
    assert fact.json()["answer_fact_key"] == "refund_date"
