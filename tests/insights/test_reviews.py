from datetime import timedelta

import pytest
from django.utils import timezone

from caseloop.cases.models import CaseEvent
from caseloop.cases.services import case_transition
from caseloop.coach.services import coach_override_record
from caseloop.insights.models import QaReview, QaScore, Scorecard
from caseloop.insights.reviews import (
    AlreadyReviewed,
    QaReviewError,
    QaReviewForbidden,
    QaScoreInvalid,
    agent_qa_summary,
    qa_review_record,
    qa_sample,
    qa_sample_pool,
    scorecard_current,
)
from caseloop.insights.services import rating_record
from caseloop.lib.errors import http_status_for
from tests.builders import make_agent, make_case, make_escalation, make_user

pytestmark = pytest.mark.django_db


def solved_case(agent, **extra):
    case = make_case(**extra)
    case_transition(case=case, to="open", actor=agent)
    case_transition(case=case, to="solved", actor=agent)
    case.refresh_from_db()
    return case


def last_30_days():
    today = timezone.localdate()
    return today - timedelta(days=29), today


@pytest.fixture
def card():
    """Four criteria: 0–2 weight 3, yes/no weight 2, 0–2 weight 2 (n.a. allowed), 1–5
    weight 1."""
    scorecard = Scorecard.objects.create(name="Test card")
    scorecard.criteria.create(label="Understood", scale="0-2", weight=3, allows_na=False, order=1)
    scorecard.criteria.create(label="Confirmed", scale="yes-no", weight=2, allows_na=False, order=2)
    scorecard.criteria.create(label="Alternatives", scale="0-2", weight=2, allows_na=True, order=3)
    scorecard.criteria.create(label="Tone", scale="1-5", weight=1, allows_na=True, order=4)
    return scorecard


def ids(card):
    return [c.pk for c in card.criteria.order_by("order")]


def test_a_new_desk_has_a_default_scorecard_with_the_loops_criteria():
    current = scorecard_current()
    assert current is not None and current.is_default
    labels = [c.label for c in current.criteria.all()]
    assert labels == [
        "Understood the problem",
        "Confirmed the problem statement",
        "Offered alternatives",
        "Tone",
        "Accuracy",
        "Followed up",
    ]


def test_the_score_is_the_weighted_mean_of_the_criteria_that_applied(card):
    manager, agent = make_user(role="manager"), make_agent()
    case = solved_case(agent)
    understood, confirmed, alternatives, tone = ids(card)
    review = qa_review_record(
        case=case,
        agent=agent,
        reviewer=manager,
        scores={understood: 1, confirmed: 1, alternatives: None, tone: 4},
        comment="  Good save.  ",
        scorecard=card,
    )
    # 1 of 0–2 is 50, yes is 100, 4 of 1–5 is 75; alternatives (n.a.) drops out:
    # (3·50 + 2·100 + 1·75) / (3 + 2 + 1) = 425 / 6
    assert review.score == pytest.approx(70.83)
    assert review.comment == "Good save."
    stored = {s.criterion_id: (s.value, s.percent, s.weight) for s in review.scores.all()}
    assert stored[alternatives] == (None, None, 2)
    assert stored[tone] == (4, 75.0, 1)
    event = CaseEvent.objects.filter(case=case, kind="qa_reviewed").get()
    assert event.actor == manager
    assert event.data == {
        "review": review.pk,
        "agent": agent.pk,
        "scorecard": card.pk,
        "score": review.score,
    }


