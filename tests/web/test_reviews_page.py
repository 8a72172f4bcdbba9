import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from caseloop.cases.services import case_transition
from caseloop.coach.services import coach_override_record
from caseloop.insights.models import QaReview
from caseloop.insights.reviews import qa_review_record, scorecard_current
from tests.builders import make_agent, make_case, make_user

pytestmark = pytest.mark.django_db


def solved_case(agent, **extra):
    case = make_case(**extra)
    case_transition(case=case, to="open", actor=agent)
    case_transition(case=case, to="solved", actor=agent)
    case.refresh_from_db()
    return case


def review(*, case, agent, reviewer, value=2, comment=""):
    """A review scoring every 0–2 criterion `value`, every yes/no criterion yes."""
    scores = {c.pk: value if c.scale == "0-2" else 1 for c in scorecard_current().criteria.all()}
    return qa_review_record(
        case=case, agent=agent, reviewer=reviewer, scores=scores, comment=comment
    )


def form_data(**overrides):
    """Every criterion of the default card scored at the top of its scale."""
    data = {
        f"c{c.pk}": "2" if c.scale == "0-2" else "1" for c in scorecard_current().criteria.all()
    }
    data.update(overrides)
    return data


def test_agents_cannot_open_another_agents_review_pages(client):
    agent, other = make_agent(), make_agent()
    case = solved_case(other)
    client.force_login(agent)
    assert client.get(f"/manager/agents/{other.pk}/").status_code == 403
    assert client.get(f"/manager/agents/{other.pk}/?format=csv").status_code == 403
    assert client.get(f"/manager/agents/{other.pk}/review/{case.pk}/").status_code == 403
    response = client.post(f"/manager/agents/{other.pk}/review/{case.pk}/", form_data())
    assert response.status_code == 403
    assert not QaReview.objects.exists()


def test_a_customer_is_no_agent_to_review(client):
    manager, customer_user = make_user(role="manager"), make_user(role="customer")
    client.force_login(manager)
    assert client.get(f"/manager/agents/{customer_user.pk}/").status_code == 404


def test_the_team_page_links_each_agent_to_their_page(client):
    manager, agent = make_user(role="manager"), make_agent(username="dora")
    client.force_login(manager)
    page = client.get("/manager/").content.decode()
    assert f'href="/manager/agents/{agent.pk}/">dora</a>' in page


