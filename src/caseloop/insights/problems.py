"""Writes for recurring problems: a problem's record and status, the cases linked to it (by
an agent, at intake, from a flag), who contributed, and the fix notice's placeholders.
Agents' flags are in `problem_flags`, publishing the fix in `problem_fixes`.

Every change writes a row of the problem's history (`ProblemChange`) and a case event on
each linked case, in the same transaction.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from types import EllipsisType
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from caseloop.accounts.models import Role, User
from caseloop.cases.events import event_kind_get
from caseloop.cases.models import Case, CaseEvent, Category
from caseloop.cases.services import event_record
from caseloop.lib.errors import DomainError, ErrorKind
from caseloop.lib.language import language_override

from . import problem_vectors
from .events import (
    PROBLEM_CHANGED,
    PROBLEM_LINKED,
    PROBLEM_UNLINKED,
)
from .models import (
    CauseType,
    Problem,
    ProblemCase,
    ProblemChange,
    ProblemContributor,
    ProblemStatus,
)
from .problem_impact import notices_wrote_after_record

MANAGER_ROLES = (Role.MANAGER, Role.ADMIN)
S = ProblemStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUGGESTED: frozenset({S.INVESTIGATING, S.CLOSED}),
    S.INVESTIGATING: frozenset({S.KNOWN_ERROR, S.FIXED, S.CLOSED}),
    S.KNOWN_ERROR: frozenset({S.INVESTIGATING, S.FIXED, S.CLOSED}),
    S.FIXED: frozenset({S.INVESTIGATING, S.CLOSED}),
    S.CLOSED: frozenset({S.INVESTIGATING}),
}
# A new case is matched at intake against the problems still worth telling its agent about;
# a match with a fixed problem is a recurrence.
MATCHED_AT_INTAKE = (S.INVESTIGATING, S.KNOWN_ERROR, S.FIXED)
# Cosine similarity a new case needs with one of a problem's linked cases to be linked at
# intake: TF-IDF, or sentence embeddings when triage's embeddings extra is enabled.
INTAKE_MIN_SCORE = 0.3
INTAKE_MIN_SCORE_EMBEDDINGS = 0.75

WHY_STEPS_MAX = 10
WHY_STEP_MAX_CHARS = 1000
TEXT_MAX_CHARS = 20_000

NOTICE_PLACEHOLDERS = {
    "customer_name": "the customer's name",
    "reference": "the case reference",
    "subject": "the case subject",
    "fix": "the permanent fix",
}
# Written in the customer's language when used as it is (see fix_notice_render).
DEFAULT_FIX_NOTICE = gettext_noop(
    "Hello {customer_name},\n\n"
    "You wrote to us about {subject} (case {reference}). We have found the cause and fixed "
    "it for everyone:\n\n{fix}\n\n"
    "If anything is still not right for you, just reply to this message and we will pick it "
    "up again."
)


class ProblemError(DomainError):
    code = "problem_error"
    kind = ErrorKind.INVALID

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class ProblemForbidden(ProblemError):
    code = "problem_forbidden"
    kind = ErrorKind.FORBIDDEN


class ProblemConflict(ProblemError):
    code = "problem_conflict"
    kind = ErrorKind.CONFLICT


class ProblemTransitionRefused(ProblemConflict):
    code = "problem_invalid_transition"

    def __init__(self, current: str, target: str, why: str = "") -> None:
        allowed = sorted(TRANSITIONS.get(current, frozenset()), key=list(S.values).index)
        self.payload = {"current": current, "requested": target, "allowed": allowed}
        super().__init__(
            why
            or f"a problem cannot move from '{current}' to '{target}'; allowed: "
            + (", ".join(allowed) or "none")
        )


# --- who may do what ------------------------------------------------------------------------


def is_problem_manager(user: object) -> bool:
    return getattr(user, "role", None) in MANAGER_ROLES


def require_staff(actor: User | None) -> None:
    if actor is None or not actor.is_agent_like:
        raise ProblemForbidden("only agents may do this")


def require_manager(actor: User | None) -> None:
    if not is_problem_manager(actor):
        raise ProblemForbidden("only managers may do this")


def require_editor(problem: Problem, actor: User | None) -> None:
    """Managers edit every problem; its owner edits their own."""
    if is_problem_manager(actor):
        return
    if actor is not None and actor.is_agent_like and problem.owner_id == actor.pk:
        return
    raise ProblemForbidden("only managers and the problem's owner may change it")


# --- history and events -----------------------------------------------------------------


def _linked_case_ids(problem: Problem) -> list[int]:
    return list(ProblemCase.objects.filter(problem=problem).values_list("case_id", flat=True))


def problem_change_record(
    *,
    problem: Problem,
    actor: User | None,
    change: str,
    data: dict[str, Any] | None = None,
) -> ProblemChange:
    """One row of the problem's history, and a `problem_changed` event on each linked case.
    Call it inside the transaction of the change."""
    data = dict(data or {})
    row = ProblemChange.objects.create(problem=problem, actor=actor, kind=change, data=data)
    event_kind_get(PROBLEM_CHANGED)
    event_data = {"problem": problem.pk, "title": problem.title, "change": change, **data}
    # One insert for every linked case: a problem may hold hundreds.
    CaseEvent.objects.bulk_create(
        CaseEvent(case_id=case_id, actor=actor, kind=PROBLEM_CHANGED, data=event_data)
        for case_id in _linked_case_ids(problem)
    )
    return row


def contributor_credit(*, problem: Problem, user: User | None, part: str, note: str = "") -> None:
    if user is None or not user.is_agent_like:
        return
    ProblemContributor.objects.get_or_create(
        problem=problem, user=user, part=part, defaults={"note": note[:500]}
    )


def problem_lock(problem: Problem) -> Problem:
    return Problem.objects.select_for_update().get(pk=problem.pk)


# --- the record ---------------------------------------------------------------------------


def clean_text(
    value: str, *, field: str, required: bool = False, limit: int = TEXT_MAX_CHARS
) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ProblemError(f"the {field.replace('_', ' ')} is required", field=field)
    if len(value) > limit:
        raise ProblemError(
            f"the {field.replace('_', ' ')} is too long (at most {limit})", field=field
        )
    return value


def why_chain_clean(steps: Iterable[str]) -> list[str]:
    """The why-chain as stored: its non-blank answers in order, at most WHY_STEPS_MAX."""
    chain = [" ".join(str(step or "").split()) for step in steps]
    chain = [step for step in chain if step]
    if len(chain) > WHY_STEPS_MAX:
        raise ProblemError(f"a why-chain has at most {WHY_STEPS_MAX} steps", field="why_chain")
    for step in chain:
        if len(step) > WHY_STEP_MAX_CHARS:
            raise ProblemError(
                f"each answer in the why-chain is at most {WHY_STEP_MAX_CHARS} characters",
                field="why_chain",
            )
    return chain


@transaction.atomic
def problem_create(
    *,
    actor: User,
    title: str,
    description: str = "",
    category: Category | None = None,
    product: str = "",
    owner: User | None = None,
    status: str = S.INVESTIGATING,
    cases: Iterable[Case] = (),
    via: str = ProblemCase.Via.AGENT,
) -> Problem:
    """Open a problem record (managers). Side effects: a `created` history row; the cases
    given are linked (a `problem_linked` event each)."""
    require_manager(actor)
    if status not in (S.SUGGESTED, S.INVESTIGATING):
        raise ProblemError("a new problem is suggested or under investigation", field="status")
    if owner is not None and not owner.is_agent_like:
        raise ProblemError("the owner must be a member of staff", field="owner")
    problem = Problem.objects.create(
        title=clean_text(title, field="title", required=True, limit=200),
        description=clean_text(description, field="description"),
        category=category,
        product=clean_text(product, field="product", limit=200),
        owner=owner,
        status=status,
        created_by=actor,
    )
    ProblemChange.objects.create(
        problem=problem,
        actor=actor,
        kind="created",
        data={"status": status, "title": problem.title},
    )
    for case in cases:
        problem_case_link(problem=problem, case=case, actor=actor, via=via)
    return problem


_EDITABLE_TEXT = {
    "title": 200,
    "description": TEXT_MAX_CHARS,
    "product": 200,
    "workaround": TEXT_MAX_CHARS,
    "permanent_fix": TEXT_MAX_CHARS,
    "fix_notice": TEXT_MAX_CHARS,
}
# Writing these credits the writer as a contributor.
_CREDITS = {
    "why_chain": ProblemContributor.Part.ROOT_CAUSE,
    "workaround": ProblemContributor.Part.WORKAROUND,
    "permanent_fix": ProblemContributor.Part.FIX,
}


@transaction.atomic
def problem_update(
    *,
    problem: Problem,
    actor: User,
    title: str | EllipsisType = ...,
    description: str | EllipsisType = ...,
    category: Category | None | EllipsisType = ...,
    product: str | EllipsisType = ...,
    why_chain: list[str] | EllipsisType = ...,
    cause_type: str | EllipsisType = ...,
    workaround: str | EllipsisType = ...,
    permanent_fix: str | EllipsisType = ...,
    fix_notice: str | EllipsisType = ...,
    owner: User | None | EllipsisType = ...,
) -> Problem:
    """Change a problem's record; arguments left out stay as they are (managers and the
    owner). Writing the why-chain, the workaround or the fix credits the writer.
    Side effects: an `updated` history row naming each field with before and after, and a
    `problem_changed` event on each linked case — nothing when nothing changed."""
    require_editor(problem, actor)
    problem = problem_lock(problem)
    texts = {
        "title": title,
        "description": description,
        "product": product,
        "workaround": workaround,
        "permanent_fix": permanent_fix,
        "fix_notice": fix_notice,
    }
    wanted: dict[str, Any] = {}
    for field, limit in _EDITABLE_TEXT.items():
        value = texts[field]
        if isinstance(value, str):
            wanted[field] = clean_text(value, field=field, required=field == "title", limit=limit)
    if why_chain is not ...:
        wanted["why_chain"] = why_chain_clean(why_chain)
    if cause_type is not ...:
        if cause_type and cause_type not in CauseType.values:
            raise ProblemError(
                f"unknown cause type '{cause_type}'; one of: {', '.join(CauseType.values)}",
                field="cause_type",
            )
        wanted["cause_type"] = cause_type
    if category is not ...:
        wanted["category"] = category
    if owner is not ...:
        if owner is not None and not owner.is_agent_like:
            raise ProblemError("the owner must be a member of staff", field="owner")
        wanted["owner"] = owner
    if "fix_notice" in wanted and wanted["fix_notice"]:
        fix_notice_check_placeholders(wanted["fix_notice"])
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for field, value in wanted.items():
        current = getattr(problem, field)
        if field in ("category", "owner"):
            current_id = current.pk if current is not None else None
            value_id = value.pk if value is not None else None
            if current_id != value_id:
                before[field], after[field] = current_id, value_id
                setattr(problem, field, value)
        elif current != value:
            before[field], after[field] = current, value
            setattr(problem, field, value)
    if not after:
        return problem
    problem.save(update_fields=[*after, "updated_at"])
    for field, part in _CREDITS.items():
        if field in after and after[field]:
            contributor_credit(problem=problem, user=actor, part=part)
    problem_change_record(
        problem=problem,
        actor=actor,
        change="updated",
        data={"fields": sorted(after), "before": before, "after": after},
    )
    return problem


def _transition_check(problem: Problem, to: str) -> None:
    if to not in S.values:
        raise ProblemTransitionRefused(problem.status, to)
    if to not in TRANSITIONS.get(problem.status, frozenset()):
        raise ProblemTransitionRefused(problem.status, to)
    if to == S.KNOWN_ERROR and not problem.why_chain:
        raise ProblemTransitionRefused(
            problem.status, to, "a known error needs its root cause: answer the why-chain first"
        )
    if to == S.FIXED and not problem.permanent_fix:
        raise ProblemTransitionRefused(
            problem.status, to, "a fixed problem needs its permanent fix written first"
        )


def problem_move(*, problem: Problem, to: str, actor: User | None, reason: str = "") -> None:
    """Inside the transaction, the problem's row locked and the move checked."""
    before = problem.status
    now = timezone.now()
    problem.status = to
    fields = ["status", "updated_at"]
    if to == S.FIXED:
        problem.fixed_at = now
        fields.append("fixed_at")
    elif to == S.CLOSED:
        problem.closed_at = now
        fields.append("closed_at")
    elif to == S.INVESTIGATING and before in (S.FIXED, S.CLOSED):
        problem.fixed_at = None
        problem.closed_at = None
        fields += ["fixed_at", "closed_at"]
    problem.save(update_fields=fields)
    data: dict[str, Any] = {"before": before, "after": to}
    if reason:
        data["reason"] = reason[:500]
    problem_change_record(problem=problem, actor=actor, change="status", data=data)


