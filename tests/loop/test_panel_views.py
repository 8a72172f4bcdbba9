import pytest
from django.test import Client

from caseloop.cases.models import Alternative, Escalation, Fact, ProblemStatement
from tests.builders import make_agent, make_case, make_customer_user

from .helpers import kinds

pytestmark = pytest.mark.django_db


def _post(client, case, action, data=None):
    return client.post(f"/loop/cases/{case.pk}/{action}/", data or {})


def test_panel_forms_walk_the_main_actions_and_write_events(client):
    agent = make_agent()
    solver = make_agent()
    case = make_case(actor=agent)
    client.force_login(agent)
    response = _post(client, case, "paraphrase", {"paraphrase": "It never arrived"})
    assert response.status_code == 302 and response["Location"].endswith(
        f"/cases/{case.pk}/#panel-loop"
    )
    assert ProblemStatement.objects.get(case=case).paraphrase == "It never arrived"
    _post(client, case, "policy-check")
    _post(client, case, "fact", {"key": "problem_at", "value": "yesterday 10:00"})
    refused = _post(client, case, "escalate", {"user": solver.pk, "reason": "carrier"})
    assert refused.status_code == 302 and not Escalation.objects.exists()
    _post(client, case, "fact", {"key": "nature", "value": "lost parcel"})
    _post(client, case, "alternative", {"title": "Reship"})
    alternative = Alternative.objects.get(case=case)
    _post(client, case, "weigh", {"alternative": alternative.pk, "feasibility": "4"})
    _post(client, case, "choose", {"alternative": alternative.pk, "reason": "fastest"})
    _post(client, case, "plan", {"summary": "Reship today", "steps": "Pack\nShip"})
    plan = case.plans.get()
    _post(client, case, "share", {"plan": plan.pk})
    _post(client, case, "escalate", {"user": solver.pk, "reason": "needs warehouse"})
    assert Escalation.objects.get(case=case).owner_id == agent.pk
    assert Fact.objects.filter(case=case).count() == 2
    log = kinds(case)
    for kind in (
        "paraphrase_set",
        "policy_checked",
        "fact_recorded",
        "alternative_added",
        "alternative_weighed",
        "alternative_chosen",
        "plan_created",
        "plan_shared",
        "escalated",
    ):
        assert kind in log, kind


def test_a_refused_action_is_shown_as_an_error_not_a_crash(client):
    agent = make_agent()
    case = make_case(actor=agent)
    client.force_login(agent)
    response = client.post(
        f"/loop/cases/{case.pk}/escalate/", {"reason": "x", "user": agent.pk}, follow=True
    )
    assert response.status_code == 200
    assert b"the hand-off is missing: Date and time of the problem" in response.content


def test_panel_actions_need_csrf_and_an_agent():
    agent = make_agent()
    case = make_case(actor=agent)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    assert strict.post(f"/loop/cases/{case.pk}/paraphrase/", {"paraphrase": "x"}).status_code == 403
    customer = Client()
    customer.force_login(make_customer_user(customer=case.customer))
    assert (
        customer.post(f"/loop/cases/{case.pk}/paraphrase/", {"paraphrase": "x"}).status_code == 403
    )
    assert "paraphrase_set" not in kinds(case)


def test_the_panel_renders_the_stages_for_agents_only():
    from django.template.loader import render_to_string

    from caseloop.cases.loop.panel import loop_panel_context

    agent = make_agent()
    case = make_case(actor=agent)
    customer = make_customer_user(customer=case.customer)
    assert loop_panel_context(case=case, user=customer) is None
    html = render_to_string(
        "cases/partials/loop_panel.html", {"panel": loop_panel_context(case=case, user=agent)}
    )
    assert "Next:</strong> 1. Paraphrase it" in html
    assert 'data-stage="needs"' in html and "Run policy check" in html
    # The stepper: the current stage marked; only its section open, the others folded.
    assert 'data-stage="problem" value="1" aria-current="step"' in html
    assert html.count(" open><summary>") == 1
    assert '<details id="loop-problem" name="loop-stage" open>' in html


