"""`null` in a PATCH means what the schema says: it clears a field that may be empty and is
refused (422, naming the field) for one that may not — never a 500, never the text "None"."""

import pytest

from caseloop.cases.services import case_update
from caseloop.knowledge.models import Macro
from caseloop.knowledge.services import article_create, macro_create
from tests.builders import bearer, make_agent, make_case, make_category, make_team

pytestmark = pytest.mark.django_db


def refused_field(response) -> str:
    assert response.status_code == 422, response.content
    return response.json()["errors"][0]["field"]


# -- macros ----------------------------------------------------------------------------------


@pytest.fixture
def agent():
    return make_agent()


@pytest.fixture
def macro(agent):
    return macro_create(
        name="Refund sent",
        body="Hello {customer_first_name}, your refund is on its way.",
        actor=agent,
        team=make_team(name="Billing"),
        set_status="solved",
        add_tags=["refund"],
    )


@pytest.mark.parametrize("field", ["name", "body", "is_active"])
def test_null_is_refused_for_a_macro_field_that_cannot_be_empty(api, agent, macro, field):
    response = api.patch(f"/api/v1/knowledge/macros/{macro.pk}", {field: None}, bearer(agent))
    assert refused_field(response) == field
    stored = Macro.objects.get(pk=macro.pk)
    assert (stored.name, stored.is_active) == ("Refund sent", True)
    assert stored.body.startswith("Hello") and "None" not in stored.body


@pytest.mark.parametrize("field, cleared", [("team", None), ("set_status", ""), ("add_tags", [])])
def test_null_clears_a_macro_field_that_may_be_empty(api, agent, macro, field, cleared):
    response = api.patch(f"/api/v1/knowledge/macros/{macro.pk}", {field: None}, bearer(agent))
    assert response.status_code == 200, response.content
    assert response.json()[field] == cleared
    assert response.json()["name"] == "Refund sent"


def test_a_macro_patch_that_leaves_fields_out_keeps_them(api, agent, macro):
    response = api.patch(
        f"/api/v1/knowledge/macros/{macro.pk}", {"name": "Refunded"}, bearer(agent)
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["team"], body["set_status"], body["add_tags"]) == (
        "Refunded",
        "billing",
        "solved",
        ["refund"],
    )


# -- articles --------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["title", "body", "kind", "audience", "language"])
def test_null_is_refused_for_an_article_field_that_cannot_be_empty(api, agent, field):
    article = article_create(title="Fees", body="No fees.", actor=agent)
    path = f"/api/v1/knowledge/articles/{article.pk}"
    assert refused_field(api.patch(path, {field: None}, bearer(agent))) == field
    assert api.get(path, headers=bearer(agent)).json()["version"] == 1


def test_null_clears_an_articles_category_and_tags(api, agent):
    article = article_create(
        title="Fees", body="No fees.", actor=agent, category=make_category(), tags=["money"]
    )
    path = f"/api/v1/knowledge/articles/{article.pk}"
    response = api.patch(path, {"category": None, "tags": None}, bearer(agent))
    assert response.status_code == 200, response.content
    assert (response.json()["category"], response.json()["tags"]) == (None, [])


def test_null_is_refused_for_an_articles_note(api, agent):
    article = article_create(title="Fees", body="No fees.", actor=agent)
    response = api.patch(f"/api/v1/knowledge/articles/{article.pk}", {"note": None}, bearer(agent))
    assert refused_field(response) == "note"


# -- cases -----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["subject", "priority", "reason"])
def test_null_is_refused_for_a_case_field_that_cannot_be_empty(api, agent, field):
    case = make_case(subject="Kettle leaks")
    response = api.patch(f"/api/v1/cases/{case.pk}", {field: None}, bearer(agent))
    assert refused_field(response) == field
    case.refresh_from_db()
    assert (case.subject, case.priority) == ("Kettle leaks", "normal")


def test_null_clears_a_cases_category_team_assignee_and_tags(api, agent):
    case = make_case()
    case_update(
        case=case,
        actor=agent,
        category=make_category(),
        team=make_team(),
        assignee=agent,
        tags=["vip"],
    )
    payload = {"category": None, "team": None, "assignee": None, "tags": None}
    response = api.patch(f"/api/v1/cases/{case.pk}", payload, bearer(agent))
    assert response.status_code == 200, response.content
    case.refresh_from_db()
    assert (case.category_id, case.team_id, case.assignee_id) == (None, None, None)
    assert not case.tags.exists()
