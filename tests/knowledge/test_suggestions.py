import pytest

from caseloop.cases.models import CaseEvent
from caseloop.cases.services import case_transition, message_add
from caseloop.knowledge.models import Audience, SuggestionFeedback
from caseloop.knowledge.selectors import case_suggestions
from caseloop.knowledge.services import suggestion_feedback_record
from tests.builders import bearer, make_case, make_category

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_articles(publish):
    # "Kettle leaking" matches the case a little better than "Kettle warranty".
    best = publish(title="Kettle leaking", body="A leaking kettle: check the seal and the lid.")
    second = publish(
        title="Kettle warranty",
        body="Every kettle has a two year warranty.",
        audience=Audience.INTERNAL,
    )
    return best, second


def test_suggestions_rank_articles_for_the_case_text(agent, two_articles):
    best, second = two_articles
    case = make_case(subject="My kettle is leaking", text="Water leaks from the kettle lid.")
    found = case_suggestions(case=case, user=agent)
    assert [s.article_id for s in found.articles] == [best.pk, second.pk]


def test_feedback_from_agents_changes_the_order(agent, two_articles):
    best, second = two_articles
    category = make_category(name="Appliances")
    case = make_case(
        subject="My kettle is leaking", text="Water leaks from the kettle lid.", category=category
    )
    for _ in range(3):
        earlier = make_case(subject="Kettle problem", text="Kettle leaking", category=category)
        suggestion_feedback_record(case=earlier, user=agent, verdict="used", article=second)
        suggestion_feedback_record(case=earlier, user=agent, verdict="not_helpful", article=best)
    found = case_suggestions(case=case, user=agent)
    assert [s.article_id for s in found.articles] == [second.pk, best.pk]
    assert found.articles[0].used == 3 and found.articles[1].not_helpful == 3


def test_a_matching_category_lifts_an_article(agent, publish):
    appliances = make_category(name="Appliances")
    # Equally relevant texts: only the category can separate them.
    first = publish(title="Leaking kettle", body="Check the kettle seal.")
    same = publish(title="Leaking kettle", body="Check the kettle seal.", category=appliances)
    plain = make_case(subject="Leaking kettle", text="kettle")
    assert [s.article_id for s in case_suggestions(case=plain, user=agent).articles] == [
        first.pk,
        same.pk,
    ]
    case = make_case(subject="Leaking kettle", text="kettle", category=appliances)
    assert [s.article_id for s in case_suggestions(case=case, user=agent).articles] == [
        same.pk,
        first.pk,
    ]


def test_similar_solved_cases_come_with_their_resolution(agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        solved = make_case(
            subject="Toaster sparks when switched on",
            text="My toaster sparks and smells of burning when I switch it on.",
        )
    with django_capture_on_commit_callbacks(execute=True):
        message_add(
            case=solved,
            direction="outbound",
            actor=agent,
            text="Unplug it; we are sending a replacement toaster today.",
        )
        case_transition(case=solved, to="solved", actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        make_case(subject="Toaster sparks too", text="Toaster sparks when I switch it on.")
        case = make_case(
            subject="Sparks from my toaster", text="The toaster sparks when switched on."
        )
    found = case_suggestions(case=case, user=agent)
    similar = {s.case_id: s for s in found.similar_cases}
    assert case.pk not in similar
    assert solved.pk in similar
    assert "replacement toaster" in similar[solved.pk].resolution


def test_suggestions_api_and_feedback_endpoint(api, agent, two_articles):
    best, second = two_articles
    case = make_case(subject="My kettle is leaking", text="Water leaks from the kettle lid.")
    headers = bearer(agent)
    got = api.get(f"/api/v1/cases/{case.pk}/suggestions", headers=headers)
    assert got.status_code == 200
    assert [a["article_id"] for a in got.json()["articles"]] == [best.pk, second.pk]
    assert "<mark>" in got.json()["articles"][0]["snippet_html"]
    sent = api.post(
        f"/api/v1/cases/{case.pk}/suggestions/feedback",
        {"verdict": "not_helpful", "article": best.pk},
        headers=headers,
    )
    assert sent.status_code == 201
    feedback = SuggestionFeedback.objects.get()
    assert (feedback.case, feedback.article, feedback.user) == (case, best, agent)
    assert CaseEvent.objects.filter(case=case, kind="suggestion_feedback").exists()
    bad = api.post(
        f"/api/v1/cases/{case.pk}/suggestions/feedback", {"verdict": "meh"}, headers=headers
    )
    assert bad.status_code == 422
    neither = api.post(
        f"/api/v1/cases/{case.pk}/suggestions/feedback", {"verdict": "used"}, headers=headers
    )
    assert neither.status_code == 422


def test_the_case_page_shows_suggestions_and_macros(client, agent, two_articles):
    from caseloop.knowledge.services import macro_create

    best, _ = two_articles
    macro_create(name="Photo please", body="Hi {customer_name}, a photo please?", actor=agent)
    case = make_case(subject="My kettle is leaking", text="Water leaks from the kettle lid.")
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Suggested answers" in html and best.title in html
    assert "Photo please" in html and "knowledge/macros.js" in html
    posted = client.post(
        f"/help/desk/cases/{case.pk}/feedback", {"article": best.pk, "verdict": "used"}
    )
    assert posted.status_code == 302
    assert SuggestionFeedback.objects.filter(article=best, verdict="used").count() == 1
