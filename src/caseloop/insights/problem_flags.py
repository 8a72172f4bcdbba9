"""Agents' "this keeps happening" flags on cases, and the managers' review of them: turn a
flag into a new problem, link its case to an existing one, or dismiss it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from caseloop.accounts.models import User
from caseloop.cases.models import Case, Category
from caseloop.cases.services import event_record

from .events import PROBLEM_FLAGGED
from .models import Problem, ProblemCase, ProblemContributor, ProblemFlag
from .problems import (
    TEXT_MAX_CHARS,
    ProblemConflict,
    ProblemError,
    clean_text,
    contributor_credit,
    problem_case_link,
    problem_create,
    require_manager,
    require_staff,
)

FLAG_FUTURE_SKEW = timedelta(minutes=5)


@transaction.atomic
def problem_flag_raise(
    *,
    case: Case,
    actor: User,
    occurred_at: datetime,
    problem_text: str,
    solution_text: str = "",
) -> ProblemFlag:
    """An agent flags "this keeps happening" on a case, with when it happened, what it is
    and the solution they used. Side effects: a `problem_flagged` event on the case; the
    flag waits in the managers' review."""
    require_staff(actor)
    if timezone.is_naive(occurred_at):
        raise ProblemError("the date and time need a time zone", field="occurred_at")
    if occurred_at > timezone.now() + FLAG_FUTURE_SKEW:
        raise ProblemError("the date and time cannot be in the future", field="occurred_at")
    flag = ProblemFlag.objects.create(
        case=case,
        flagged_by=actor,
        occurred_at=occurred_at,
        problem_text=clean_text(problem_text, field="problem_text", required=True, limit=5000),
        solution_text=clean_text(solution_text, field="solution_text", limit=5000),
    )
    event_record(
        case=case,
        actor=actor,
        kind=PROBLEM_FLAGGED,
        data={"flag": flag.pk, "text": flag.problem_text[:500]},
    )
    return flag


def _flag_open(flag: ProblemFlag) -> ProblemFlag:
    flag = (
        ProblemFlag.objects.select_for_update(of=("self",))
        .select_related("case", "flagged_by")
        .get(pk=flag.pk)
    )
    if flag.state != ProblemFlag.State.OPEN:
        raise ProblemConflict(f"the flag was already reviewed ({flag.get_state_display().lower()})")
    return flag


def _flag_close(
    flag: ProblemFlag, *, state: str, actor: User, problem: Problem | None, note: str
) -> None:
    flag.state = state
    flag.problem = problem
    flag.reviewed_by = actor
    flag.reviewed_at = timezone.now()
    flag.review_note = note.strip()[:500]
    flag.save(update_fields=["state", "problem", "reviewed_by", "reviewed_at", "review_note"])


@transaction.atomic
def problem_flag_convert(
    *,
    flag: ProblemFlag,
    actor: User,
    title: str,
    category: Category | None = None,
    product: str = "",
    owner: User | None = None,
) -> Problem:
    """A manager turns a flag into a new problem under investigation, its case linked and
    its agent credited for reporting it. Side effects: those of `problem_create` and
    `problem_case_link`."""
    require_manager(actor)
    flag = _flag_open(flag)
    description = flag.problem_text
    if flag.solution_text:
        description += f"\n\nSolution used: {flag.solution_text}"
    problem = problem_create(
        actor=actor,
        title=title,
        description=description,
        category=category if category is not None else flag.case.category,
        product=product,
        owner=owner,
        cases=[flag.case],
        via=ProblemCase.Via.FLAG,
    )
    if flag.solution_text and not problem.workaround:
        problem.workaround = flag.solution_text[:TEXT_MAX_CHARS]
        problem.save(update_fields=["workaround", "updated_at"])
    contributor_credit(problem=problem, user=flag.flagged_by, part=ProblemContributor.Part.REPORTED)
    _flag_close(flag, state=ProblemFlag.State.CONVERTED, actor=actor, problem=problem, note="")
    return problem


@transaction.atomic
def problem_flag_link(*, flag: ProblemFlag, problem: Problem, actor: User) -> ProblemFlag:
    """A manager links a flag's case to an existing problem, crediting its agent.
    Side effects: those of `problem_case_link`."""
    require_manager(actor)
    flag = _flag_open(flag)
    problem_case_link(problem=problem, case=flag.case, actor=actor, via=ProblemCase.Via.FLAG)
    contributor_credit(problem=problem, user=flag.flagged_by, part=ProblemContributor.Part.REPORTED)
    _flag_close(flag, state=ProblemFlag.State.LINKED, actor=actor, problem=problem, note="")
    return flag


@transaction.atomic
def problem_flag_dismiss(*, flag: ProblemFlag, actor: User, note: str = "") -> ProblemFlag:
    """A manager dismisses a flag, saying why. Side effects: none beyond the flag."""
    require_manager(actor)
    flag = _flag_open(flag)
    _flag_close(flag, state=ProblemFlag.State.DISMISSED, actor=actor, problem=None, note=note)
    return flag
