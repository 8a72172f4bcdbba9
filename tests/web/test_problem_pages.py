"""The workspace's recurring-problem pages (managers), the case page's problems panel
(agents), and the flag review."""

from __future__ import annotations

import pytest
from django.utils import timezone

from caseloop.accounts.models import Role
from caseloop.cases import outbox
from caseloop.cases.models import OutboxEffect
from caseloop.insights import problem_fixes, problems
from caseloop.insights.models import Problem, ProblemCase, ProblemFlag
from tests.builders import make_agent, make_case, make_category, make_user

pytestmark = pytest.mark.django_db

FIX = "We corrected the payment gateway setting that refused valid cards."


def manager():
    return make_user(role=Role.MANAGER)


def declined(**extra):
    return make_case(
        subject="Card declined at checkout",
        text="My card is declined at checkout with error 402.",
        **extra,
    )


def problem_with(boss, *cases, title="Valid cards declined"):
    problem = problems.problem_create(actor=boss, title=title, cases=cases)
    problems.problem_update(problem=problem, actor=boss, workaround="Send a payment link.")
    return problem


def test_only_managers_reach_the_problem_pages_and_see_them_in_the_navigation(client):
    boss, agent = manager(), make_agent()
    problem = problem_with(boss)
    client.force_login(agent)
    assert b'href="/manager/problems/"' not in client.get("/inbox/").content
    for url in (
        "/manager/problems/",
        f"/manager/problems/{problem.pk}/",
        "/manager/problems/flags/",
    ):
        assert client.get(url).status_code == 403
    assert client.post(f"/manager/problems/{problem.pk}/publish/").status_code == 403
    client.force_login(boss)
    assert b'href="/manager/problems/"' in client.get("/inbox/").content


def test_the_list_filters_by_status_in_a_fixed_number_of_queries(client, django_assert_num_queries):
    boss = manager()
    category = make_category(name="Payments")
    shown = problem_with(boss, declined(), declined(), title="Valid cards declined")
    problems.problem_update(problem=shown, actor=boss, category=category, product="Checkout")
    problems.problem_create(actor=boss, title="Address changes", status="suggested")
    problems.problem_create(actor=boss, title="Login loops", status="suggested")
    client.force_login(boss)
    with django_assert_num_queries(5):  # session, user, problems, categories, flags waiting
        page = client.get("/manager/problems/", {"status": "investigating"})
    rows = page.context["problems"]
    assert [(p.pk, p.case_count) for p in rows] == [(shown.pk, 2)]
    body = page.content.decode()
    assert "Valid cards declined" in body and "Payments · Checkout" in body
    assert "Address changes" not in body
    assert client.get("/manager/problems/", {"status": "nonsense"}).status_code == 422


def test_a_manager_opens_a_problem_and_edits_its_why_chain_owner_and_fix(client):
    boss, owner = manager(), make_agent()
    client.force_login(boss)
    response = client.post("/manager/problems/", {"title": "Valid cards declined"})
    problem = Problem.objects.get()
    assert (
        response.status_code == 302 and response["Location"] == f"/manager/problems/{problem.pk}/"
    )
    response = client.post(
        f"/manager/problems/{problem.pk}/edit/",
        {
            "title": "Valid cards declined",
            "why": ["Payments fail", "A fraud rule is too strict", "", ""],
            "cause_type": "product_defect",
            "workaround": "Send a payment link.",
            "permanent_fix": FIX,
            "owner": str(owner.pk),
        },
    )
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.why_chain == ["Payments fail", "A fraud rule is too strict"]
    assert (problem.cause_type, problem.owner, problem.permanent_fix) == (
        "product_defect",
        owner,
        FIX,
    )
    page = client.get(f"/manager/problems/{problem.pk}/").content.decode()
    assert 'value="A fraud rule is too strict"' in page
    assert "changed cause type, owner, permanent fix, why chain, workaround" in page

    refused = client.post(f"/manager/problems/{problem.pk}/edit/", {"cause_type": "gremlins"})
    assert refused.status_code == 422
    assert "unknown cause type" in refused.content.decode()
    assert (
        client.post(f"/manager/problems/{problem.pk}/edit/", {"owner": "999999"}).status_code == 422
    )
    moved = client.post(f"/manager/problems/{problem.pk}/status/", {"to": "suggested"})
    assert moved.status_code == 409
    assert client.get("/manager/problems/999999/").status_code == 404


def test_the_detail_page_links_each_case_and_publishing_records_one_notice_each(client):
    boss = manager()
    first, second = declined(), declined()
    problem = problem_with(boss, first, second)
    problems.problem_update(problem=problem, actor=boss, permanent_fix=FIX)
    client.force_login(boss)
    page = client.get(f"/manager/problems/{problem.pk}/").content.decode()
    for case in (first, second):
        assert f'href="/cases/{case.pk}/"' in page and case.reference in page

    held = client.post(
        f"/manager/problems/{problem.pk}/publish/",
        {"fix_notice": "{fix} You should have read the manual."},
    )
    assert held.status_code == 422
    assert "Holds the notice" in held.content.decode()
    published = client.post(f"/manager/problems/{problem.pk}/publish/", {"fix_notice": ""})
    assert published.status_code == 302
    problem.refresh_from_db()
    assert problem.status == "fixed"
    effects = OutboxEffect.objects.filter(kind=problem_fixes.FIX_NOTIFY_EFFECT)
    assert sorted(effects.values_list("case_id", flat=True)) == sorted([first.pk, second.pk])