@pytest.mark.parametrize(
    "change, words",
    [
        ({"understood": 3}, "'Understood' is scored 0, 1, 2; not 3"),
        ({"confirmed": None}, "'Confirmed' cannot be n.a."),
        ({"tone": "5"}, "'Tone' is scored 1, 2, 3, 4, 5 or n.a.; not '5'"),
        ({"understood": True}, "'Understood' is scored 0, 1, 2; not True"),
        ({"alternatives": ...}, "'Alternatives' needs a score"),
        ({999999: 1}, "no criterion 999999 on this scorecard"),
    ],
)
def test_a_score_the_scale_does_not_have_is_refused_naming_the_criterion(card, change, words):
    manager, agent = make_user(role="manager"), make_agent()
    case = solved_case(agent)
    names = dict(zip(["understood", "confirmed", "alternatives", "tone"], ids(card), strict=True))
    scores = {names["understood"]: 2, names["confirmed"]: 0, names["alternatives"]: 1}
    scores[names["tone"]] = 5
    for key, value in change.items():
        pk = names.get(key, key)
        if value is ...:
            scores.pop(pk)
        else:
            scores[pk] = value
    with pytest.raises(QaScoreInvalid) as refused:
        qa_review_record(
            case=case, agent=agent, reviewer=manager, scores=scores, comment="", scorecard=card
        )
    assert words in str(refused.value)
    assert http_status_for(refused.value) == 422
    assert not QaReview.objects.exists() and not QaScore.objects.exists()


def test_a_review_where_nothing_applied_is_refused(card):
    manager, agent = make_user(role="manager"), make_agent()
    case = solved_case(agent)
    only_optional = Scorecard.objects.create(name="Optional only")
    criterion = only_optional.criteria.create(label="Followed up", scale="yes-no", allows_na=True)
    with pytest.raises(QaScoreInvalid, match="cannot all be n.a."):
        qa_review_record(
            case=case,
            agent=agent,
            reviewer=manager,
            scores={criterion.pk: None},
            scorecard=only_optional,
        )


def test_only_managers_and_admins_review_and_never_their_own_work():
    agent, colleague, manager = make_agent(), make_agent(), make_user(role="manager")
    case = solved_case(agent)
    current = scorecard_current()
    scores = {c.pk: None if c.allows_na else 1 for c in current.criteria.all()}
    with pytest.raises(QaReviewForbidden) as refused:
        qa_review_record(case=case, agent=agent, reviewer=colleague, scores=scores)
    assert http_status_for(refused.value) == 403
    own = solved_case(manager)
    with pytest.raises(QaReviewForbidden):
        qa_review_record(case=own, agent=manager, reviewer=manager, scores=scores)
    admin = make_user(role="admin")
    assert qa_review_record(case=case, agent=agent, reviewer=admin, scores=scores).score == 50.0


def test_a_case_is_reviewed_once_for_an_agent_who_worked_on_it():
    agent, bystander, manager = make_agent(), make_agent(), make_user(role="manager")
    case = solved_case(agent)
    scores = {c.pk: 2 if c.scale == "0-2" else 1 for c in scorecard_current().criteria.all()}
    assert qa_review_record(case=case, agent=agent, reviewer=manager, scores=scores).score == 100
    with pytest.raises(AlreadyReviewed) as twice:
        qa_review_record(case=case, agent=agent, reviewer=make_user(role="admin"), scores=scores)
    assert http_status_for(twice.value) == 409
    with pytest.raises(QaReviewError, match="has not worked on"):
        qa_review_record(case=case, agent=bystander, reviewer=manager, scores=scores)


def test_the_sample_holds_only_the_agents_solved_cases_of_the_period_not_yet_reviewed():
    agent, other, manager = make_agent(), make_agent(), make_user(role="manager")
    start, end = last_30_days()
    mine = [solved_case(agent) for _ in range(3)]
    still_open = make_case()
    case_transition(case=still_open, to="open", actor=agent)
    solved_by_other = solved_case(other)
    before_the_period = solved_case(agent)
    type(before_the_period).objects.filter(pk=before_the_period.pk).update(
        solved_at=timezone.now() - timedelta(days=45)
    )
    reviewed = solved_case(agent)
    scores = {c.pk: 1 for c in scorecard_current().criteria.all()}
    qa_review_record(case=reviewed, agent=agent, reviewer=manager, scores=scores)
    # Escalated by its owner to `agent`, who solved it: it counts for `agent` as its solver.
    escalated = make_case()
    case_transition(case=escalated, to="open", actor=other)
    from caseloop.cases.loop.escalations import escalation_solved

    escalation = make_escalation(case=escalated, owner=other, solver=agent)
    escalation_solved(escalation=escalation, actor=agent, solution="Refunded.")

    sample = qa_sample(agent=agent, start=start, end=end, size=10, seed=1)
    assert sorted(item.case.pk for item in sample) == sorted([c.pk for c in mine] + [escalated.pk])
    assert {c.pk for c in qa_sample_pool(agent=other, start=start, end=end)} == {
        solved_by_other.pk,
        escalated.pk,
    }
    assert qa_sample(agent=agent, start=end + timedelta(days=1), end=end + timedelta(days=2)) == []


