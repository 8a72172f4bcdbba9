from datetime import timedelta

import pytest

from caseloop.cases.loop import (
    alternatives as loop_alternatives,
    errors as loop_errors,
    escalations as loop_escalations,
    facts as loop_facts,
    followups as loop_followups,
    needs as loop_needs,
    problem as loop_problem,
    selectors as loop_selectors,
)
from caseloop.cases.loop.errors import HandoffIncomplete
from caseloop.cases.models import Escalation, FactRequirement, Message, Reminder
from caseloop.cases.services import case_transition
from tests.builders import bearer, make_agent, make_case, make_category, make_team, make_user

from .helpers import kinds

pytestmark = pytest.mark.django_db


def _ready_case(owner, **kw):
    """An owned case with the facts every hand-off needs."""
    case = make_case(actor=owner, **kw)
    loop_facts.fact_record(case=case, key="problem_at", value="2026-11-20 14:30", actor=owner)
    loop_facts.fact_record(case=case, key="nature", value="Kettle leaks", actor=owner)
    return case


def test_escalation_is_refused_listing_exactly_the_missing_facts(api):
    owner = make_agent()
    case = make_case(actor=owner)
    solver = make_agent(tier=2)
    response = api.post(
        f"/api/v1/cases/{case.pk}/escalations",
        {"reason": "refund over my limit", "to_user": solver.username},
        headers=bearer(owner),
    )
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["missing"] == [
        {"key": "problem_at", "label": "Date and time of the problem"},
        {"key": "nature", "label": "Nature of the problem"},
    ]
    assert "Date and time of the problem" in body["detail"]
    assert not Escalation.objects.exists() and "escalated" not in kinds(case)


def test_name_and_contact_come_from_the_profile_and_category_requirements_count():
    owner = make_agent()
    category = make_category(name="Appliances")
    FactRequirement.objects.create(category=category, key="serial", label="Serial number")
    FactRequirement.objects.create(
        category=category, key="colour", label="Colour", required_for_handoff=False
    )
    case = _ready_case(owner, category=category)
    with pytest.raises(HandoffIncomplete) as caught:
        loop_escalations.case_escalate(case=case, actor=owner, reason="x", to_user=make_agent())
    assert caught.value.missing == [{"key": "serial", "label": "Serial number"}]
    checklist = {i.key: i for i in loop_selectors.fact_checklist(case=case)}
    assert checklist["customer_name"].value == case.customer.name
    assert checklist["customer_contact"].value.startswith("email: customer")
    assert checklist["customer_contact"].source == "profile"


def test_handoff_package_holds_everything_the_solver_needs():
    owner = make_agent()
    case = _ready_case(owner)
    loop_problem.problem_paraphrase_set(
        case=case, paraphrase="The kettle leaks from the base", actor=owner
    )
    alternative = loop_alternatives.alternative_add(
        case=case, title="Send a replacement", actor=owner
    )
    loop_alternatives.alternative_weigh(
        alternative=alternative, actor=owner, scores={"feasibility": 4, "impact": 5}, state="tried"
    )
    loop_needs.policy_check_run(case=case, actor=owner)
    team = make_team(name="Specialists")
    escalation = loop_escalations.case_escalate(
        case=case, actor=owner, reason="needs a specialist", to_team=team
    )
    package = escalation.package
    assert package["summary"]["reference"] == case.reference
    assert package["summary"]["owner"] == owner.username
    assert package["problem_statement"]["customer_words"].startswith("I ordered a kettle")
    assert package["problem_statement"]["paraphrase"] == "The kettle leaks from the base"
    facts = {f["key"]: f["value"] for f in package["facts"]}
    assert facts["problem_at"] == "2026-11-20 14:30" and facts["nature"] == "Kettle leaks"
    assert facts["customer_name"] == case.customer.name
    assert package["alternatives"][0]["title"] == "Send a replacement"
    assert package["alternatives"][0]["state"] == "tried"
    assert package["needs_decision"]["outcome"] == "not_applicable"
    assert [h["direction"] for h in package["history"]] == ["inbound"]
    assert package["escalation"] == {
        "reason": "needs a specialist",
        "to": "Specialists",
        "remedy": None,
        "amount": None,
        "owner": owner.username,
    }