def test_stages_keep_their_numbers_and_the_open_section_follows_next():
    from django.template.loader import render_to_string

    from caseloop.cases.loop import problem as loop_problem
    from caseloop.cases.loop.panel import loop_panel_context

    agent = make_agent()
    case = make_case(actor=agent)
    loop_problem.problem_paraphrase_set(case=case, actor=agent, paraphrase="The kettle leaks.")
    panel = loop_panel_context(case=case, user=agent)
    numbers = {s["key"]: s["number"] for s in panel["stages"]}
    assert numbers == {
        "problem": 1,
        "needs": 2,
        "authority": 3,
        "facts": 4,
        "alternatives": 5,
        "plan": 6,
        "implement": 7,
        "escalation": 8,
        "follow_up": 9,
        "lessons": 10,
    }
    current = next(s for s in panel["stages"] if s["number"] == panel["next_number"])
    assert current["next"] == panel["next"] and not current["done"]
    html = render_to_string("cases/partials/loop_panel.html", {"panel": panel})
    assert f"Next:</strong> {panel['next_number']}. {panel['next']}" in html
    assert f'<details id="loop-{panel["open"]}" name="loop-stage" open>' in html


def test_the_case_page_includes_the_loop_panel(client, django_capture_on_commit_callbacks):
    agent = make_agent()
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(actor=agent)
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    assert b'class="loop-stepper"' in page.content and b"Paraphrase it" in page.content


def test_panel_records_answers_given_by_phone_links_and_steps(client):
    from caseloop.cases.models import CaseLink, FollowUp
    from caseloop.cases.services import case_transition

    agent = make_agent()
    case = make_case(actor=agent)
    earlier = make_case(customer=case.customer, actor=agent)
    client.force_login(agent)
    _post(client, case, "paraphrase", {"paraphrase": "Lost parcel"})
    _post(client, case, "problem-answer", {"answer": "corrected", "correction": "Damaged"})
    statement = ProblemStatement.objects.get(case=case)
    assert (statement.confirmation, statement.correction) == ("corrected", "Damaged")
    assert statement.answer_channel == "phone"
    _post(client, case, "link", {"kind": "case", "ref": earlier.reference})
    _post(client, case, "link", {"kind": "url", "ref": "https://carrier.example/track/1"})
    assert [link.kind for link in CaseLink.objects.filter(case=case)] == ["case", "url"]
    _post(client, case, "plan", {"summary": "Reship"})
    plan = case.plans.get()
    _post(client, case, "step-add", {"plan": plan.pk, "text": "Pack it"})
    assert [s.text for s in plan.steps.all()] == ["Pack it"]
    case_transition(case=case, to="open", actor=agent)
    case_transition(case=case, to="solved", actor=agent)
    _post(client, case, "follow-up", {"solved": "yes"})
    case.refresh_from_db()
    assert case.status == "closed"
    assert FollowUp.objects.get(case=case).channel == "phone"


def test_the_next_step_is_something_to_do_before_something_to_wait_for():
    from caseloop.cases.loop import problem as loop_problem
    from caseloop.cases.loop.selectors import case_stages

    agent = make_agent()
    case = make_case(actor=agent)
    loop_problem.problem_paraphrase_set(case=case, paraphrase="Lost parcel", actor=agent)
    loop_problem.problem_send_for_confirmation(case=case, actor=agent)
    stages, following = case_stages(case=case)
    assert {s.key: s for s in stages}["problem"].next.startswith("Wait")
    assert following == "Run the policy check"


