import pytest

from caseloop.knowledge.errors import ArticleInvalid, ArticleLocked, WorkflowError
from caseloop.knowledge.models import ArticleVersion, Audience, Kind, State
from caseloop.knowledge.search import search_articles
from caseloop.knowledge.services import (
    article_create,
    article_delete,
    article_restore,
    article_transition,
    article_update,
)
from tests.builders import bearer, make_agent, make_category, make_customer_user

pytestmark = pytest.mark.django_db


def test_markdown_is_rendered_and_sanitized(agent):
    article = article_create(
        title="Reset",
        body="# Steps\n\n1. **Open** settings\n\n<script>alert(1)</script>\n\n"
        "[x](javascript:alert(1)) <img src=x onerror=alert(2)>",
        actor=agent,
    )
    assert "<h1>Steps</h1>" in article.body_html
    assert "<strong>Open</strong>" in article.body_html
    assert "<script" not in article.body_html
    assert "javascript:" not in article.body_html
    assert "onerror" not in article.body_html


def test_every_change_is_a_version_with_who_and_what(agent):
    editor = make_agent()
    article = article_create(title="Returns", body="Thirty days.", actor=agent, tags=["returns"])
    article_update(article=article, actor=editor, body="Sixty days.", note="policy change")
    article_update(article=article, actor=editor, body="Sixty days.")  # no change, no version
    versions = list(ArticleVersion.objects.filter(article=article).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].author == agent and versions[0].body == "Thirty days."
    assert versions[1].author == editor
    assert versions[1].changed_fields == ["body"]
    assert versions[1].note == "policy change"
    assert versions[1].tags == ["returns"]


def test_restoring_an_old_version_creates_a_new_one(agent):
    billing = make_category(name="Billing")
    article = article_create(title="Fees", body="No fees.", actor=agent, category=billing)
    article_update(
        article=article,
        actor=agent,
        title="Fees (new)",
        body="A small fee.",
        category=None,
        tags=["fees"],
    )
    restored = article_restore(article=article, number=1, actor=agent)
    assert restored.version == 3
    assert (restored.title, restored.body, restored.category) == ("Fees", "No fees.", billing)
    assert list(restored.tags.values_list("name", flat=True)) == []
    latest = ArticleVersion.objects.get(article=article, number=3)
    assert latest.note == "restored from version 1"
    assert ArticleVersion.objects.filter(article=article).count() == 3
    # The search index follows the restore.
    article_transition(article=restored, to=State.REVIEW, actor=agent)
    article_transition(article=restored, to=State.PUBLISHED, actor=agent)
    assert [h.article_id for h in search_articles("fees", audience="agent")] == [article.pk]
    assert search_articles("small", audience="agent", typo_fallback=False) == []


def test_restoring_a_missing_version_is_refused(agent):
    article = article_create(title="Fees", body="No fees.", actor=agent)
    with pytest.raises(ArticleInvalid):
        article_restore(article=article, number=9, actor=agent)


def test_workflow_goes_draft_review_published_and_refuses_shortcuts(agent):
    article = article_create(title="Fees", body="No fees.", actor=agent)
    with pytest.raises(WorkflowError) as refused:
        article_transition(article=article, to=State.PUBLISHED, actor=agent)
    assert refused.value.payload["allowed"] == [State.REVIEW, State.ARCHIVED]
    article = article_transition(article=article, to=State.REVIEW, actor=agent)
    article = article_transition(article=article, to=State.PUBLISHED, actor=agent)
    assert article.published_at is not None
    article = article_transition(article=article, to=State.ARCHIVED, actor=agent)
    with pytest.raises(WorkflowError):
        article_transition(article=article, to=State.PUBLISHED, actor=agent)
    with pytest.raises(ArticleLocked):
        article_update(article=article, actor=agent, body="Edited while archived")
    states = list(
        ArticleVersion.objects.filter(article=article)
        .order_by("number")
        .values_list("state", flat=True)
    )
    assert states == ["draft", "review", "published", "archived"]