def test_owner_stays_owner_through_accept_return_and_solve(api):
    owner = make_agent()
    solver = make_agent(tier=2)
    case = _ready_case(owner)
    created = api.post(
        f"/api/v1/cases/{case.pk}/escalations",
        {"reason": "over my limit", "to_user": solver.username},
        headers=bearer(owner),
    )
    assert created.status_code == 201, created.content
    eid = created.json()["id"]
    case.refresh_from_db()
    assert case.owner_id == owner.pk and case.status == "pending_internal"
    stranger = make_agent()
    refused = api.post(
        f"/api/v1/cases/{case.pk}/escalations/{eid}/accept", headers=bearer(stranger)
    )
    assert refused.status_code == 422 and solver.username in refused.json()["detail"]
    accepted = api.post(f"/api/v1/cases/{case.pk}/escalations/{eid}/accept", headers=bearer(solver))
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    case.refresh_from_db()
    assert case.owner_id == owner.pk and case.assignee_id == solver.pk
    returned = api.post(
        f"/api/v1/cases/{case.pk}/escalations/{eid}/return",
        {"text": "Which model is it?"},
        headers=bearer(solver),
    ).json()
    assert returned["state"] == "returned" and returned["question"] == "Which model is it?"
    case.refresh_from_db()
    assert case.owner_id == owner.pk and case.assignee_id == owner.pk and case.status == "open"
    assert Message.objects.filter(
        case=case, direction="note", text__contains="Which model"
    ).exists()
    again = loop_escalations.case_escalate(
        case=case, actor=owner, reason="model K-2", to_user=solver
    )
    loop_escalations.escalation_solved(escalation=again, actor=solver, solution="Refunded 80.00")
    case.refresh_from_db()
    assert case.owner_id == owner.pk and case.status == "solved"
    log = kinds(case)
    for kind in ("escalated", "escalation_accepted", "escalation_returned", "escalation_solved"):
        assert kind in log
    assert "owner_transferred" not in log


def test_a_second_escalation_is_refused_while_one_is_active():
    owner = make_agent()
    case = _ready_case(owner)
    loop_escalations.case_escalate(case=case, actor=owner, reason="x", to_user=make_agent())
    with pytest.raises(loop_errors.LoopStateError, match="already escalated"):
        loop_escalations.case_escalate(case=case, actor=owner, reason="y", to_user=make_agent())


def test_team_members_and_managers_may_take_a_team_escalation():
    owner = make_agent()
    member = make_agent()
    team = make_team(members=[member])
    case = _ready_case(owner)
    escalation = loop_escalations.case_escalate(case=case, actor=owner, reason="x", to_team=team)
    with pytest.raises(loop_errors.LoopError):
        loop_escalations.escalation_accept(escalation=escalation, solver=make_agent())
    loop_escalations.escalation_accept(escalation=escalation, solver=member)
    escalation.refresh_from_db()
    assert escalation.solver_id == member.pk
    other = _ready_case(owner)
    second = loop_escalations.case_escalate(case=other, actor=owner, reason="x", to_team=team)
    loop_escalations.escalation_accept(escalation=second, solver=make_user(role="manager"))


def test_owner_is_reminded_on_schedule_until_solved_and_confirmed(
    django_capture_on_commit_callbacks,
):
    owner = make_agent()
    solver = make_agent(tier=2)
    case = _ready_case(owner)
    escalation = loop_escalations.case_escalate(case=case, actor=owner, reason="x", to_user=solver)
    start = escalation.created_at
    # Default interval: 4 hours.
    assert loop_escalations.escalation_reminders_send(now=start + timedelta(hours=3)) == 0
    assert loop_escalations.escalation_reminders_send(now=start + timedelta(hours=4)) == 1
    assert loop_escalations.escalation_reminders_send(now=start + timedelta(hours=5)) == 0
    assert loop_escalations.escalation_reminders_send(now=start + timedelta(hours=8)) == 1
    reminder = Reminder.objects.order_by("id").first()
    assert reminder.to_user_id == owner.pk and "not been accepted yet" in reminder.text
    assert reminder.note.direction == "note" and reminder.note.metadata.get("system") is True
    with django_capture_on_commit_callbacks(execute=True):
        loop_escalations.escalation_solved(
            escalation=escalation, actor=solver, solution="Replaced it"
        )
    # Solved by the solver, but the customer has not confirmed: still reminded.
    assert loop_escalations.escalation_reminders_send(now=start + timedelta(hours=12)) == 1
    assert "has not confirmed yet" in Reminder.objects.order_by("-id").first().text
    with django_capture_on_commit_callbacks(execute=True):
        loop_followups.followup_answer(case=case, solved=True, channel="portal")
    assert loop_escalations.escalation_reminders_send(now=start + timedelta(hours=16)) == 0
    assert loop_escalations.escalation_reminders_send(now=start + timedelta(hours=40)) == 0
    escalation.refresh_from_db()
    assert escalation.customer_confirmed_at is not None
    assert escalation.reminders_stopped_at is not None
    assert Reminder.objects.filter(escalation=escalation).count() == 3
    log = kinds(case)
    assert log.count("owner_reminded") == 3
    stopped = case.events.get(kind="reminders_stopped")
    assert stopped.data["reason"] == "solved by the solver and confirmed by the customer"


def test_the_periodic_job_runs_the_reminders():
    from caseloop.cases.tasks import loop_owner_reminders

    owner = make_agent()
    case = _ready_case(owner)
    escalation = loop_escalations.case_escalate(
        case=case, actor=owner, reason="x", to_user=make_agent()
    )
    from caseloop.cases.models import Escalation as E

    E.objects.filter(pk=escalation.pk).update(created_at=escalation.created_at - timedelta(hours=5))
    loop_owner_reminders.call_local()
    assert Reminder.objects.filter(escalation=escalation).count() == 1