def test_a_case_walks_through_every_stage_on_the_case_page(
    client, django_capture_on_commit_callbacks
):
    from django.contrib.messages import get_messages

    from caseloop.cases.models import Lesson, RemedyType

    owner = make_agent(tier=1)
    solver = make_agent(tier=2)
    case = make_case(actor=owner)
    refund = RemedyType.objects.get(slug="refund")

    def act(user, action, data=None):
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = _post(client, case, action, data)
        assert response.status_code == 302
        errors = [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
        assert not errors, (action, errors)

    act(owner, "paraphrase", {"paraphrase": "Your kettle leaks"})
    act(owner, "send-problem")
    act(owner, "problem-answer", {"answer": "confirmed"})
    act(owner, "policy-check")
    act(owner, "authority", {"remedy": refund.pk, "amount": "80.00"})
    act(owner, "fact", {"key": "problem_at", "value": "2026-11-20 10:00"})
    act(owner, "fact", {"key": "nature", "value": "leak"})
    act(owner, "alternative", {"title": "Refund 80.00"})
    alternative = Alternative.objects.get(case=case)
    act(
        owner,
        "weigh",
        {"alternative": alternative.pk, "feasibility": "5", "preference": "preferred"},
    )
    act(owner, "choose", {"alternative": alternative.pk, "reason": "customer's choice"})
    act(owner, "plan", {"summary": "Refund to card", "steps": "Issue refund"})
    plan = case.plans.get()
    act(owner, "share", {"plan": plan.pk})
    act(owner, "verbal-consent", {"plan": plan.pk, "decision": "approved"})
    act(owner, "escalate", {"user": solver.pk, "reason": "refund over my limit"})
    escalation = Escalation.objects.get(case=case)
    act(solver, "escalation", {"escalation": escalation.pk, "do": "accept"})
    act(solver, "step", {"step": plan.steps.get().pk, "status": "done"})
    act(owner, "update", {"plan": plan.pk})
    act(solver, "escalation", {"escalation": escalation.pk, "do": "solved", "text": "Refunded"})
    act(owner, "follow-up", {"solved": "yes"})
    act(owner, "lesson", {"summary": "Refunds over 50 go to tier 2", "needs_article": "1"})

    case.refresh_from_db()
    assert case.status == "closed" and case.owner_id == owner.pk
    assert Lesson.objects.get(case=case).needs_article
    from caseloop.cases.loop.selectors import case_stages

    stages, following = case_stages(case=case)
    assert following == "" and all(s.done for s in stages if s.applies)
    log = kinds(case)
    for kind in (
        "paraphrase_set",
        "problem_sent_for_confirmation",
        "problem_answered",
        "policy_checked",
        "authority_checked",
        "fact_recorded",
        "alternative_added",
        "alternative_weighed",
        "alternative_preference",
        "alternative_chosen",
        "plan_created",
        "plan_shared",
        "plan_consent",
        "escalated",
        "escalation_accepted",
        "plan_step_changed",
        "plan_update_sent",
        "escalation_solved",
        "followup_scheduled",
        "followup_answered",
        "lesson_recorded",
    ):
        assert kind in log, kind


def test_panel_forms_check_their_input_and_refuse_objects_of_another_case(client):
    from django.contrib.messages import get_messages

    from caseloop.cases.loop.alternatives import alternative_add

    agent = make_agent()
    case = make_case(actor=agent)
    other = make_case(actor=agent)
    foreign = alternative_add(case=other, title="Someone else's option", actor=agent)
    client.force_login(agent)

    def errors(action, data):
        response = _post(client, case, action, data)
        assert response.status_code == 302
        shown = [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
        client.get(f"/cases/{case.pk}/")  # shows, and so clears, the messages
        return shown

    assert errors("weigh", {"alternative": foreign.pk}) == ["no such alternative"]
    mine = alternative_add(case=case, title="Reship", actor=agent)
    [too_high] = errors("weigh", {"alternative": mine.pk, "feasibility": "9"})
    assert "less than or equal to 5" in too_high
    [refused] = errors("authority", {"remedy": "x", "amount": "lots"})
    assert "no such remedy" in refused and "number" in refused
    assert errors("escalation", {"do": "accept"}) == ["choose an escalation"]
    mine.refresh_from_db()
    assert mine.feasibility is None