def test_the_sample_is_the_same_for_the_same_seed():
    agent = make_agent()
    start, end = last_30_days()
    cases = [solved_case(agent) for _ in range(12)]
    for case in cases[:4]:
        coach_override_record(user=agent, case=case, rule_ids=["jargon"])

    def picked(seed):
        return [
            (item.case.pk, item.at_random)
            for item in qa_sample(agent=agent, start=start, end=end, size=5, seed=seed)
        ]

    assert picked(7) == picked(7)
    assert len(picked(7)) == 5
    assert len({tuple(picked(seed)) for seed in range(20)}) > 1


def test_risky_cases_fill_most_of_the_sample_and_the_rest_is_drawn_at_random():
    agent = make_agent()
    start, end = last_30_days()
    plain = [solved_case(agent) for _ in range(10)]
    unhappy = solved_case(agent)
    rating_record(case=unhappy, customer=unhappy.customer, score=1)
    reopened = solved_case(agent)
    case_transition(case=reopened, to="open", actor=agent)
    case_transition(case=reopened, to="solved", actor=agent)
    overridden = solved_case(agent)
    coach_override_record(user=agent, case=overridden, rule_ids=["truthful"])
    for seed in range(5):
        sample = qa_sample(agent=agent, start=start, end=end, size=5, seed=seed)
        by_pk = {item.case.pk: item for item in sample}
        # Three of five slots go to risky cases; there are three, so all are in.
        assert by_pk[unhappy.pk].reasons == ["low CSAT"]
        assert by_pk[reopened.pk].reasons == ["reopened"]
        assert by_pk[overridden.pk].reasons == ["coach overridden"]
        drawn = [item for item in sample if item.at_random]
        assert len(drawn) == 2 and all(item.case in plain for item in drawn)


def test_the_summary_averages_per_criterion_without_na_and_per_week(card):
    manager, agent = make_user(role="manager"), make_agent()
    understood, confirmed, alternatives, tone = ids(card)
    first = qa_review_record(
        case=solved_case(agent),
        agent=agent,
        reviewer=manager,
        scores={understood: 2, confirmed: 1, alternatives: None, tone: 5},
        scorecard=card,
    )
    second = qa_review_record(
        case=solved_case(agent),
        agent=agent,
        reviewer=manager,
        scores={understood: 0, confirmed: 1, alternatives: 1, tone: 1},
        scorecard=card,
    )
    assert (first.score, second.score) == (100.0, pytest.approx(37.5))
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    QaReview.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=7))
    # Another agent's review does not count.
    colleague = make_agent()
    qa_review_record(
        case=solved_case(colleague),
        agent=colleague,
        reviewer=manager,
        scores={understood: 0, confirmed: 0, alternatives: 0, tone: 1},
        scorecard=card,
    )

    summary = agent_qa_summary(agent=agent, start=today - timedelta(days=13), end=today)

    assert (summary.average, summary.n) == (pytest.approx(68.8), 2)
    criteria = {row.label: row for row in summary.criteria}
    assert (criteria["Understood"].average, criteria["Understood"].n) == (50.0, 2)
    assert (criteria["Alternatives"].average, criteria["Alternatives"].n) == (50.0, 1)
    assert criteria["Alternatives"].not_applicable == 1
    weeks = {week.week: (week.average, week.n) for week in summary.weeks}
    assert weeks[monday] == (37.5, 1)
    assert weeks[monday - timedelta(days=7)] == (100.0, 1)
    assert all(n == 0 for day, (_, n) in weeks.items() if day < monday - timedelta(days=7))
    assert summary.weeks[0].week <= today - timedelta(days=13) < summary.weeks[1].week
