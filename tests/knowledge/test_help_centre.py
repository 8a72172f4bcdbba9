import pytest

from caseloop.cases.models import Case
from caseloop.knowledge.models import Audience, Deflection
from caseloop.knowledge.selectors import deflection_counts
from caseloop.knowledge.services import article_create
from tests.builders import bearer, make_category

pytestmark = pytest.mark.django_db


@pytest.fixture
def kb(publish, agent):
    billing = make_category(name="Billing")
    public = publish(
        title="Refund times", body="Refunds reach your card in five days.", category=billing
    )
    internal = publish(
        title="Refund override codes",
        body="Secret refund override steps.",
        category=billing,
        audience=Audience.INTERNAL,
    )
    draft = article_create(
        title="Refund draft",
        body="Unpublished refund text.",
        actor=agent,
        audience=Audience.PUBLIC,
        category=billing,
    )
    return {"billing": billing, "public": public, "internal": internal, "draft": draft}


def test_help_centre_browses_categories_without_login(client, kb):
    index = client.get("/help/")
    assert index.status_code == 200
    assert "Billing" in index.content.decode() and "(1)" in index.content.decode()
    page = client.get(f"/help/category/{kb['billing'].slug}/")
    html = page.content.decode()
    assert "Refund times" in html
    assert "Refund override codes" not in html and "Refund draft" not in html


def test_article_pages_show_only_published_public_articles(client, kb):
    ok = client.get(f"/help/articles/{kb['public'].pk}/")
    assert ok.status_code == 200 and "five days" in ok.content.decode()
    assert client.get(f"/help/articles/{kb['internal'].pk}/").status_code == 404
    assert client.get(f"/help/articles/{kb['draft'].pk}/").status_code == 404


def test_help_search_shows_highlighted_public_results_only(client, kb):
    page = client.get("/help/search/", {"q": "refund"})
    html = page.content.decode()
    assert "Refund times" in html
    assert "<mark>Refunds</mark>" in html or "<mark>refund</mark>" in html.lower()
    assert "override" not in html.lower() and "Unpublished" not in html


def test_public_api_needs_no_login_and_leaks_nothing(api, kb):
    found = api.get("/api/v1/knowledge/public/search", q="refund override secret")
    assert found.status_code == 200
    assert [hit["article_id"] for hit in found.json()] == [kb["public"].pk]
    assert api.get(f"/api/v1/knowledge/public/articles/{kb['public'].pk}").status_code == 200
    assert api.get(f"/api/v1/knowledge/public/articles/{kb['internal'].pk}").status_code == 404
    assert api.get(f"/api/v1/knowledge/public/articles/{kb['draft'].pk}").status_code == 404


def test_suggest_endpoint_returns_public_articles_as_you_type(client, kb):
    got = client.get("/help/suggest", {"q": "my refun"})
    assert got.status_code == 200
    results = got.json()["results"]
    assert [r["id"] for r in results] == [kb["public"].pk]
    assert results[0]["url"] == f"/help/articles/{kb['public'].pk}/"
    assert client.get("/help/suggest", {"q": "secret override"}).json()["results"] == []


def test_suggest_endpoint_is_rate_limited(client, kb):
    statuses = [client.get("/help/suggest", {"q": "refund"}).status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429


def test_a_deflection_is_counted_and_no_case_is_opened(client, kb):
    csrf_client = client.__class__(enforce_csrf_checks=True)
    refused = csrf_client.post("/help/deflect", {"article": kb["public"].pk})
    assert refused.status_code == 403
    page = csrf_client.get(f"/help/articles/{kb['public'].pk}/")
    token = page.cookies["csrftoken"].value
    posted = csrf_client.post(
        "/help/deflect",
        {"article": kb["public"].pk, "query": "Where is my  Refund", "csrfmiddlewaretoken": token},
        headers={"X-Requested-With": "fetch"},
    )
    assert posted.status_code == 200 and posted.json()["deflected"] is True
    assert Case.objects.count() == 0
    deflection = Deflection.objects.get()
    assert (deflection.article, deflection.query) == (kb["public"], "where is my refund")
    assert deflection_counts()["total"] == 1
    assert deflection_counts()["by_article"][0]["article_id"] == kb["public"].pk


def test_internal_articles_cannot_be_used_to_deflect(client, kb):
    assert client.post("/help/deflect", {"article": kb["internal"].pk}).status_code == 404
    assert client.post("/help/deflect", {"article": "x"}).status_code == 422
    assert Deflection.objects.count() == 0


def test_deflections_api_counts_for_agents(api, client, kb, agent):
    client.post("/help/deflect", {"article": kb["public"].pk})
    client.post("/help/deflect", {"article": kb["public"].pk})
    got = api.get("/api/v1/knowledge/deflections", headers=bearer(agent))
    assert got.json()["total"] == 2
    assert got.json()["by_article"] == [
        {"article_id": kb["public"].pk, "title": "Refund times", "count": 2}
    ]
    assert api.get("/api/v1/knowledge/deflections").status_code == 401


def test_the_form_partial_loads_the_script_for_the_subject_field(kb):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    html = render_to_string(
        "knowledge/partials/form_suggestions.html", request=RequestFactory().get("/contact/")
    )
    assert 'data-input="id_subject"' in html
    assert 'src="/static/knowledge/suggest.js"' in html
    assert "csrfmiddlewaretoken" in html
    assert "<script>" not in html


def test_public_search_api_is_rate_limited(api, kb):
    statuses = [
        api.get("/api/v1/knowledge/public/search", q="refund").status_code for _ in range(61)
    ]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429


def test_every_help_centre_page_offers_the_contact_form(client, kb):
    contact = (
        '<h2 id="kb-contact-title">Still need help?</h2>\n'
        '  <p><a href="/channels/form/">Contact us</a>'
    )
    for path in [
        "/help/",
        "/help/search/?q=refund",
        "/help/search/?q=zebra",
        f"/help/articles/{kb['public'].pk}/",
        f"/help/category/{kb['billing'].slug}/",
    ]:
        page = client.get(path)
        assert page.status_code == 200 and contact in page.content.decode(), path
    assert client.get("/channels/form/").status_code == 200


def test_the_help_centre_carries_the_desks_name(client, kb):
    from caseloop.accounts.services import desk_identity_set

    desk_identity_set(name="Northwind Home")
    for path in ["/help/", f"/help/articles/{kb['public'].pk}/", "/help/search/?q=refund"]:
        html = client.get(path).content.decode()
        assert " · Northwind Home</title>" in html and "Caseloop" not in html, path
