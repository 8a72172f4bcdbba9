"""New cases and messages are triaged after commit; agents' corrections become training
data; the live model's accuracy against agents is reported."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from caseloop.cases.models import Case, CaseEvent, Category
from caseloop.cases.services import case_update, message_add
from caseloop.customers.models import Organization
from caseloop.triage import learning
from caseloop.triage.models import (
    CaseTriage,
    MessageMood,
    TriageLabel,
    TriagePolicy,
)
from caseloop.triage.selectors import (
    case_is_complaint,
    case_triage,
    cases_complaint_ids,
    triage_accuracy,
)
from caseloop.triage.services import case_triage_run
from tests.builders import make_agent, make_case, make_customer

from .helpers import case_opened as _open, desk_history

pytestmark = pytest.mark.django_db


def test_a_new_case_arrives_categorized_prioritized_mood_flagged_and_routed(
    desk, django_capture_on_commit_callbacks
):
    case = _open(
        django_capture_on_commit_callbacks,
        subject="Charged twice",
        text="You charged me twice on the invoice. Third time I'm writing! Refund it urgently.",
    )
    assert case.category == desk["cats"]["billing"]
    assert case.team == desk["team"] and case.assignee == desk["agent"]
    assert case.owner == desk["agent"]
    # Urgency +2, a very negative mood +2 and "third time I'm writing" +2.
    assert case.priority == "urgent"
    assert "complaint" in set(case.tags.values_list("name", flat=True))
    triage = CaseTriage.objects.get(case=case)
    assert triage.category_source == "rules" and not triage.needs_review
    signals = {f["signal"] for f in triage.priority_factors}
    assert {"urgency", "negative_sentiment", "repeat_complaint"} <= signals
    assert "frustrated" in triage.mood["flags"] and "complaint" in triage.mood["flags"]
    assert MessageMood.objects.filter(case_id=case.pk).count() == 1
    events = CaseEvent.objects.filter(case=case)
    category_event = events.get(kind="category_changed")
    assert category_event.actor is None
    assert category_event.data["reason"].startswith("triage: category Billing at")
    priority_event = events.get(kind="priority_changed")
    assert "words of urgency +2" in priority_event.data["reason"]
    assert "repeat contact about an unresolved complaint +2" in priority_event.data["reason"]
    triaged = events.get(kind="triaged")
    assert triaged.data["priority"]["factors"] == triage.priority_factors
    assert events.filter(kind="routed").exists()


def test_an_unsure_guess_marks_the_case_for_review_instead_of_categorizing(
    desk, django_capture_on_commit_callbacks
):
    case = _open(django_capture_on_commit_callbacks, subject="Hello", text="A refund for a parcel")
    triage = CaseTriage.objects.get(case=case)
    assert triage.category_id is not None and triage.confidence < 0.5
    assert triage.needs_review
    assert case.category is None
    assert "needs-review" in set(case.tags.values_list("name", flat=True))
    reason = CaseEvent.objects.get(case=case, kind="tags_changed").data["reason"]
    assert "under the 50% threshold" in reason


def test_the_review_threshold_is_configurable(desk, django_capture_on_commit_callbacks):
    TriagePolicy.objects.update_or_create(pk=1, defaults={"review_threshold": 0.3})
    case = _open(django_capture_on_commit_callbacks, subject="Hello", text="A refund for a parcel")
    assert case.category == desk["cats"]["billing"]
    assert not CaseTriage.objects.get(case=case).needs_review


def test_what_an_agent_already_set_is_left_alone(desk, django_capture_on_commit_callbacks):
    case = _open(
        django_capture_on_commit_callbacks,
        subject="Parcel",
        text="The courier lost my parcel, this is urgent!",
        category=desk["cats"]["technical"],
        priority="low",
    )
    assert case.category == desk["cats"]["technical"]
    assert case.priority == "low"
    assert CaseTriage.objects.get(case=case).priority in {"high", "urgent"}


def test_a_new_inbound_message_is_read_and_raises_priority_when_the_mood_turns(
    desk, django_capture_on_commit_callbacks
):
    case = _open(django_capture_on_commit_callbacks, subject="Invoice", text="Invoice question")
    assert case.priority == "normal"
    with django_capture_on_commit_callbacks(execute=True):
        message = message_add(
            case=case,
            direction="inbound",
            text="This is the third time I'm writing and nobody has answered. Unacceptable!!!",
        )
    mood = MessageMood.objects.get(message=message)
    assert mood.frustrated and mood.complaint_probability > 0.5
    flagged = CaseEvent.objects.get(case=case, kind="mood_flagged")
    assert "complaint" in flagged.data["flags"]
    case.refresh_from_db()
    assert case.priority in {"high", "urgent"}
    assert case_triage(case=case)["mood"]["messages"] == 2
    assert case_triage(case=case)["mood"]["trend"]["direction"] == "worsening"


def test_outbound_messages_get_no_mood(desk, django_capture_on_commit_callbacks):
    case = _open(django_capture_on_commit_callbacks, subject="Invoice", text="Invoice question")
    with django_capture_on_commit_callbacks(execute=True):
        reply = message_add(
            case=case, direction="outbound", text="Happy to help!", actor=desk["agent"]
        )
    assert not MessageMood.objects.filter(message=reply).exists()


def test_vip_premium_and_repeat_complaints_raise_priority(desk, django_capture_on_commit_callbacks):
    org = Organization.objects.create(name="Big Co", service_level="premium")
    customer = make_customer()
    customer.is_vip = True
    customer.organization = org
    customer.save(update_fields=["is_vip", "organization"])
    _open(
        django_capture_on_commit_callbacks,
        customer=customer,
        subject="Still broken",
        text="Unacceptable. My order arrived damaged and nobody has replied.",
    )
    second = _open(
        django_capture_on_commit_callbacks,
        customer=customer,
        subject="Question",
        text="Could you tell me the opening hours?",
    )
    factors = {f["signal"]: f for f in CaseTriage.objects.get(case=second).priority_factors}
    assert set(factors) >= {"vip", "service_level", "repeat_complaint"}
    assert factors["repeat_complaint"]["detail"].startswith("open complaint CL-")
    assert second.priority in {"high", "urgent"}


def test_case_is_complaint_reads_moods_and_the_complaint_tag(
    desk, django_capture_on_commit_callbacks
):
    angry = _open(
        django_capture_on_commit_callbacks,
        subject="x",
        text="Second time I've written about this, still no reply.",
    )
    calm = _open(django_capture_on_commit_callbacks, subject="x", text="What are your hours?")
    assert case_is_complaint(case=angry)
    assert not case_is_complaint(case=calm)
    case_update(case=calm, actor=desk["agent"], tags=["complaint"])
    assert case_is_complaint(case=calm)
    # before triage has read it (no commit yet), the text is read on the spot
    unread = make_case(subject="x", text="How many times do I have to ask for my refund?")
    assert not MessageMood.objects.filter(case_id=unread.pk).exists()
    assert case_is_complaint(case=unread)
    assert not case_is_complaint(case=make_case(subject="x", text="What are your hours?"))


def test_many_cases_get_the_same_complaint_verdict_in_three_queries(
    desk, django_capture_on_commit_callbacks
):
    """The repeat-complaint checks ask about a customer's twenty latest cases: one verdict
    for all of them, in a fixed number of queries, the same as asking case by case."""
    angry = _open(
        django_capture_on_commit_callbacks,
        subject="x",
        text="Second time I've written about this, still no reply.",
    )
    calm = _open(django_capture_on_commit_callbacks, subject="x", text="What are your hours?")
    tagged = _open(django_capture_on_commit_callbacks, subject="x", text="Where is my parcel?")
    case_update(case=tagged, actor=desk["agent"], tags=["complaint"])
    in_category = make_case(subject="x", text="Hello")
    in_category.category = Category.objects.create(name="Complaints", slug="complaints")
    in_category.save(update_fields=["category"])
    unread = make_case(subject="x", text="How many times do I have to ask for my refund?")
    unread_calm = make_case(subject="x", text="What are your hours?")
    cases = list(
        Case.objects.filter(
            pk__in=[c.pk for c in (angry, calm, tagged, in_category, unread, unread_calm)]
        ).select_related("category")
    )
    one_by_one = {case.pk for case in cases if case_is_complaint(case=case)}
    with CaptureQueriesContext(connection) as queries:
        together = cases_complaint_ids(cases=cases)
    assert together == one_by_one == {angry.pk, tagged.pk, in_category.pk, unread.pk}
    assert len(queries.captured_queries) <= 3


def test_agent_corrections_become_training_data_and_accuracy_is_reported(
    django_capture_on_commit_callbacks,
):
    cats = desk_history()
    version = learning.model_train()
    assert version is not None
    agent = make_agent()
    case = _open(
        django_capture_on_commit_callbacks,
        subject="Money taken twice",
        text="I was charged twice for my subscription and want a refund",
    )
    triage = CaseTriage.objects.get(case=case)
    assert triage.category_source == "model" and triage.model_version == version
    assert triage.category == cats["billing"]
    with django_capture_on_commit_callbacks(execute=True):
        case_update(case=case, actor=agent, category=cats["account"], priority="high")
    labels = {label.field: label for label in TriageLabel.objects.filter(case=case)}
    assert labels["category"].value == str(cats["account"].pk)
    assert labels["category"].predicted == str(cats["billing"].pk)
    assert labels["category"].actor == agent and labels["category"].model_version == version
    assert labels["priority"].value == "high"
    data = learning.training_set_category()
    assert data.labels[data.case_ids.index(case.pk)] == str(cats["account"].pk)

    right = _open(
        django_capture_on_commit_callbacks,
        subject="Parcel",
        text="My parcel has not arrived and the courier says delivered",
    )
    assert right.category == cats["delivery"]
    right.status = "solved"
    right.solved_at = timezone.now()
    right.save(update_fields=["status", "solved_at"])
    accuracy = triage_accuracy()
    assert accuracy["category"]["n"] == 2
    assert accuracy["category"]["correct"] == 1
    assert accuracy["category"]["accuracy"] == 0.5
    assert accuracy["category"]["by_source"]["set"] == {"n": 1, "correct": 0, "accuracy": 0.0}
    assert accuracy["category"]["live_model_version"] == version.version
    assert accuracy["priority"]["n"] == 1


def test_changes_triage_makes_itself_are_not_feedback(desk, django_capture_on_commit_callbacks):
    _open(django_capture_on_commit_callbacks, subject="Invoice", text="invoice charged refund")
    assert not TriageLabel.objects.exists()


def test_setting_the_category_clears_needs_review(desk, django_capture_on_commit_callbacks):
    case = _open(django_capture_on_commit_callbacks, subject="Hello", text="A refund for a parcel")
    with django_capture_on_commit_callbacks(execute=True):
        case_update(case=case, actor=desk["agent"], category=desk["cats"]["delivery"])
    assert not CaseTriage.objects.get(case=case).needs_review
    assert "needs-review" not in set(case.tags.values_list("name", flat=True))


def test_a_learned_priority_model_is_used_only_once_trained(desk):
    agent = desk["agent"]
    urgent_texts = ["the machine is beeping loudly", "alarm is beeping all night"]
    for i in range(20):
        case = make_case(subject=f"Case {i}", text=urgent_texts[i % 2] if i < 10 else "a question")
        case_update(case=case, actor=agent, priority="urgent" if i < 10 else "low")
        from caseloop.triage.services import triage_feedback_record

        triage_feedback_record(case_id=case.pk, fields=["priority"])
    before = make_case(subject="Beeping", text="my machine is beeping loudly")
    assert case_triage_run(case_id=before.pk, route=False).priority_source == "signals"
    TriagePolicy.objects.update_or_create(pk=1, defaults={"min_training_samples": 10})
    assert learning.model_train(kind="priority") is not None
    after = make_case(subject="Beeping", text="my machine is beeping loudly")
    triage = case_triage_run(case_id=after.pk, route=False)
    assert triage.priority_source == "model"
    assert triage.priority == "urgent"
    assert any(f["signal"] == "learned_model" for f in triage.priority_factors)