def test_escalations_list_is_joined(api, django_assert_max_num_queries):
    owner = make_agent()
    case = _ready_case(owner)
    for _ in range(3):
        e = loop_escalations.case_escalate(case=case, actor=owner, reason="x", to_user=make_agent())
        loop_escalations.escalation_solved(escalation=e, actor=e.to_user, solution="done")
        case_transition(case=case, to="open", actor=owner)
    headers = bearer(owner)
    with django_assert_max_num_queries(6):
        response = api.get(f"/api/v1/cases/{case.pk}/escalations", headers=headers)
    assert response.status_code == 200 and len(response.json()) == 3


def test_a_solver_sees_the_escalations_waiting_on_them(api, django_assert_max_num_queries):
    owner = make_agent()
    solver = make_agent(tier=2)
    team = make_team(members=[solver])
    other = make_agent()
    direct = loop_escalations.case_escalate(
        case=_ready_case(owner), actor=owner, reason="a", to_user=solver
    )
    by_team = loop_escalations.case_escalate(
        case=_ready_case(owner), actor=owner, reason="b", to_team=team
    )
    loop_escalations.case_escalate(case=_ready_case(owner), actor=owner, reason="c", to_user=other)
    loop_escalations.escalation_accept(escalation=by_team, solver=solver)
    headers = bearer(solver)
    with django_assert_max_num_queries(5):
        listed = api.get("/api/v1/escalations", headers=headers).json()
    assert [e["id"] for e in listed] == [by_team.pk, direct.pk]
    waiting = api.get("/api/v1/escalations", headers=headers, state="open").json()
    assert [e["id"] for e in waiting] == [direct.pk]
    assert api.get("/api/v1/escalations", headers=headers, state="x").status_code == 422


def _solved_after_a_return(owner, solver):
    """Escalated, returned with a question, escalated again and solved."""
    case = _ready_case(owner)
    first = loop_escalations.case_escalate(case=case, actor=owner, reason="x", to_user=solver)
    loop_escalations.escalation_return(escalation=first, actor=solver, question="Which model?")
    again = loop_escalations.case_escalate(case=case, actor=owner, reason="K-2", to_user=solver)
    loop_escalations.escalation_accept(escalation=again, solver=solver)
    loop_escalations.escalation_solved(
        escalation=again, actor=solver, solution="We are sending you a new K-2 kettle today."
    )
    case.refresh_from_db()
    return case


def test_when_the_solver_solves_it_the_customer_gets_the_solution_and_the_owner_is_told(
    monkeypatch, django_capture_on_commit_callbacks
):
    from caseloop.cases.models import OutboxEffect

    pushed = []
    monkeypatch.setattr(loop_escalations, "publish", lambda group, payload: pushed.append(payload))
    owner = make_agent()
    solver = make_agent(tier=2, first_name="Dana", last_name="Whitfield")
    case = _ready_case(owner, channel="chat")
    escalation = loop_escalations.case_escalate(case=case, actor=owner, reason="x", to_user=solver)
    with django_capture_on_commit_callbacks(execute=True):
        loop_escalations.escalation_solved(
            escalation=escalation, actor=solver, solution="We refunded 80.00 to your card."
        )
    told = Message.objects.get(case=case, metadata__loop="escalation_solution")
    assert (told.direction, told.channel, told.author_user) == ("outbound", "chat", solver)
    assert "We refunded 80.00 to your card." in told.text and case.reference in told.text
    assert OutboxEffect.objects.filter(kind="message.deliver", key__endswith=f":{told.pk}").exists()
    event = case.events.get(kind="escalation_solved")
    assert event.data["message"] == told.pk and event.data["owner"] == owner.pk
    news = [p for p in pushed if p["kind"] == "escalation.solved"]
    assert news and news[0]["owner"] == owner.pk and news[0]["status"] == "solved"
    assert news[0]["case_id"] == case.pk and news[0]["solver"] == solver.pk


def test_after_the_solver_solves_it_the_loop_moves_on_to_the_follow_up():
    from caseloop.web.selectors import escalations_waiting

    owner = make_agent()
    solver = make_agent(tier=2)
    case = _solved_after_a_return(owner, solver)
    stages, following = loop_selectors.case_stages(case=case)
    by_key = {stage.key: stage for stage in stages}
    assert by_key["escalation"].done and by_key["escalation"].next == ""
    assert following == "The customer will be asked to confirm"
    assert [row["escalation"].case_id for row in escalations_waiting()] == []


def test_the_case_page_shows_who_solved_the_escalation_and_the_solution(client):
    owner = make_agent()
    solver = make_agent(tier=2, first_name="Dana", last_name="Whitfield")
    case = _solved_after_a_return(owner, solver)
    client.force_login(owner)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Solved by Dana Whitfield: We are sending you a new K-2 kettle today." in page
    timeline = page[page.index('<ol class="timeline"') :]
    timeline = timeline[: timeline.index("</ol>")]
    assert "We are sending you a new K-2 kettle today." in timeline
    assert "Wait for the solver" not in page