def test_an_agent_sees_the_problem_and_its_workaround_on_the_case_and_links_and_unlinks(client):
    boss, agent = manager(), make_agent()
    case = declined()
    linked = problem_with(boss, case)
    other = problem_with(boss, title="Address changes")
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="panel-problems"' in page
    assert "Valid cards declined" in page and "Send a payment link." in page
    assert f'href="/manager/problems/{linked.pk}/"' not in page  # agents have no problem pages

    response = client.post(f"/cases/{case.pk}/problems/link/", {"problem": str(other.pk)})
    assert response.status_code == 302
    assert ProblemCase.objects.get(problem=other, case=case).linked_by == agent
    client.post(f"/cases/{case.pk}/problems/{linked.pk}/unlink/")
    assert not ProblemCase.objects.filter(problem=linked, case=case).exists()
    assert client.post(f"/cases/{case.pk}/problems/link/", {"problem": "x"}).status_code == 404


def test_customers_never_see_a_problem_on_their_case(client):
    boss = manager()
    case = declined()
    problem_with(boss, case)
    customer = make_user(role=Role.CUSTOMER, customer=case.customer)
    client.force_login(customer)
    page = client.get(f"/portal/cases/{case.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Valid cards declined" not in body and "payment link" not in body
    assert client.post(f"/cases/{case.pk}/problems/flag/", {}).status_code in (302, 403)
    assert not ProblemFlag.objects.exists()


def test_an_agents_flag_lands_in_the_managers_review_and_becomes_a_problem(client):
    boss, agent = manager(), make_agent()
    case = declined()
    client.force_login(agent)
    bad = client.post(
        f"/cases/{case.pk}/problems/flag/", {"occurred_at": "yesterday", "problem_text": "Again"}
    )
    assert bad.status_code == 422
    response = client.post(
        f"/cases/{case.pk}/problems/flag/",
        {
            "occurred_at": "2026-11-30T09:15",
            "problem_text": "Third declined card today",
            "solution_text": "Sent a payment link",
        },
    )
    assert response.status_code == 302
    flag = ProblemFlag.objects.get()
    assert timezone.localtime(flag.occurred_at).strftime("%Y-%m-%d %H:%M") == "2026-11-30 09:15"

    client.force_login(boss)
    review = client.get("/manager/problems/flags/").content.decode()
    assert "Third declined card today" in review and case.reference in review
    converted = client.post(
        f"/manager/problems/flags/{flag.pk}/", {"action": "convert", "title": "Cards declined"}
    )
    problem = Problem.objects.get()
    assert converted["Location"] == f"/manager/problems/{problem.pk}/"
    assert ProblemCase.objects.get(problem=problem).case == case
    again = client.post(f"/manager/problems/flags/{flag.pk}/", {"action": "dismiss"})
    assert again.status_code == 409
    assert client.post(f"/manager/problems/flags/{flag.pk}/", {"action": "x"}).status_code in (
        409,
        422,
    )
    assert "No flags waiting" in client.get("/manager/problems/flags/").content.decode()


def test_publishing_from_the_page_reaches_the_customer_after_the_worker_runs(client):
    boss = manager()
    case = declined()
    problem = problem_with(boss, case)
    problems.problem_update(problem=problem, actor=boss, permanent_fix=FIX)
    client.force_login(boss)
    client.post(f"/manager/problems/{problem.pk}/publish/", {"fix_notice": ""})
    while outbox.effects_sweep():
        pass
    case.refresh_from_db()
    assert case.status == "solved"
    assert case.messages.filter(direction="outbound", text__contains=FIX).count() == 1


def test_a_manager_looks_for_problems_then_confirms_or_merges_a_suggestion(client):
    boss = manager()
    texts = [
        ("App crashes on my statement", "The app crashes every time I open my statement."),
        ("Statement crashes the app", "Opening the monthly statement makes the app crash."),
        ("Crash on statement screen", "The app crashes when I open my statement."),
        ("Statement makes app crash", "Each time I open the statement the app crashes."),
    ]
    cases = [make_case(subject=subject, text=text) for subject, text in texts]
    client.force_login(boss)
    response = client.post("/manager/problems/detect/")
    assert response["Location"] == "/manager/problems/?status=suggested"
    suggestion = Problem.objects.get(status="suggested")
    assert ProblemCase.objects.filter(problem=suggestion).count() == len(cases)
    page = client.get(f"/manager/problems/{suggestion.pk}/").content.decode()
    assert "Confirm" in page and "Reject" in page
    assert "similar cases from several customers" in page

    target = problem_with(boss, title="Statement screen crashes")
    assert client.post(f"/manager/problems/{suggestion.pk}/merge/", {"into": ""}).status_code == 422
    merged = client.post(f"/manager/problems/{suggestion.pk}/merge/", {"into": str(target.pk)})
    assert merged["Location"] == f"/manager/problems/{target.pk}/"
    assert ProblemCase.objects.filter(problem=target).count() == len(cases)
    suggestion.refresh_from_db()
    assert suggestion.status == "closed"
