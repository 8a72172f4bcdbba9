"""Agents set or correct a case's category and priority on the triage panel; the decision
is a case event and becomes training data."""

import pytest
from django.test import Client

from caseloop.cases.models import CaseEvent
from caseloop.triage.models import CaseTriage, TriageLabel
from tests.builders import make_agent, make_case, make_customer_user

from .helpers import case_opened

pytestmark = pytest.mark.django_db


@pytest.fixture
def cats(desk):
    return desk["cats"]


def test_an_agent_corrects_category_and_priority_and_triage_learns_it(
    client, cats, django_capture_on_commit_callbacks
):
    case = case_opened(django_capture_on_commit_callbacks, subject="Invoice", text="invoice wrong")
    assert case.category == cats["billing"]
    agent = make_agent()
    client.force_login(agent)
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="triage-decide"' in body and f'action="/triage/cases/{case.pk}/classify/"' in body

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/triage/cases/{case.pk}/classify/",
            {"category": cats["account"].pk, "priority": "high"},
            follow=True,
        )
    assert "triage learns from them" in response.content.decode()
    case.refresh_from_db()
    assert (case.category, case.priority) == (cats["account"], "high")
    changed = CaseEvent.objects.get(case=case, kind="category_changed", actor=agent)
    assert changed.data == {
        "before": cats["billing"].pk,
        "after": cats["account"].pk,
        "reason": "set by an agent on the triage panel",
    }
    labels = {label.field: label for label in TriageLabel.objects.filter(case=case)}
    assert labels["category"].value == str(cats["account"].pk)
    assert labels["category"].predicted == str(cats["billing"].pk)
    assert not labels["category"].correct
    assert labels["priority"].value == "high" and labels["priority"].actor == agent
    # The panel shows the decision, and what triage had said.
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Account</strong>" in body and "triage guessed Billing" in body
    assert "triage suggested normal" in body


def test_using_a_guess_takes_the_case_out_of_review(
    client, cats, django_capture_on_commit_callbacks
):
    case = case_opened(
        django_capture_on_commit_callbacks, subject="Hi", text="A refund for a parcel"
    )
    triage = CaseTriage.objects.get(case=case)
    assert triage.needs_review and case.category is None
    client.force_login(make_agent())
    body = client.get(f"/cases/{case.pk}/").content.decode()
    guess = triage.category_id
    assert f'name="category" value="{guess}"' in body  # a one-click "use" per candidate

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/triage/cases/{case.pk}/classify/", {"category": guess})
    case.refresh_from_db()
    assert case.category_id == guess
    assert "needs-review" not in set(case.tags.values_list("name", flat=True))
    assert not CaseTriage.objects.get(case=case).needs_review
    assert TriageLabel.objects.get(case=case, field="category").correct


def test_setting_the_category_ends_review_at_once_not_only_after_the_feedback_job(
    client, cats, django_capture_on_commit_callbacks
):
    case = case_opened(
        django_capture_on_commit_callbacks, subject="Hi", text="A refund for a parcel"
    )
    assert CaseTriage.objects.get(case=case).needs_review
    client.force_login(make_agent())
    # After-commit hooks (the feedback job) do not run here: only the request's own work.
    response = client.post(
        f"/triage/cases/{case.pk}/classify/", {"category": cats["delivery"].pk}, follow=True
    )
    assert "needs-review" not in set(case.tags.values_list("name", flat=True))
    assert not CaseTriage.objects.get(case=case).needs_review
    assert 'value="needs-review"' not in response.content.decode()
    removed = CaseEvent.objects.get(case=case, kind="tags_changed", data__after=[])
    assert removed.data["reason"] == "triage: an agent set the category"


def test_bad_choices_change_nothing_and_say_why(client, cats):
    case = make_case(category=cats["billing"])
    client.force_login(make_agent())
    cats["technical"].is_active = False
    cats["technical"].save()
    for data, error in [
        ({"category": "9999"}, "That category does not exist."),
        ({"category": "9" * 30}, "That category does not exist."),
        ({"category": cats["technical"].pk}, "That category does not exist."),
        ({"category": "billing"}, "That category does not exist."),
        ({"priority": "sky-high"}, "unknown priority"),
    ]:
        response = client.post(f"/triage/cases/{case.pk}/classify/", data, follow=True)
        assert response.status_code == 200
        assert error in response.content.decode()
    case.refresh_from_db()
    assert (case.category, case.priority) == (cats["billing"], "normal")
    changes = ["category_changed", "priority_changed"]
    assert not CaseEvent.objects.filter(case=case, kind__in=changes).exists()
    assert not TriageLabel.objects.exists()


def test_only_signed_in_agents_may_decide_and_only_by_post_with_csrf(cats):
    case = make_case(category=cats["billing"])
    url = f"/triage/cases/{case.pk}/classify/"
    anonymous = Client()
    assert anonymous.post(url, {"priority": "urgent"}).status_code == 302  # to sign-in
    customer = Client()
    customer.force_login(make_customer_user(customer=case.customer))
    assert customer.post(url, {"priority": "urgent"}).status_code == 403
    agent = Client(enforce_csrf_checks=True)
    agent.force_login(make_agent())
    assert agent.get(url).status_code == 405
    assert agent.post(url, {"priority": "urgent"}).status_code == 403  # no CSRF token
    case.refresh_from_db()
    assert case.priority == "normal"
