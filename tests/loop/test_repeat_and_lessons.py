import pytest

from caseloop.cases.loop import alternatives as loop_alternatives, plans as loop_plans
from caseloop.cases.loop.selectors import case_resolution_text
from caseloop.cases.models import CaseLink, Lesson, RepeatComplaint
from caseloop.cases.services import case_tags_add, case_transition, message_add
from tests.builders import bearer, make_agent, make_case, make_category, make_customer

from .helpers import kinds

pytestmark = pytest.mark.django_db


def test_a_customer_with_an_unresolved_complaint_writing_again_is_flagged(
    django_capture_on_commit_callbacks,
):
    customer = make_customer()
    agent = make_agent()
    earlier = make_case(customer=customer, subject="Rude courier", actor=agent)
    case_tags_add(case=earlier, names=["complaint"], actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(customer=customer, subject="Still waiting for an answer")
    case.refresh_from_db()
    assert case.priority == "high"
    assert "repeat-complaint" in set(case.tags.values_list("name", flat=True))
    repeat = RepeatComplaint.objects.get(case=case)
    assert repeat.earlier_case_id == earlier.pk
    assert (repeat.priority_before, repeat.priority_after) == ("normal", "high")
    assert CaseLink.objects.filter(case=case, kind="case", linked_case=earlier).exists()
    # Raised with the reason; triage, which runs after, does not lower it again.
    [raised] = case.events.filter(kind="priority_changed")
    assert raised.data == {
        "before": "normal",
        "after": "high",
        "reason": f"repeat complaint: {earlier.reference} is still unresolved",
    }
    assert "repeat_complaint" in kinds(case)


def test_a_person_may_lower_a_repeat_complaints_priority(django_capture_on_commit_callbacks):
    from caseloop.cases.services import case_update

    customer = make_customer()
    agent = make_agent()
    earlier = make_case(customer=customer, actor=agent)
    case_tags_add(case=earlier, names=["complaint"], actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        case_update(case=case, actor=agent, priority="low", reason="customer says no rush")
    case.refresh_from_db()
    assert case.priority == "low"


def test_a_category_named_complaint_counts_and_closed_complaints_do_not(
    django_capture_on_commit_callbacks,
):
    customer = make_customer()
    agent = make_agent()
    complaints = make_category(name="Complaints")
    earlier = make_case(customer=customer, category=complaints, actor=agent)
    case_transition(case=earlier, to="open", actor=agent)
    case_transition(case=earlier, to="solved", actor=agent)
    case_transition(case=earlier, to="closed", actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        quiet = make_case(customer=customer)
    assert not RepeatComplaint.objects.filter(case=quiet).exists()
    with django_capture_on_commit_callbacks(execute=True):
        message_add(case=earlier, direction="inbound", text="It happened again")
    with django_capture_on_commit_callbacks(execute=True):
        flagged = make_case(customer=customer, priority="high")
    flagged.refresh_from_db()
    assert RepeatComplaint.objects.get(case=flagged).earlier_case_id == earlier.pk
    assert flagged.priority == "urgent"


def test_the_panel_shows_the_repeat_history(django_capture_on_commit_callbacks):
    from django.template.loader import render_to_string

    from caseloop.cases.loop.panel import loop_panel_context

    customer = make_customer()
    agent = make_agent()
    earlier = make_case(customer=customer, subject="Broken promise", actor=agent)
    case_tags_add(case=earlier, names=["complaint"], actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(customer=customer)
    html = render_to_string(
        "cases/partials/loop_panel.html", {"panel": loop_panel_context(case=case, user=agent)}
    )
    assert "Repeat complaint" in html and earlier.reference in html and "Broken promise" in html


def test_problem_statement_keeps_the_customers_first_words(django_capture_on_commit_callbacks, api):
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(text="My kettle leaks when I boil water.")
    agent = make_agent()
    body = api.get(f"/api/v1/cases/{case.pk}/problem", headers=bearer(agent)).json()
    assert body["customer_words"] == "My kettle leaks when I boil water."
    assert body["confirmation"] == "not_sent"
    assert kinds(case).count("problem_recorded") == 1
    put = api.client.put(
        f"/api/v1/cases/{case.pk}/problem",
        '{"paraphrase": "The kettle leaks while boiling"}',
        content_type="application/json",
        headers=bearer(agent),
    )
    assert put.status_code == 200 and put.json()["paraphrase"] == "The kettle leaks while boiling"
    sent = api.post(f"/api/v1/cases/{case.pk}/problem/send-for-confirmation", headers=bearer(agent))
    assert sent.json()["confirmation"] == "sent"
    answered = api.post(
        f"/api/v1/cases/{case.pk}/problem/answer",
        {"confirmed": True, "channel": "phone"},
        headers=bearer(agent),
    )
    assert (
        answered.json()["confirmation"] == "confirmed"
        and answered.json()["answer_channel"] == "phone"
    )


def _closed_case(agent):
    case = make_case(actor=agent)
    case_transition(case=case, to="open", actor=agent)
    case_transition(case=case, to="solved", actor=agent)
    case_transition(case=case, to="closed", actor=agent)
    return case


def test_lessons_are_recorded_at_close_and_listed_for_review(api, django_assert_max_num_queries):
    agent = make_agent()
    open_case = make_case(actor=agent)
    refused = api.post(
        f"/api/v1/cases/{open_case.pk}/lessons", {"summary": "too early"}, headers=bearer(agent)
    )
    assert refused.status_code == 409
    for n in range(3):
        case = _closed_case(agent)
        created = api.post(
            f"/api/v1/cases/{case.pk}/lessons",
            {"summary": f"Lesson {n}", "needs_article": n == 0, "needs_prepared_answer": True},
            headers=bearer(agent),
        )
        assert created.status_code == 201, created.content
        assert "lesson_recorded" in kinds(case)
    first = Lesson.objects.get(summary="Lesson 0")
    assert first.needs_article and first.needs_prepared_answer and first.state == "open"
    reviewed = api.patch(
        f"/api/v1/lessons/{first.pk}", {"state": "reviewed"}, headers=bearer(agent)
    )
    assert reviewed.json()["state"] == "reviewed"
    review = first.case.events.get(kind="lesson_reviewed")
    assert review.data == {"lesson": first.pk, "before": "open", "after": "reviewed"}
    headers = bearer(agent)
    with django_assert_max_num_queries(4):
        listed = api.get("/api/v1/lessons", headers=headers, state="open")
    assert [item["summary"] for item in listed.json()] == ["Lesson 2", "Lesson 1"]
    assert api.get("/api/v1/lessons", headers=headers, state="bogus").status_code == 422


def test_resolution_text_is_the_chosen_alternative_and_plan_else_the_last_reply():
    agent = make_agent()
    case = make_case(actor=agent)
    message_add(case=case, direction="outbound", text="We refunded you.", actor=agent)
    assert case_resolution_text(case=case) == "We refunded you."
    alternative = loop_alternatives.alternative_add(case=case, title="Refund in full", actor=agent)
    loop_alternatives.alternative_choose(
        alternative=alternative, reason="customer prefers it", actor=agent
    )
    loop_plans.plan_create(case=case, summary="Refund 39.90 to the card", actor=agent)
    assert case_resolution_text(case=case) == "Refund in full\n\nRefund 39.90 to the card"


def test_alternatives_are_proposed_from_similar_solved_cases(api):
    agent = make_agent()
    earlier = make_case(
        subject="Kettle leaks from the base",
        text="My new kettle leaks water from the base when boiling.",
        actor=agent,
    )
    message_add(
        case=earlier, direction="outbound", text="We sent a replacement kettle.", actor=agent
    )
    case_transition(case=earlier, to="solved", actor=agent)
    make_case(subject="Printer jams", text="The printer jams on every page.", actor=agent)
    case = make_case(
        subject="Kettle leaking at the base",
        text="The kettle leaks water from its base while boiling.",
        actor=agent,
    )
    response = api.post(f"/api/v1/cases/{case.pk}/alternatives/propose", headers=bearer(agent))
    assert response.status_code == 200, response.content
    proposed = response.json()
    assert [(p["source"], p["source_ref"]) for p in proposed] == [
        ("similar_case", earlier.reference)
    ]
    assert proposed[0]["title"] == f"As in {earlier.reference}: We sent a replacement kettle."
    again = api.post(f"/api/v1/cases/{case.pk}/alternatives/propose", headers=bearer(agent))
    assert again.json() == []
