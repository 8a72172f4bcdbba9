"""The case list and detail answer from rows of values, without ninja validating them: each
answer must be, byte for byte, what the CaseOut/CasePage schemas make of the cases, and
each must cost a fixed number of statements whatever the page holds."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from ninja.renderers import JSONRenderer

from caseloop.cases import selectors
from caseloop.cases.api import CaseOut, CasePage
from caseloop.cases.models import Case
from caseloop.cases.services import case_transition, case_update
from caseloop.triage.models import CaseTriage
from caseloop.triage.services import case_triage_run
from tests.builders import (
    bearer,
    make_agent,
    make_case,
    make_category,
    make_customer,
    make_customer_user,
    make_team,
)

pytestmark = pytest.mark.django_db


def encoded(data: object) -> bytes:
    return JSONRenderer().render(None, data, response_status=200).encode()  # type: ignore[arg-type]


def validated_case(case: Case) -> dict:
    """What ninja answered for `case` before: CaseOut.of validated by the schema."""
    return CaseOut.model_validate(CaseOut.of(case)).model_dump()


def validated_page(cases: list[Case], next_cursor: str | None) -> dict:
    page = {"items": [CaseOut.of(case) for case in cases], "next_cursor": next_cursor}
    return CasePage.model_validate(page).model_dump()


def assert_same_answer(response, expected: dict) -> None:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    answer = json.loads(response.content)
    reference = json.loads(encoded(expected))
    pairs = [(answer, reference)]
    if "items" in answer:
        assert len(answer["items"]) == len(reference["items"])
        pairs += zip(answer["items"], reference["items"], strict=True)
    for got, want in pairs:
        for key in want:
            assert got[key] == want[key], key
        assert list(got) == list(want)
    assert response.content == encoded(expected)


def varied_desk():
    """Cases with and without owner, assignee, category, team, tags and triage; open,
    solved and closed; two customers, one of them able to sign in."""
    agent = make_agent(first_name="Ada", last_name="Lovelace")
    solver = make_agent(first_name="", last_name="")
    team = make_team(members=[agent, solver])
    category = make_category(name="Billing")
    mine = make_customer(name="Zoë Ångström")
    customer = make_customer_user(customer=mine)
    bare = make_case(customer=mine, subject="No owner, nothing set")
    full = make_case(customer=mine, actor=agent, subject="Everything set — «quoted»")
    case_update(
        case=full,
        actor=agent,
        category=category,
        team=team,
        assignee=solver,
        tags=["vip", "Refund", "complaint"],
        priority="urgent",
    )
    case_triage_run(case_id=full.pk)
    triaged = make_case(actor=agent, subject="Triaged only")
    case_triage_run(case_id=triaged.pk)
    solved = make_case(actor=solver, subject="Solved")
    case_update(case=solved, actor=solver, tags=["shipping"])
    case_transition(case=solved, to="open", actor=solver)
    case_transition(case=solved, to="solved", actor=solver)
    closed = make_case(customer=mine, actor=agent, subject="Closed")
    case_transition(case=closed, to="open", actor=agent)
    case_transition(case=closed, to="solved", actor=agent)
    case_transition(case=closed, to="closed", actor=agent)
    assert CaseTriage.objects.filter(case__in=[full, triaged]).count() == 2
    return agent, customer, [bare, full, triaged, solved, closed]


def test_the_case_list_answers_what_the_schema_gives_for_every_kind_of_case(api):
    agent, _, cases = varied_desk()
    response = api.get("/api/v1/cases", bearer(agent))
    expected_cases, _ = selectors.case_list(user=agent, filters=selectors.CaseFilters())
    assert [case.pk for case in expected_cases] == [case.pk for case in reversed(cases)]
    assert_same_answer(response, validated_page(expected_cases, None))
    triage = {item["id"]: item["triage"] for item in response.json()["items"]}
    assert triage[cases[1].pk] is not None and triage[cases[0].pk] is None


def test_every_case_reads_as_the_schema_gives_it_by_id_and_by_reference(api):
    agent, _, cases = varied_desk()
    headers = bearer(agent)
    for case in cases:
        expected = validated_case(selectors.case_get_for_user(user=agent, case_id=case.pk))
        assert_same_answer(api.get(f"/api/v1/cases/{case.pk}", headers), expected)
        assert_same_answer(api.get(f"/api/v1/cases/{case.reference}", headers), expected)


def test_pages_and_filters_answer_as_the_schema_gives_them(api):
    agent, _, cases = varied_desk()
    headers = bearer(agent)
    solver = Case.objects.get(pk=cases[1].pk).assignee
    assert solver is not None
    queries = [
        {"limit": "2"},
        {"status": "solved,closed"},
        {"owner": "none"},
        {"assignee": solver.username},
        {"q": "Triaged"},
        {"q": cases[3].reference},
        {"priority": "urgent"},
    ]
    for params in queries:
        filters = selectors.CaseFilters(**{k: v for k, v in params.items() if k != "limit"})
        limit = int(params.get("limit", 50))
        expected_cases, next_cursor = selectors.case_list(user=agent, filters=filters, limit=limit)
        response = api.get("/api/v1/cases", headers, **params)
        assert_same_answer(response, validated_page(expected_cases, next_cursor))
    first = api.get("/api/v1/cases", headers, limit="2").json()
    expected_cases, next_cursor = selectors.case_list(
        user=agent, filters=selectors.CaseFilters(), cursor=first["next_cursor"], limit=2
    )
    following = api.get("/api/v1/cases", headers, limit="2", cursor=first["next_cursor"])
    assert_same_answer(following, validated_page(expected_cases, next_cursor))


def test_a_customer_reads_only_their_own_cases_and_others_are_404(api):
    _, customer, cases = varied_desk()
    headers = bearer(customer)
    own, _ = selectors.case_list(user=customer, filters=selectors.CaseFilters())
    assert {case.pk for case in own} == {cases[0].pk, cases[1].pk, cases[4].pk}
    assert_same_answer(api.get("/api/v1/cases", headers), validated_page(own, None))
    for case in cases:
        response = api.get(f"/api/v1/cases/{case.pk}", headers)
        if case.pk in {c.pk for c in own}:
            assert_same_answer(response, validated_case(case_for(customer, case)))
        else:
            assert response.status_code == 404
            assert response.json() == {"detail": "No such case.", "code": "not_found"}


def case_for(user, case: Case) -> Case:
    return selectors.case_get_for_user(user=user, case_id=case.pk)


def test_bad_ids_filters_and_cursors_answer_as_before(api):
    agent, _, _ = varied_desk()
    headers = bearer(agent)
    for missing in ("999999", "CL-999999", "nonsense", "9" * 30):
        response = api.get(f"/api/v1/cases/{missing}", headers)
        assert response.status_code == 404, missing
    bad_status = api.get("/api/v1/cases", headers, status="open,lost")
    assert bad_status.status_code == 422
    assert bad_status.json()["field"] == "status"
    bad_cursor = api.get("/api/v1/cases", headers, cursor="!!")
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["code"] == "invalid_cursor"
    assert api.get("/api/v1/cases", headers, limit="0").status_code == 422


def statements(api, path: str, headers: dict) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path, headers)
    assert response.status_code == 200, response.content
    return [query["sql"] for query in captured.captured_queries]


def test_the_list_and_the_detail_take_the_same_statements_for_one_case_as_for_many(api):
    agent = make_agent()
    headers = bearer(agent)
    api.get("/api/v1/cases", headers)  # the token's first use is recorded once
    counts = []
    for size in (1, 12):
        while Case.objects.count() < size:
            case = make_case(actor=agent)
            case_update(case=case, actor=agent, tags=["a", "b"], category=make_category())
            case_triage_run(case_id=case.pk)
        listed = statements(api, "/api/v1/cases", headers)
        read = statements(api, f"/api/v1/cases/{case.pk}", headers)
        counts.append((len(listed), len(read)))
        # The token, the page of cases joined with their people, category, team and triage,
        # and the page's tags.
        assert len(listed) == 3, listed
        assert len(read) == 3, read
    assert counts[0] == counts[1]