@transaction.atomic
def problem_transition(*, problem: Problem, to: str, actor: User, reason: str = "") -> Problem:
    """Move a problem along suggested → investigating → known error → fixed → closed (managers
    and the owner). A known error needs its root cause, a fixed problem its permanent fix.
    Side effects: a `status` history row; a `problem_changed` event on each linked case."""
    require_editor(problem, actor)
    problem = problem_lock(problem)
    _transition_check(problem, to)
    problem_move(problem=problem, to=to, actor=actor, reason=reason)
    return problem


@transaction.atomic
def problem_contributor_add(
    *, problem: Problem, user: User, part: str, actor: User, note: str = ""
) -> ProblemContributor:
    """Credit `user` with a part in the problem (managers and the owner). Side effects: a
    `contributor` history row and case events, when the credit is new."""
    require_editor(problem, actor)
    if part not in ProblemContributor.Part.values:
        raise ProblemError(f"unknown contribution '{part}'", field="part")
    if not user.is_agent_like:
        raise ProblemError("only members of staff are credited", field="user")
    contributor, created = ProblemContributor.objects.get_or_create(
        problem=problem, user=user, part=part, defaults={"note": note.strip()[:500]}
    )
    if created:
        problem_change_record(
            problem=problem,
            actor=actor,
            change="contributor",
            data={"user": user.pk, "part": part, "note": contributor.note},
        )
    return contributor