def test_invalid_articles_are_refused(agent):
    with pytest.raises(ArticleInvalid):
        article_create(title=" ", body="x", actor=agent)
    with pytest.raises(ArticleInvalid):
        article_create(title="x", body="x", actor=agent, kind="novel")
    with pytest.raises(ArticleInvalid):
        article_create(title="x", body="x", actor=agent, language="english please")


def test_published_articles_cannot_be_deleted(agent, publish):
    article = publish(title="Fees", body="No fees.")
    with pytest.raises(ArticleLocked):
        article_delete(article=article, actor=agent)
    draft = article_create(title="Draft fees", body="Maybe fees.", actor=agent)
    article_delete(article=draft, actor=agent)
    assert search_articles("fees", audience="agent") != []
    assert all(h.article_id != draft.pk for h in search_articles("fees maybe", audience="agent"))


def test_api_creates_edits_versions_and_restores(api, agent):
    make_category(name="Billing")
    headers = bearer(agent)
    created = api.post(
        "/api/v1/knowledge/articles",
        {
            "title": "Fees",
            "body": "**No** fees.",
            "category": "billing",
            "tags": ["Fees"],
            "kind": "policy",
            "audience": "public",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == "draft" and body["tags"] == ["fees"]
    assert body["body_html"] == "<p><strong>No</strong> fees.</p>"
    assert body["allowed_transitions"] == ["review", "archived"]
    pk = body["id"]
    patched = api.patch(
        f"/api/v1/knowledge/articles/{pk}", {"body": "Small fees."}, headers=headers
    )
    assert patched.json()["version"] == 2
    versions = api.get(f"/api/v1/knowledge/articles/{pk}/versions", headers=headers).json()
    assert [v["number"] for v in versions] == [2, 1]
    old = api.get(f"/api/v1/knowledge/articles/{pk}/versions/1", headers=headers).json()
    assert old["body"] == "**No** fees."
    restored = api.post(f"/api/v1/knowledge/articles/{pk}/versions/1/restore", headers=headers)
    assert restored.json()["version"] == 3 and restored.json()["body"] == "**No** fees."
    assert (
        api.get(f"/api/v1/knowledge/articles/{pk}/versions/7", headers=headers).status_code == 404
    )


def test_api_refuses_illegal_moves_with_the_allowed_ones(api, agent):
    headers = bearer(agent)
    pk = api.post(
        "/api/v1/knowledge/articles", {"title": "T", "body": "B"}, headers=headers
    ).json()["id"]
    refused = api.post(
        f"/api/v1/knowledge/articles/{pk}/transitions", {"to": "published"}, headers=headers
    )
    assert refused.status_code == 409
    assert refused.json()["allowed"] == ["review", "archived"]
    ok = api.post(f"/api/v1/knowledge/articles/{pk}/transitions", {"to": "review"}, headers=headers)
    assert ok.json()["state"] == "review"
    bad = api.post(
        "/api/v1/knowledge/articles", {"title": "T", "body": "B", "kind": "novel"}, headers=headers
    )
    assert bad.status_code == 422


def test_customers_cannot_use_the_article_api(api, agent):
    article = article_create(
        title="T", body="B", actor=agent, audience=Audience.PUBLIC, kind=Kind.FAQ
    )
    headers = bearer(make_customer_user())
    assert api.get("/api/v1/knowledge/articles", headers=headers).status_code == 403
    assert api.get(f"/api/v1/knowledge/articles/{article.pk}", headers=headers).status_code == 403
    assert api.get("/api/v1/knowledge/articles").status_code == 401


def test_article_list_uses_a_fixed_number_of_queries(api, agent, django_assert_max_num_queries):
    for n in range(6):
        article_create(
            title=f"Article {n}",
            body="Body",
            actor=agent,
            tags=["a", "b"],
            category=make_category(),
        )
    headers = bearer(agent)
    with django_assert_max_num_queries(8):
        listed = api.get("/api/v1/knowledge/articles", headers=headers)
    assert len(listed.json()["items"]) == 6
