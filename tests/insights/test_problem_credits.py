"""Recognition: each problem credits who reported it, found its cause and made its fix,
with the cases linked and the contacts its fix prevented; shown on the person's
performance page and the team's "Fixed for good" page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from caseloop.accounts.models import Role
from caseloop.cases.models import Case
from caseloop.insights import problem_credits, problem_fixes, problems
from caseloop.insights.models import ProblemContributor, ProblemFollower, ProblemStatus
from tests.builders import make_agent, make_case, make_customer, make_user

pytestmark = pytest.mark.django_db

FIX = "We corrected the payment gateway setting that refused valid cards."


def card_case(**extra):
    return make_case(
        subject="Card declined at checkout",
        text="My card is declined at checkout with error 402.",
        customer=make_customer(),
        **extra,
    )


def fixed_problem(*, boss, finder, cases_before: int, days_before: int = 14):
    """A problem whose `cases_before` cases came in the `days_before` days before its fix,
    which `boss` published; `finder` found the root cause."""
    problem = problems.problem_create(actor=boss, title="Valid cards declined")
    cases = [card_case() for _ in range(cases_before)]
    for case in cases:
        problems.problem_case_link(problem=problem, case=case, actor=boss)
    problems.problem_update(
        problem=problem,
        actor=boss,
        why_chain=["Payments fail", "A fraud rule is too strict"],
        cause_type="product_defect",
        workaround="Send a payment link.",
    )
    problems.problem_contributor_add(
        problem=problem, user=finder, part=ProblemContributor.Part.ROOT_CAUSE, actor=boss
    )
    problems.problem_transition(problem=problem, to=ProblemStatus.KNOWN_ERROR, actor=boss)
    problems.problem_update(problem=problem, actor=boss, permanent_fix=FIX)
    problem_fixes.problem_fix_publish(problem=problem, actor=boss)
    problem.refresh_from_db()
    published = problem.fix_published_at
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(
        created_at=published - timedelta(days=days_before)
    )
    return problem


def test_a_fix_prevents_what_the_weeks_before_would_have_brought_less_what_came_anyway():
    boss, finder = make_user(role=Role.MANAGER), make_agent()
    # 14 cases in the four weeks before the fix: half a case a day.
    problem = fixed_problem(boss=boss, finder=finder, cases_before=14)
    later = problem.fix_published_at + timedelta(days=20)
    impact = problem_credits.problem_impact_get(problem=problem, now=later)
    assert impact == problem_credits.Impact(14, 14, 0, 10, 0)

    # Two come anyway after the fix (each reopens the problem): eight prevented.
    for _ in range(2):
        case = card_case()
        problems.problem_case_link(problem=problem, case=case, actor=boss)
        Case.objects.filter(pk=case.pk).update(created_at=later - timedelta(days=1))
    impact = problem_credits.problem_impact_get(problem=problem, now=later)
    assert impact == problem_credits.Impact(16, 14, 2, 8, 0)

    # Cases older than the four weeks before set no pace; the horizon stops at 90 days.
    Case.objects.filter(problem_links__problem=problem).update(
        created_at=problem.fix_published_at - timedelta(days=40)
    )
    assert problem_credits.problem_impact_get(problem=problem, now=later).prevented_by_fix == 0
    far = problem.fix_published_at + timedelta(days=400)
    Case.objects.filter(problem_links__problem=problem).update(
        created_at=problem.fix_published_at - timedelta(days=1)
    )
    # 16 cases in the 28 days before: 90 days' worth is 51.
    assert problem_credits.problem_impact_get(problem=problem, now=far).prevented_by_fix == 51


def test_before_a_fix_only_the_banners_followers_count_as_prevented():
    boss = make_user(role=Role.MANAGER)
    problem = problems.problem_create(actor=boss, title="Slow refunds", cases=[card_case()])
    impact = problem_credits.problem_impact_get(problem=problem)
    assert (impact.cases_linked, impact.prevented_by_fix, impact.prevented) == (1, 0, 0)
    ProblemFollower.objects.create(problem=problem, email="ann@example.com", via="help_centre")
    impact = problem_credits.problem_impact_get(problem=problem)
    assert (impact.prevented_by_fix, impact.prevented_proactively, impact.prevented) == (0, 1, 1)


def test_the_performance_page_and_the_team_page_credit_who_fixed_it(client):
    boss, finder, bystander = make_user(role=Role.MANAGER), make_agent(), make_agent()
    problem = fixed_problem(boss=boss, finder=finder, cases_before=14, days_before=3)
    today = timezone.localdate()
    period = {"from": (today - timedelta(days=7)).isoformat(), "to": today.isoformat()}
    client.force_login(boss)

    page = client.get(reverse("web:manager_agent", args=[finder.pk]), period)
    assert page.status_code == 200
    credits = page.context["credits"]
    assert [(c.problem.pk, c.parts) for c in credits] == [(problem.pk, ["Found the root cause"])]
    assert credits[0].impact.cases_linked == 14
    assert f'data-problem="{problem.pk}"' in page.content.decode()
    bystander_page = client.get(reverse("web:manager_agent", args=[bystander.pk]), period)
    assert bystander_page.context["credits"] == []

    team = client.get(reverse("web:team_credits"), period)
    assert team.status_code == 200
    people = {p.user.pk: p for p in team.context["people"]}
    assert set(people) == {boss.pk, finder.pk}
    assert [c.parts for c in people[boss.pk].problems] == [
        ["Found the root cause", "Found the workaround", "Made the fix"]
    ]
    assert people[finder.pk].cases_linked == 14
    assert f'data-user="{finder.pk}"' in team.content.decode()

    # A period before the fix credits nobody.
    before = {
        "from": (today - timedelta(days=60)).isoformat(),
        "to": (today - timedelta(days=30)).isoformat(),
    }
    assert client.get(reverse("web:team_credits"), before).context["people"] == []


def test_only_managers_see_the_team_credits(client):
    client.force_login(make_agent())
    assert client.get(reverse("web:team_credits")).status_code == 403
    client.logout()
    assert client.get(reverse("web:team_credits")).status_code == 302
