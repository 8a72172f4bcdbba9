import re
from datetime import timedelta

import pytest

from caseloop.cases.loop import followups as loop_followups, selectors as loop_selectors
from caseloop.cases.models import FollowUp, LoopSettings
from caseloop.cases.services import case_transition, message_add
from tests.builders import bearer, make_agent, make_case, make_customer_user

from .helpers import kinds

pytestmark = pytest.mark.django_db


@pytest.fixture
def solved(django_capture_on_commit_callbacks):
    """A solved case owned by an agent; the follow-up was scheduled by the status hook."""
    owner = make_agent()
    case = make_case(actor=owner)
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(case=case, to="open", actor=owner)
        case_transition(case=case, to="solved", actor=owner)
    case.refresh_from_db()
    return case, owner


def test_solving_a_case_schedules_its_follow_up_after_the_configured_delay(
    django_capture_on_commit_callbacks,
):
    LoopSettings.objects.create(followup_delay_hours=48)
    owner = make_agent()
    case = make_case(actor=owner)
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(case=case, to="open", actor=owner)
        case_transition(case=case, to="solved", actor=owner)
    followup = FollowUp.objects.get(case=case)
    assert followup.state == "scheduled"
    assert timedelta(hours=47, minutes=59) < followup.due_at - case.events.last().created_at
    event = case.events.get(kind="followup_scheduled")
    assert event.data["delay_hours"] == 48


def test_the_follow_up_asks_when_due_and_yes_closes_the_case(solved, client):
    case, owner = solved
    followup = FollowUp.objects.get(case=case)
    early = loop_followups.followups_process(now=followup.due_at - timedelta(minutes=1))
    assert early["asked"] == 0
    counts = loop_followups.followups_process(now=followup.due_at)
    assert counts["asked"] == 1
    followup.refresh_from_db()
    assert followup.state == "asked" and followup.asked_message.direction == "outbound"
    assert followup.asked_message.metadata["system"] is True
    yes = re.search(r"Yes, it is solved: http://[^/]+(/\S+)", followup.asked_message.text).group(1)
    assert client.post(yes).status_code == 200
    case.refresh_from_db()
    followup.refresh_from_db()
    assert case.status == "closed" and followup.state == "confirmed"
    assert followup.channel == "link"
    closed = case.events.filter(kind="status_changed").last()
    assert closed.data == {
        "before": "solved",
        "after": "closed",
        "reason": "customer confirmed it is solved",
    }


def test_no_reopens_the_case_to_its_owner(solved):
    case, owner = solved
    solver = make_agent()
    from caseloop.cases.services import case_update

    case_update(case=case, actor=owner, assignee=solver)
    loop_followups.followup_answer(case=case, solved=False, channel="portal")
    case.refresh_from_db()
    assert case.status == "open" and case.owner_id == owner.pk and case.assignee_id == owner.pk
    followup = FollowUp.objects.get(case=case)
    assert followup.state == "reopened" and followup.reason == "customer says it is not solved"
    reopened = case.events.filter(kind="status_changed").last()
    assert reopened.data["reopened"] is True and reopened.data["after"] == "open"
    assert "followup_answered" in kinds(case)


def test_no_answer_closes_the_case_after_the_configured_days_and_says_so(solved):
    LoopSettings.objects.create(followup_answer_days=5)
    case, _ = solved
    followup = FollowUp.objects.get(case=case)
    loop_followups.followups_process(now=followup.due_at)
    followup.refresh_from_db()
    assert (
        loop_followups.followups_process(now=followup.answer_by - timedelta(minutes=1))[
            "closed_no_answer"
        ]
        == 0
    )
    assert loop_followups.followups_process(now=followup.answer_by)["closed_no_answer"] == 1
    case.refresh_from_db()
    followup.refresh_from_db()
    assert case.status == "closed"
    assert followup.state == "closed_no_answer" and followup.reason == "no answer after 5 days"
    closed = case.events.filter(kind="status_changed").last()
    assert closed.data["reason"] == "no answer after 5 days"
    assert case.events.get(kind="followup_closed_no_answer").data["reason"] == (
        "no answer after 5 days"
    )


