import pytest
from django.apps import apps

from caseloop.cases.models import CaseEvent
from caseloop.cases.services import case_transition, message_add
from caseloop.knowledge.errors import ArticleLocked
from caseloop.knowledge.models import ArticleSource, Kind, SearchLog, State
from caseloop.knowledge.selectors import knowledge_gaps
from caseloop.knowledge.services import article_draft_from_case, search_log_record
from tests.builders import bearer, make_case, make_category

pytestmark = pytest.mark.django_db


def _solved(agent, **fields):
    case = make_case(**fields)
    message_add(
        case=case, direction="outbound", text="Reset the router, then re-pair it.", actor=agent
    )
    case_transition(case=case, to="solved", actor=agent)
    return case


def test_a_lesson_becomes_an_article_draft_linked_to_its_case(agent):
    lesson_model = apps.get_model("cases", "Lesson")
    network = make_category(name="Network")
    case = _solved(
        agent, subject="Router keeps dropping", text="My router drops every hour.", category=network
    )
    lesson = lesson_model.objects.create(
        case=case,
        author=agent,
        summary="Old firmware drops links; check the version first.",
        needs_article=True,
    )
    article = article_draft_from_case(case=case, actor=agent, lesson=lesson)
    assert article.state == State.DRAFT and article.kind == Kind.TROUBLESHOOTING
    assert article.title == "Router keeps dropping"
    assert article.category == network
    assert "My router drops every hour." in article.body
    assert "Reset the router, then re-pair it." in article.body
    assert "Old firmware drops links" in article.body
    source = ArticleSource.objects.get(article=article)
    assert (source.case, source.lesson_id) == (case, lesson.pk)
    lesson.refresh_from_db()
    assert lesson.state == "converted"
    assert CaseEvent.objects.filter(case=case, kind="article_drafted").exists()
    with pytest.raises(ArticleLocked):
        article_draft_from_case(case=case, actor=agent, lesson=lesson)


def test_the_problem_statement_paraphrase_is_preferred(agent):
    statement_model = apps.get_model("cases", "ProblemStatement")
    case = _solved(agent, subject="Router", text="it broke!!")
    statement_model.objects.create(
        case=case, customer_words="it broke!!", paraphrase="The router loses Wi-Fi hourly."
    )
    article = article_draft_from_case(case=case, actor=agent)
    assert "The router loses Wi-Fi hourly." in article.body
    assert "it broke!!" not in article.body


def test_api_drafts_from_a_solved_case(api, agent):
    case = _solved(agent, subject="Router keeps dropping", text="Drops hourly.")
    made = api.post(
        "/api/v1/knowledge/articles/from-case", {"case": case.reference}, headers=bearer(agent)
    )
    assert made.status_code == 201
    assert made.json()["state"] == "draft"
    assert "Drops hourly." in made.json()["body"]


def test_gaps_list_busy_categories_without_articles_and_empty_searches(api, agent, publish):
    covered, uncovered, quiet = (make_category(name=n) for n in ("Covered", "Uncovered", "Quiet"))
    for _ in range(3):
        make_case(category=covered)
        make_case(category=uncovered)
    make_case(category=quiet)
    publish(title="Covered topic", body="All about it.", category=covered)
    search_log_record(query="Lost  PIN", source=SearchLog.Source.HELP_CENTRE, results=0)
    search_log_record(query="lost pin", source=SearchLog.Source.FORM, results=0)
    search_log_record(query="refund", source=SearchLog.Source.HELP_CENTRE, results=3)
    gaps = knowledge_gaps()
    assert [c["name"] for c in gaps["categories"]] == ["Uncovered"]
    assert gaps["categories"][0]["cases"] == 3
    assert [(s["query"], s["count"]) for s in gaps["searches"]] == [("lost pin", 2)]
    got = api.get("/api/v1/knowledge/gaps", headers=bearer(agent))
    assert got.json()["categories"][0]["slug"] == "uncovered"


def test_empty_help_centre_searches_become_gaps(client, agent):
    client.get("/help/search/", {"q": "warp drive"})
    assert knowledge_gaps()["searches"][0]["query"] == "warp drive"
    client.force_login(agent)
    page = client.get("/help/desk/gaps/")
    assert page.status_code == 200 and "warp drive" in page.content.decode()


def test_the_case_page_offers_open_lessons_and_converts_them(client, agent):
    lesson_model = apps.get_model("cases", "Lesson")
    case = _solved(agent, subject="Router keeps dropping", text="Drops hourly.")
    lesson = lesson_model.objects.create(case=case, author=agent, summary="Check firmware first.")
    client.force_login(agent)
    offer = "Turn this lesson into an article draft"
    assert offer in client.get(f"/cases/{case.pk}/").content.decode()
    posted = client.post(f"/help/desk/cases/{case.pk}/draft", {"lesson": lesson.pk})
    source = ArticleSource.objects.get(case=case)
    assert posted.status_code == 302
    assert posted.url == f"/help/desk/articles/{source.article_id}/edit/"
    lesson.refresh_from_db()
    assert lesson.state == "converted"
    assert offer not in client.get(f"/cases/{case.pk}/").content.decode()