# --- linked cases -------------------------------------------------------------------------


@transaction.atomic
def problem_case_link(
    *,
    problem: Problem,
    case: Case,
    actor: User | None,
    via: str = ProblemCase.Via.AGENT,
    score: float | None = None,
) -> ProblemCase | None:
    """Link a case to a problem (None when it already is). A case opened after the problem
    was fixed is a recurrence: the problem goes back to investigating.
    Side effects: a `problem_linked` event on the case; a `case_linked` history row (and,
    on a recurrence, a `status` one with events on every linked case)."""
    if via == ProblemCase.Via.AGENT:
        require_staff(actor)
    if via not in ProblemCase.Via.values:
        raise ProblemError(f"unknown way of linking '{via}'", field="via")
    problem = problem_lock(problem)
    if problem.status == S.CLOSED:
        raise ProblemConflict("the problem is closed; reopen it before linking cases")
    if ProblemCase.objects.filter(problem=problem, case=case).exists():
        return None
    link = ProblemCase.objects.create(
        problem=problem, case=case, via=via, linked_by=actor, score=score
    )
    data: dict[str, Any] = {"problem": problem.pk, "title": problem.title, "via": via}
    if score is not None:
        data["score"] = round(score, 4)
    event_record(case=case, actor=actor, kind=PROBLEM_LINKED, data=data)
    notices_wrote_after_record(problem=problem, case=case)
    ProblemChange.objects.create(
        problem=problem,
        actor=actor,
        kind="case_linked",
        data={"case": case.pk, "reference": case.reference, "via": via, "score": data.get("score")},
    )
    if (
        problem.status == S.FIXED
        and problem.fixed_at is not None
        and case.created_at > problem.fixed_at
    ):
        problem_move(
            problem=problem,
            to=S.INVESTIGATING,
            actor=actor,
            reason=f"recurrence: {case.reference} came in after the fix",
        )
    return link


