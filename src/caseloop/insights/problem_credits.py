"""Recognition: who fixed things for good. Each problem credits the people who reported it,
found its cause, its workaround and its fix, with the problem's measured impact: the cases
linked to it, and the contacts it prevented — those its fix prevented (the cases the weeks
before the fix would have brought since, less those that came anyway) and those its
proactive support prevented (`problem_impact`: followers of its banner, customers told
before they wrote)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from caseloop.accounts.models import User

from .models import Problem, ProblemContributor, ProblemStatus as S
from .problem_impact import problem_impact
from .reviews import period_bounds

# The rate of cases before the fix is read over these weeks...
RATE_WINDOW = timedelta(days=28)
# ...and the cases it prevents are counted for at most this long after it.
PREVENTED_HORIZON = timedelta(days=90)
FIXED = (S.FIXED, S.CLOSED)


@dataclass(frozen=True)
class Impact:
    cases_linked: int
    cases_before_fix: int
    cases_since_fix: int
    prevented_by_fix: int
    prevented_proactively: int = 0

    @property
    def prevented(self) -> int:
        return self.prevented_by_fix + self.prevented_proactively


@dataclass
class ProblemCredit:
    problem: Problem
    impact: Impact
    parts: list[str] = field(default_factory=list)


@dataclass
class PersonCredit:
    user: User
    problems: list[ProblemCredit] = field(default_factory=list)

    @property
    def cases_linked(self) -> int:
        return sum(c.impact.cases_linked for c in self.problems)

    @property
    def prevented(self) -> int:
        return sum(c.impact.prevented for c in self.problems)


def _with_counts(problems: QuerySet[Problem]) -> QuerySet[Problem]:
    fixed_at = F("fix_published_at")
    created = "links__case__created_at"
    return problems.annotate(
        n_linked=Count("links", distinct=True),
        n_before=Count(
            "links",
            distinct=True,
            filter=Q(**{f"{created}__gte": fixed_at - RATE_WINDOW, f"{created}__lt": fixed_at}),
        ),
        n_since=Count("links", distinct=True, filter=Q(**{f"{created}__gte": fixed_at})),
    )


def impact_of(problem: Problem, *, now: datetime | None = None) -> Impact:
    """The impact of a problem annotated by `_with_counts`. Contacts prevented by the fix:
    the pace of the RATE_WINDOW before the fix, over the time since (PREVENTED_HORIZON at
    most), less the cases that came anyway; none before a fix is published. Contacts
    prevented proactively: `problem_impact`'s (four queries a problem)."""
    linked = int(getattr(problem, "n_linked", 0))
    before = int(getattr(problem, "n_before", 0))
    since = int(getattr(problem, "n_since", 0))
    proactive = problem_impact(problem).contacts_prevented
    if problem.fix_published_at is None:
        return Impact(linked, 0, 0, 0, proactive)
    elapsed = min((now or timezone.now()) - problem.fix_published_at, PREVENTED_HORIZON)
    expected = before * max(elapsed, timedelta(0)) / RATE_WINDOW
    return Impact(linked, before, since, max(0, round(expected) - since), proactive)


def problem_impact_get(*, problem: Problem, now: datetime | None = None) -> Impact:
    annotated = _with_counts(Problem.objects.filter(pk=problem.pk)).get()
    return impact_of(annotated, now=now)


def _fixed_in(start: date, end: date) -> Q:
    low, high = period_bounds(start=start, end=end)
    # A recurrence may have reopened the problem since: the fix still counts.
    return Q(fix_published_at__gte=low, fix_published_at__lt=high)


def credits_for_agent(
    *, agent: User, start: date, end: date, now: datetime | None = None
) -> list[ProblemCredit]:
    """The problems `agent` contributed to whose fix was published in the period, and the
    open ones they are working on, with each problem's impact; fixed first."""
    contributed = Problem.objects.filter(contributors__user=agent).filter(
        _fixed_in(start, end) | ~Q(status__in=FIXED)
    )
    problems = list(
        _with_counts(contributed).order_by(F("fix_published_at").desc(nulls_last=True), "-id")[:50]
    )
    parts: dict[int, list[str]] = {}
    for row in ProblemContributor.objects.filter(
        user=agent, problem__in=[p.pk for p in problems]
    ).order_by("id"):
        parts.setdefault(row.problem_id, []).append(row.get_part_display())
    return [
        ProblemCredit(problem=p, impact=impact_of(p, now=now), parts=parts.get(p.pk, []))
        for p in problems
    ]


def credits_for_team(*, start: date, end: date, now: datetime | None = None) -> list[PersonCredit]:
    """Everyone credited on a problem whose fix was published in the period, most contacts
    prevented first."""
    problems = {
        p.pk: ProblemCredit(problem=p, impact=impact_of(p, now=now))
        for p in _with_counts(Problem.objects.filter(_fixed_in(start, end)))
    }
    people: dict[int, PersonCredit] = {}
    mine: dict[tuple[int, int], ProblemCredit] = {}
    for row in (
        ProblemContributor.objects.filter(problem_id__in=list(problems))
        .select_related("user")
        .order_by("id")
    ):
        person = people.setdefault(row.user_id, PersonCredit(user=row.user))
        key = (row.user_id, row.problem_id)
        if key not in mine:
            shared = problems[row.problem_id]
            mine[key] = ProblemCredit(problem=shared.problem, impact=shared.impact)
            person.problems.append(mine[key])
        mine[key].parts.append(row.get_part_display())
    return sorted(
        people.values(),
        key=lambda p: (-p.prevented, -p.cases_linked, p.user.display_name.lower()),
    )
