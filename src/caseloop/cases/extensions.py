"""What the core asks of the apps around it, without importing them.

The core owns these registries; outer apps fill them in their AppConfig.ready():
- case-page panels (triage, the loop, knowledge, calls…),
- the complaint verdict (triage),
- similar solved cases (triage),
- search in case conversations (knowledge),
- the review of a draft reply (the coach),
- the triage summary shown with a case (triage), from the case or from a row of its values,
- checks a case must pass before it is solved (the loop's authority matrix, which imports
  the case services and so cannot be imported by them).

An empty registry answers with a safe default, so the core works (and is tested) alone.
Callbacks that react to changes after they commit live in `hooks`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.utils.translation import gettext

from .models import Case

# --- Case-page panels ------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """A panel on the case page: a template and a function returning its context (None
    hides the panel for that case and user)."""

    key: str
    title: str
    template: str
    context: Callable[..., dict[str, Any] | None]
    order: int = 100


_panels: dict[str, Panel] = {}


def panel_register(panel: Panel) -> None:
    _panels[panel.key] = panel


def case_panels(*, case: Case, user: Any) -> list[dict[str, Any]]:
    shown = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        context = panel.context(case=case, user=user)
        if context is not None:
            shown.append(
                {
                    "key": panel.key,
                    # Registered marked with gettext_noop; shown in the reader's language.
                    "title": gettext(panel.title),
                    "template": panel.template,
                    "context": context,
                }
            )
    return shown


# --- Complaint verdict -----------------------------------------------------------------

ComplaintVerdict = Callable[[Case], bool]
_complaint_verdict: list[ComplaintVerdict] = []


def complaint_verdict_register(verdict: ComplaintVerdict) -> None:
    _complaint_verdict[:] = [verdict]


def case_is_complaint(*, case: Case) -> bool:
    """The desk's one answer to "is this case a complaint?" (triage's verdict); with no
    verdict registered, the agent's "complaint" tag."""
    if _complaint_verdict:
        return _complaint_verdict[0](case)
    return case.pk is not None and case.tags.filter(name="complaint").exists()


ComplaintVerdicts = Callable[[list[Case]], set[int]]
_complaint_verdicts: list[ComplaintVerdicts] = []


def complaint_verdicts_register(verdicts: ComplaintVerdicts) -> None:
    _complaint_verdicts[:] = [verdicts]


def cases_complaint_ids(*, cases: list[Case]) -> set[int]:
    """`case_is_complaint` for many cases at once (a few queries, not a few per case): the
    ids of those that are complaints."""
    if _complaint_verdicts:
        return _complaint_verdicts[0](cases)
    ids = [case.pk for case in cases if case.pk is not None]
    return set(
        Case.tags.through.objects.filter(case_id__in=ids, tag__name="complaint").values_list(
            "case_id", flat=True
        )
    )


# --- Similar cases ---------------------------------------------------------------------


@dataclass(frozen=True)
class SimilarCase:
    case: Case
    score: float
    resolution: str


SimilarFinder = Callable[..., list[SimilarCase]]
_similar_finder: list[SimilarFinder] = []


def similar_finder_register(finder: SimilarFinder) -> None:
    """`finder(case=, k=, solved_only=)` returns up to k SimilarCase, best first."""
    _similar_finder[:] = [finder]


def cases_similar(*, case: Case, k: int = 5, solved_only: bool = False) -> list[SimilarCase]:
    if not _similar_finder:
        return []
    return _similar_finder[0](case=case, k=k, solved_only=solved_only)


# --- Conversation search ---------------------------------------------------------------

ConversationSearch = Callable[..., list[int]]
_conversation_search: list[ConversationSearch] = []


def conversation_search_register(search: ConversationSearch) -> None:
    """`search(q, limit=)` returns the ids of cases whose conversation matches `q`, best
    first (knowledge's full-text index)."""
    _conversation_search[:] = [search]


def conversation_case_ids(*, q: str, limit: int) -> list[int]:
    return _conversation_search[0](q, limit=limit) if _conversation_search else []


# --- Reply review ----------------------------------------------------------------------


class ReplyReviewer(Protocol):
    """Reviews a draft reply before it is sent (the reply coach)."""

    def findings(self, *, text: str, case: Case) -> list[Any]:
        """What to improve, each with `rule_id`, `blocks` (whether it holds the reply
        until revised or sent anyway; otherwise it is advice) and `as_dict()`; empty when
        it is fine."""

    def override_record(self, *, user: Any, case: Case, message: Any, rule_ids: list[str]) -> Any:
        """Count a reply sent despite findings that held it."""


_reply_reviewer: list[ReplyReviewer] = []


def reply_reviewer_register(reviewer: ReplyReviewer) -> None:
    _reply_reviewer[:] = [reviewer]


def reply_reviewer() -> ReplyReviewer | None:
    return _reply_reviewer[0] if _reply_reviewer else None


# --- Triage summary --------------------------------------------------------------------

TriageReader = Callable[[Case], dict[str, Any] | None]
_triage_reader: list[TriageReader] = []


def triage_reader_register(reader: TriageReader) -> None:
    _triage_reader[:] = [reader]


def case_triage_summary(*, case: Case) -> dict[str, Any] | None:
    """The case's stored triage (category, priority and their reasons), or None."""
    return _triage_reader[0](case) if _triage_reader else None


@dataclass(frozen=True)
class TriageRowReader:
    """The triage summary from a row of case values: `columns` (lookups from a case, joined
    into the case's own query) and `read(row)`, which gives what `case_triage_summary`
    gives for that case."""

    columns: tuple[str, ...]
    read: Callable[[Mapping[str, Any]], dict[str, Any] | None]


_triage_row_reader: list[TriageRowReader] = []


def triage_row_reader_register(reader: TriageRowReader) -> None:
    _triage_row_reader[:] = [reader]


def case_triage_columns() -> tuple[str, ...]:
    return _triage_row_reader[0].columns if _triage_row_reader else ()


def case_triage_summary_of_row(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """`case_triage_summary` of the case in `row`, which holds `case_triage_columns()`."""
    return _triage_row_reader[0].read(row) if _triage_row_reader else None


# --- Checks before a case is solved ----------------------------------------------------

SolveCheck = Callable[[Case, Any], None]
_solve_checks: dict[str, SolveCheck] = {}


def solve_check_register(key: str, check: SolveCheck) -> None:
    """`check(case, actor)` runs inside the transaction about to mark `case` solved, the
    case's row locked; it refuses by raising a CaseError."""
    _solve_checks[key] = check


def case_solve_check(*, case: Case, actor: Any) -> None:
    for check in list(_solve_checks.values()):
        check(case, actor)