@transaction.atomic
def problem_case_unlink(*, problem: Problem, case: Case, actor: User) -> bool:
    """Unlink a case (agents). Returns whether it was linked.
    Side effects: a `problem_unlinked` event on the case; a `case_unlinked` history row."""
    require_staff(actor)
    deleted, _ = ProblemCase.objects.filter(problem=problem, case=case).delete()
    if not deleted:
        return False
    event_record(
        case=case,
        actor=actor,
        kind=PROBLEM_UNLINKED,
        data={"problem": problem.pk, "title": problem.title},
    )
    ProblemChange.objects.create(
        problem=problem,
        actor=actor,
        kind="case_unlinked",
        data={"case": case.pk, "reference": case.reference},
    )
    return True


def problem_intake_match(case_id: int) -> None:
    """Hook (a new case): link it to the known problem one of whose linked cases it most
    resembles (the representation detection uses), when close enough. The linked cases'
    vectors are kept per process and follow the problems' history. Idempotent: a case
    already linked at intake is left alone."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None or ProblemCase.objects.filter(case=case, via=ProblemCase.Via.INTAKE).exists():
        return
    # Comparing texts is the costly part: skip it while no known problem has a case.
    if not ProblemCase.objects.filter(problem__status__in=MATCHED_AT_INTAKE).exists():
        return
    [doc] = problem_vectors.case_docs(Case.objects.filter(pk=case.pk), limit=1)
    match = problem_vectors.linked_match(
        text=doc.text,
        statuses=MATCHED_AT_INTAKE,
        min_score={
            problem_vectors.TFIDF: INTAKE_MIN_SCORE,
            problem_vectors.EMBEDDINGS: INTAKE_MIN_SCORE_EMBEDDINGS,
        },
    )
    if match is None:
        return
    problem_id, score = match
    problem = Problem.objects.get(pk=problem_id)
    problem_case_link(
        problem=problem, case=case, actor=None, via=ProblemCase.Via.INTAKE, score=score
    )


# --- fix once, tell everyone --------------------------------------------------------------


def placeholders_check(text: str, *, allowed: Iterable[str], field: str) -> None:
    """Refuse a text naming anything but the `allowed` placeholders (or with broken braces)."""
    allowed = list(allowed)
    try:
        parts = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(text)
            if name is not None
        ]
    except ValueError as exc:
        raise ProblemError(
            f"the text has a stray brace ({exc}); write {{{{ and }}}} for literal braces",
            field=field,
        ) from exc
    if any(spec or conversion for _, spec, conversion in parts):
        raise ProblemError(
            "placeholders are written plainly, such as {customer_name}, without a format or "
            "conversion",
            field=field,
        )
    unknown = sorted({name for name, _, _ in parts if name not in allowed})
    if unknown:
        raise ProblemError(
            f"unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}; use "
            + ", ".join("{" + n + "}" for n in allowed),
            field=field,
        )


def fix_notice_check_placeholders(notice: str) -> None:
    """Refuse a fix notice naming anything but its placeholders (or with broken braces)."""
    placeholders_check(notice, allowed=NOTICE_PLACEHOLDERS, field="fix_notice")


def fix_notice_render(*, problem: Problem, case: Case, notice: str = "") -> str:
    """The notice for one case's customer, its placeholders filled in."""
    template = notice or problem.fix_notice or DEFAULT_FIX_NOTICE
    fix_notice_check_placeholders(template)
    with language_override(case.customer.language):
        if template == DEFAULT_FIX_NOTICE:
            template = gettext(template)
        values = {
            "customer_name": case.customer.name or gettext("there"),
            "reference": case.reference,
            "subject": case.subject,
            "fix": problem.permanent_fix,
        }
    return template.format_map(values).strip()