def test_the_agent_page_shows_metrics_overrides_the_qa_summary_trend_sample_and_reviews(
    client, django_assert_num_queries
):
    manager, agent = make_user(role="manager"), make_agent(username="ana")
    reviewed = [solved_case(agent) for _ in range(2)]
    to_review = [solved_case(agent) for _ in range(3)]
    review(case=reviewed[0], agent=agent, reviewer=manager, value=2, comment="Spot on")
    older = review(case=reviewed[1], agent=agent, reviewer=manager, value=1)
    QaReview.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=7))
    coach_override_record(user=agent, case=to_review[0], rule_ids=["jargon"])
    client.force_login(manager)

    with django_assert_num_queries(19):  # 18, and the problems credited to the agent
        response = client.get(f"/manager/agents/{agent.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    summary = response.context["summary"]
    # 100 and 50 (every criterion at 1 of 0–2 = 50, yes = 100, weighted: see test_reviews).
    assert summary.n == 2
    assert f'id="qa-average">{summary.average}<' in page
    assert 'id="qa-trend"' in page and len(summary.weeks) == 5
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    assert f"<td>{monday:%Y-%m-%d}</td><td>100.0</td><td>1</td>" in page
    assert 'id="agent-override-total">1<' in page
    assert {item.case.pk for item in response.context["sample"]} == {c.pk for c in to_review}
    assert f"/manager/agents/{agent.pk}/review/{to_review[0].pk}/?back=from%3D" in page
    assert "Spot on" in page
    metrics = {row["name"]: row for row in response.context["metrics"]}
    assert metrics["solved"]["owner"].link.endswith(f"&owner={agent.pk}")
    assert "metric=csat&from=" in metrics["csat"]["solver"].link

    # More cases, reviews and overrides cost no more queries (no query per row).
    for _ in range(3):
        case = solved_case(agent)
        coach_override_record(user=agent, case=case, rule_ids=["truthful"])
        review(case=solved_case(agent), agent=agent, reviewer=manager)
    with django_assert_num_queries(19):  # 18, and the problems credited to the agent
        client.get(f"/manager/agents/{agent.pk}/")


def test_the_period_defaults_to_the_last_30_days_and_follows_the_chosen_dates(client):
    manager, agent = make_user(role="manager"), make_agent()
    client.force_login(manager)
    today = timezone.localdate()
    response = client.get(f"/manager/agents/{agent.pk}/")
    assert (response.context["start"], response.context["end"]) == (
        today - timedelta(days=29),
        today,
    )
    response = client.get(f"/manager/agents/{agent.pk}/?from=2026-01-05&to=2026-01-18")
    assert [w.week.isoformat() for w in response.context["summary"].weeks] == [
        "2026-01-05",
        "2026-01-12",
    ]
    response = client.get(f"/manager/agents/{agent.pk}/?from=2026-02-01&to=2026-01-01")
    assert "the period ends before it starts" in response.content.decode()
    assert response.context["end"] == today


def test_a_review_is_recorded_through_the_form_built_from_the_scorecard(client):
    manager, agent = make_user(role="manager"), make_agent()
    case = solved_case(agent)
    client.force_login(manager)
    page = client.get(f"/manager/agents/{agent.pk}/review/{case.pk}/").content.decode()
    for criterion in scorecard_current().criteria.all():
        assert criterion.label in page
    tone = scorecard_current().criteria.get(label="Offered alternatives")
    response = client.post(
        f"/manager/agents/{agent.pk}/review/{case.pk}/",
        form_data(**{f"c{tone.pk}": "na"}, comment="Clear and kind.", back="from=2026-01-01"),
    )
    assert response.status_code == 302
    assert response["Location"] == f"/manager/agents/{agent.pk}/?from=2026-01-01"
    saved = QaReview.objects.get(case=case, agent=agent)
    assert (saved.score, saved.comment, saved.reviewer) == (100.0, "Clear and kind.", manager)
    assert saved.scores.get(criterion=tone).value is None


def test_a_score_off_the_scale_is_shown_as_a_form_error_and_nothing_is_saved(client):
    manager, agent = make_user(role="manager"), make_agent()
    case = solved_case(agent)
    client.force_login(manager)
    tone = scorecard_current().criteria.get(label="Tone")
    response = client.post(
        f"/manager/agents/{agent.pk}/review/{case.pk}/", form_data(**{f"c{tone.pk}": "7"})
    )
    assert response.status_code == 422
    assert "&#x27;Tone&#x27; is one of: 0 — not done, 1 — partly, 2 — done" in (
        response.content.decode()
    )
    na_refused = scorecard_current().criteria.get(label="Accuracy")
    response = client.post(
        f"/manager/agents/{agent.pk}/review/{case.pk}/", form_data(**{f"c{na_refused.pk}": "na"})
    )
    assert response.status_code == 422
    assert not QaReview.objects.exists()


def test_a_second_review_of_the_same_case_is_refused_on_the_form(client):
    manager, agent = make_user(role="manager"), make_agent()
    case = solved_case(agent)
    review(case=case, agent=agent, reviewer=manager)
    client.force_login(make_user(role="admin"))
    response = client.post(f"/manager/agents/{agent.pk}/review/{case.pk}/", form_data())
    assert response.status_code == 409
    assert "is already reviewed for" in response.content.decode()


def test_any_case_can_be_picked_for_review_by_its_reference(client):
    manager, agent = make_user(role="manager"), make_agent()
    case = solved_case(agent)
    client.force_login(manager)
    response = client.get(
        f"/manager/agents/{agent.pk}/review/", {"case": case.reference, "back": "from=2026-01-01"}
    )
    assert response.status_code == 302
    assert response["Location"] == (f"/manager/agents/{agent.pk}/review/{case.pk}/?from=2026-01-01")
    assert (
        client.get(f"/manager/agents/{agent.pk}/review/", {"case": "CL-999999"}).status_code == 404
    )


def test_the_csv_export_has_a_header_and_one_row_per_review(client, django_assert_num_queries):
    manager, agent = make_user(role="manager"), make_agent(username="ana")
    first = review(case=solved_case(agent), agent=agent, reviewer=manager, comment="=HYPERLINK()")
    second = review(case=solved_case(agent), agent=agent, reviewer=manager, value=0)
    client.force_login(manager)

    with django_assert_num_queries(5):
        response = client.get(f"/manager/agents/{agent.pk}/?format=csv")

    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    labels = [c.label for c in scorecard_current().criteria.all()]
    assert rows[0] == [
        "reviewed_at",
        "case",
        "subject",
        "agent",
        "reviewer",
        "scorecard",
        "score",
        *labels,
        "comment",
    ]
    assert len(rows) == 3
    assert [row[1] for row in rows[1:]] == [first.case.reference, second.case.reference]
    assert rows[1][6] == "100.0" and rows[1][-1] == "'=HYPERLINK()"


def test_admins_edit_the_scorecard_and_its_criteria_in_the_admin(client):
    client.force_login(make_user(role="admin"))
    card = scorecard_current()
    page = client.get(f"/admin/insights/scorecard/{card.pk}/change/")
    assert page.status_code == 200
    assert "Understood the problem" in page.content.decode()
    assert client.get("/admin/insights/qareview/").status_code == 200
