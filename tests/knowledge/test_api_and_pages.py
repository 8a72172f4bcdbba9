import io

import pytest
from django.core.management import call_command

from caseloop.knowledge.search import ArticleFilters, search_articles, search_messages
from caseloop.knowledge.services import article_create, article_update, macro_create
from tests.builders import bearer, make_case, make_customer_user

pytestmark = pytest.mark.django_db


def test_openapi_documents_the_knowledge_endpoints(client):
    spec = client.get("/api/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/knowledge/articles",
        "/api/v1/knowledge/articles/{article_id}/versions/{number}/restore",
        "/api/v1/knowledge/articles/{article_id}/transitions",
        "/api/v1/knowledge/macros/{macro_id}/render",
        "/api/v1/knowledge/search",
        "/api/v1/knowledge/search/messages",
        "/api/v1/cases/{case_id}/suggestions",
        "/api/v1/cases/{case_id}/suggestions/feedback",
        "/api/v1/knowledge/deflections",
        "/api/v1/knowledge/gaps",
        "/api/v1/knowledge/public/search",
    ):
        assert path in paths, path
    assert "security" not in paths["/api/v1/knowledge/public/search"]["get"]
    assert paths["/api/v1/knowledge/search"]["get"].get("security")


def test_agent_search_endpoint_filters_and_logs(api, agent, publish):
    publish(title="Refund times", body="Five days.", tags=["money"])
    publish(title="Refund codes", body="Internal.", audience="internal")
    headers = bearer(agent)
    both = api.get("/api/v1/knowledge/search", headers=headers, q="refund")
    assert len(both.json()) == 2
    public = api.get("/api/v1/knowledge/search", headers=headers, q="refund", audience="public")
    assert [h["title"] for h in public.json()] == ["Refund times"]
    tagged = api.get("/api/v1/knowledge/search", headers=headers, q="refund", tags="money")
    assert [h["title"] for h in tagged.json()] == ["Refund times"]
    assert api.get("/api/v1/knowledge/search", headers=headers, q="").status_code == 422


def test_message_search_endpoint_is_for_agents_only(api, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(subject="Kettle", text="The kettle lid snapped.")
    got = api.get("/api/v1/knowledge/search/messages", headers=bearer(agent), q="kettle lid")
    assert got.status_code == 200
    assert got.json()[0]["case_id"] == case.pk
    assert "<mark>" in got.json()[0]["snippet_html"]
    customer = make_customer_user(customer=case.customer)
    refused = api.get("/api/v1/knowledge/search/messages", headers=bearer(customer), q="kettle")
    assert refused.status_code == 403


def test_backfill_indexes_messages_the_hook_never_saw(agent):
    # Without running commit hooks, nothing is indexed yet.
    case = make_case(subject="Blender", text="The blender jar cracked.")
    assert search_messages("blender jar", user=agent) == []
    call_command("kb_index", "--messages", stdout=io.StringIO())
    assert [hit.case_id for hit in search_messages("blender jar", user=agent)] == [case.pk]
    call_command("kb_index", "--messages", "--rebuild", stdout=io.StringIO())
    assert len(search_messages("blender jar", user=agent)) == 1


def test_macro_list_uses_a_fixed_number_of_queries(api, agent, django_assert_max_num_queries):
    for n in range(5):
        macro_create(name=f"Macro {n}", body="Hi {customer_name}", actor=agent)
    with django_assert_max_num_queries(6):
        listed = api.get("/api/v1/knowledge/macros", headers=bearer(agent))
    assert len(listed.json()) == 5


def test_agent_pages_show_history_and_restore(client, agent):
    article = article_create(title="Fees", body="No fees.", actor=agent)
    article_update(article=article, actor=agent, body="Small fees.")
    client.force_login(agent)
    page = client.get(f"/help/desk/articles/{article.pk}/")
    assert page.status_code == 200 and "v2" in page.content.decode()
    old = client.get(f"/help/desk/articles/{article.pk}/versions/1/")
    assert "No fees." in old.content.decode() and "Restore this version" in old.content.decode()
    client.post(f"/help/desk/articles/{article.pk}/versions/1/restore")
    article.refresh_from_db()
    assert (article.version, article.body) == (3, "No fees.")
    client.post(f"/help/desk/articles/{article.pk}/transition", {"to": "published"})
    article.refresh_from_db()
    assert article.state == "draft"
    created = client.post(
        "/help/desk/articles/new/",
        {"title": "New one", "body": "Text", "kind": "faq", "audience": "public", "tags": "a, b"},
    )
    assert created.status_code == 302
    assert client.get("/help/desk/articles/").status_code == 200
    assert client.get("/help/desk/search/", {"q": "fees"}).status_code == 200


def test_customers_cannot_open_agent_pages(client):
    client.force_login(make_customer_user())
    assert client.get("/help/desk/articles/").status_code == 403
    assert client.get("/help/desk/gaps/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_search_survives_committed_transactions_and_flushes(agent):
    article = article_create(title="Committed article", body="Flush safe text.", actor=agent)
    hits = search_articles("flush", audience="agent", filters=ArticleFilters(states=("draft",)))
    assert [hit.article_id for hit in hits] == [article.pk]