def test_the_customer_writing_again_cancels_the_follow_up(
    solved, django_capture_on_commit_callbacks
):
    case, _ = solved
    with django_capture_on_commit_callbacks(execute=True):
        message_add(case=case, direction="inbound", text="Still broken!")
    followup = FollowUp.objects.get(case=case)
    assert followup.state == "cancelled" and followup.reason == "case reopened"
    assert loop_followups.followups_process(now=followup.due_at + timedelta(days=30))["asked"] == 0


def test_the_periodic_pass_schedules_solved_cases_the_hook_missed():
    owner = make_agent()
    case = make_case(actor=owner)
    case_transition(case=case, to="open", actor=owner)
    case_transition(case=case, to="solved", actor=owner)
    assert not FollowUp.objects.filter(case=case).exists()
    assert loop_followups.followups_process()["scheduled"] == 1
    assert FollowUp.objects.get(case=case).state == "scheduled"
    assert loop_followups.followups_process()["scheduled"] == 0


def test_the_portal_answers_through_the_api_for_its_own_case(solved, api):
    case, _ = solved
    customer = make_customer_user(customer=case.customer)
    response = api.post(
        f"/api/v1/cases/{case.pk}/follow-up", {"solved": True}, headers=bearer(customer)
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "confirmed" and response.json()["channel"] == "portal"
    again = api.post(
        f"/api/v1/cases/{case.pk}/follow-up", {"solved": True}, headers=bearer(customer)
    )
    assert again.status_code == 409
    listed = api.get(f"/api/v1/cases/{case.pk}/follow-up", headers=bearer(customer)).json()
    assert [f["state"] for f in listed] == ["confirmed"]


def test_an_agent_closing_the_case_cancels_the_follow_up_with_a_reason(
    solved, django_capture_on_commit_callbacks
):
    case, owner = solved
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(case=case, to="closed", actor=owner)
    followup = FollowUp.objects.get(case=case)
    assert followup.state == "cancelled"
    assert followup.reason == "case closed before the customer answered"
    assert loop_followups.followups_process(now=followup.due_at)["asked"] == 0
    assert case.events.get(kind="followup_cancelled").data["reason"] == followup.reason


def test_once_solved_the_next_step_is_the_follow_up_not_earlier_stages(solved):
    case, _ = solved
    stages, following = loop_selectors.case_stages(case=case)
    assert following == "The customer will be asked to confirm"
    assert not {s.key: s for s in stages}["alternatives"].done


def _links(followup) -> dict[str, str]:
    text = followup.asked_message.text
    return {
        answer: re.search(rf"{label}: http://[^/]+(/\S+)", text).group(1)
        for answer, label in [("yes", "Yes, it is solved"), ("no", "No, it is not")]
    }


def test_confirming_by_link_asks_for_a_rating_on_the_same_page_once(solved, client):
    from caseloop.insights.models import SatisfactionRating

    case, _ = solved
    followup = FollowUp.objects.get(case=case)
    loop_followups.followups_process(now=followup.due_at)
    followup.refresh_from_db()
    links = _links(followup)
    answered = client.post(links["yes"]).content.decode()
    assert 'id="rate"' in answered and "How satisfied are you" in answered
    # Coming back to the link later still offers it, until the case is rated.
    assert 'id="rate"' in client.get(links["yes"]).content.decode()

    bad = client.post(links["yes"], {"score": "9"})
    assert bad.status_code == 422 and b"from 1 to 5" in bad.content
    assert client.post(links["no"], {"score": "1"}).status_code == 400
    rated = client.post(links["yes"], {"score": "5", "comment": "Fast and kind"})
    assert rated.status_code == 200 and b"Thank you for rating" in rated.content
    rating = SatisfactionRating.objects.get(case=case)
    assert (rating.score, rating.comment, rating.channel) == (5, "Fast and kind", "email")
    assert rating.customer == case.customer
    assert case.events.get(kind="satisfaction_rated").data["channel"] == "email"

    again = client.post(links["yes"], {"score": "1"})
    assert again.status_code == 409 and b"already been rated" in again.content
    assert 'id="rate"' not in client.get(links["yes"]).content.decode()
    assert SatisfactionRating.objects.filter(case=case).count() == 1


def test_a_case_is_rated_only_once_it_is_solved():
    from caseloop.insights.services import AlreadyRated, rating_record

    case = make_case()
    with pytest.raises(AlreadyRated, match="once it is solved"):
        rating_record(case=case, customer=case.customer, score=4)
