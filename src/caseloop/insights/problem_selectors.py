"""Reads for recurring problems: the list and one record with its cases, contributors and
history, the flags waiting for review, and the case page's problems panel. Staff only:
customers never see a problem."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from caseloop.accounts.models import STAFF_ROLES, User
from caseloop.cases.models import Case

from .models import (
    Problem,
    ProblemCase,
    ProblemChange,
    ProblemContributor,
    ProblemFlag,
    ProblemStatus,
)
from .problems import NOTICE_PLACEHOLDERS, is_problem_manager

LINKABLE_STATUSES = (
    ProblemStatus.SUGGESTED,
    ProblemStatus.INVESTIGATING,
    ProblemStatus.KNOWN_ERROR,
    ProblemStatus.FIXED,
)
PANEL_LINKABLE_LIMIT = 200


def _is_staff(user: object) -> bool:
    return bool(getattr(user, "is_agent_like", False))


def problems_list(*, status: str = "") -> QuerySet[Problem]:
    """Problems, newest first, with owner, category and how many cases each has; `status`
    narrows to one status (an unknown one answers nothing)."""
    problems = Problem.objects.select_related("owner", "category").annotate(
        case_count=Count("links", distinct=True)
    )
    if status:
        problems = problems.filter(status=status)
    return problems.order_by("-id")


def problem_get_for_user(*, user: object, problem_id: int | str) -> Problem:
    """The problem, for staff; 404 for anyone else or an unknown id."""
    if not _is_staff(user):
        raise Http404("No such problem.")
    text = str(problem_id).upper().removeprefix("PRB-")
    if not text.isdigit():
        raise Http404("No such problem.")
    problem = (
        Problem.objects.select_related("owner", "category", "created_by", "fix_published_by")
        .filter(pk=int(text))
        .first()
    )
    if problem is None:
        raise Http404("No such problem.")
    return problem


def problem_cases(*, problem: Problem) -> list[ProblemCase]:
    """The problem's linked cases, newest link first, with case, customer and who linked."""
    return list(
        ProblemCase.objects.filter(problem=problem)
        .select_related("case", "case__customer", "case__owner", "linked_by")
        .order_by("-id")
    )


def problem_contributors(*, problem: Problem) -> list[ProblemContributor]:
    return list(ProblemContributor.objects.filter(problem=problem).select_related("user"))


HISTORY_WORDS = {
    "created": "opened the problem",
    "updated": "changed",
    "status": "moved it",
    "case_linked": "linked",
    "case_unlinked": "unlinked",
    "contributor": "credited a contributor",
    "fix_published": "published the permanent fix",
    "merged": "merged another problem into this one",
}


@dataclass(frozen=True)
class HistoryLine:
    change: ProblemChange
    text: str


def _history_text(change: ProblemChange) -> str:
    data = change.data if isinstance(change.data, dict) else {}
    text = HISTORY_WORDS.get(change.kind, change.kind.replace("_", " "))
    if change.kind == "created" and data.get("detected"):
        text = "suggested it: similar cases from several customers came in faster than usual"
    elif change.kind == "merged":
        count = len(data.get("cases") or [])
        text += f" (PRB-{data.get('source')}, {count} case{'s' if count != 1 else ''})"
    elif change.kind == "status":
        before = str(data.get("before", "")).replace("_", " ")
        after = str(data.get("after", "")).replace("_", " ")
        text += f" from {before} to {after}"
    elif change.kind in ("case_linked", "case_unlinked"):
        text += f" {data.get('reference', '')}"
        if data.get("via") and data["via"] != "agent":
            text += {"intake": " at intake", "flag": " from a flag"}.get(
                data["via"], f" by {data['via']}"
            )
    elif change.kind == "updated" and data.get("fields"):
        text += " " + ", ".join(str(f).replace("_", " ") for f in data["fields"])
    elif change.kind == "fix_published":
        count = len(data.get("cases") or [])
        text += f" to {count} open case{'s' if count != 1 else ''}"
    if data.get("reason"):
        text += f" — {data['reason']}"
    return text


def problem_history(*, problem: Problem) -> list[HistoryLine]:
    """The problem's history, oldest first, each change with the words it reads as."""
    changes = ProblemChange.objects.filter(problem=problem).select_related("actor").order_by("id")
    return [HistoryLine(change=change, text=_history_text(change)) for change in changes]


def problem_detail(*, problem: Problem) -> dict[str, Any]:
    """Everything the problem page shows, in one dict (five queries beside the problem)."""
    return {
        "problem": problem,
        "links": problem_cases(problem=problem),
        "contributors": problem_contributors(problem=problem),
        "history": problem_history(problem=problem),
        "staff": list(
            User.objects.filter(role__in=STAFF_ROLES, is_active=True).order_by("username")
        ),
        "placeholders": NOTICE_PLACEHOLDERS,
    }


def problem_flags_open() -> QuerySet[ProblemFlag]:
    """Flags waiting for a manager, oldest first, with their case and agent."""
    return (
        ProblemFlag.objects.filter(state=ProblemFlag.State.OPEN)
        .select_related("case", "case__customer", "case__category", "flagged_by")
        .order_by("id")
    )


def problem_flag_get(*, flag_id: int) -> ProblemFlag:
    flag = ProblemFlag.objects.select_related("case", "flagged_by").filter(pk=flag_id).first()
    if flag is None:
        raise Http404("No such flag.")
    return flag


def problems_linkable() -> QuerySet[Problem]:
    """Problems a case may be linked to (not closed), newest first."""
    return Problem.objects.filter(status__in=LINKABLE_STATUSES).order_by("-id")


def case_problems_panel_context(*, case: Case, user: Any) -> dict[str, Any] | None:
    """The case page's problems panel, for agents: the problems the case is linked to, each
    with its status and workaround, the problems it could be linked to, and the flag form.
    One query: every problem linked to the case, then those it could be linked to."""
    if not _is_staff(user):
        return None
    link = ProblemCase.objects.filter(case=case, problem=OuterRef("pk"))
    rows = (
        Problem.objects.annotate(
            link_via=Subquery(link.values("via")[:1]),
            link_at=Subquery(link.values("linked_at")[:1]),
        )
        .filter(Q(status__in=LINKABLE_STATUSES) | Q(link_via__isnull=False))
        .order_by(F("link_at").desc(nulls_last=True), "-id")[:PANEL_LINKABLE_LIMIT]
    )
    links: list[dict[str, Any]] = []
    choices: list[Problem] = []
    for problem in rows:
        via = getattr(problem, "link_via", None)
        if via:
            links.append(
                {
                    "problem": problem,
                    "via": ProblemCase.Via(via).label,
                    "linked_at": getattr(problem, "link_at", None),
                }
            )
        else:
            choices.append(problem)
    return {
        "case": case,
        "links": links,
        "choices": choices,
        "manager": is_problem_manager(user),
    }
