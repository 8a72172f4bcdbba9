"""API endpoints for recurring problems, mounted under /api/v1/: the list (by status, each
with its case ids) and one record; managers open, edit, move and fix problems; agents link
and unlink cases. Staff only: customers never see a problem."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Prefetch
from ninja import Field, Query, Router, Schema, Status as Reply

from caseloop.accounts.auth import ApiRequest, require_role, require_staff
from caseloop.accounts.models import STAFF_ROLES, User
from caseloop.cases import selectors as case_selectors
from caseloop.cases.models import Category

from . import problem_detection, problem_fixes, problem_selectors as selectors, problems
from .models import Problem, ProblemCase, ProblemStatus

router = Router(tags=["problems"])

StatusName = str


class ContributorOut(Schema):
    user_id: int
    name: str
    part: str
    note: str


class ProblemOut(Schema):
    id: int
    number: str
    title: str
    description: str
    status: str = Field(..., description="suggested, investigating, known_error, fixed or closed")
    category_id: int | None
    product: str
    why_chain: list[str] = Field(..., description="Answers to “why?”, down to the root cause.")
    root_cause: str
    cause_type: str
    workaround: str
    permanent_fix: str
    owner_id: int | None
    case_ids: list[int]
    created_at: datetime
    updated_at: datetime
    fixed_at: datetime | None
    fix_published_at: datetime | None

    @staticmethod
    def of(problem: Problem, case_ids: list[int]) -> ProblemOut:
        return ProblemOut(**_fields(problem, case_ids))


def _fields(problem: Problem, case_ids: list[int]) -> dict[str, Any]:
    return dict(
        id=problem.pk,
        number=problem.number,
        title=problem.title,
        description=problem.description,
        status=problem.status,
        category_id=problem.category_id,
        product=problem.product,
        why_chain=[str(step) for step in problem.why_chain],
        root_cause=problem.root_cause,
        cause_type=problem.cause_type,
        workaround=problem.workaround,
        permanent_fix=problem.permanent_fix,
        owner_id=problem.owner_id,
        case_ids=case_ids,
        created_at=problem.created_at,
        updated_at=problem.updated_at,
        fixed_at=problem.fixed_at,
        fix_published_at=problem.fix_published_at,
    )


class ProblemDetailOut(ProblemOut):
    contributors: list[ContributorOut]


def _detail(problem: Problem) -> ProblemDetailOut:
    case_ids = sorted(link.case_id for link in selectors.problem_cases(problem=problem))
    return ProblemDetailOut(
        **_fields(problem, case_ids),
        contributors=[
            ContributorOut(user_id=c.user_id, name=c.user.display_name, part=c.part, note=c.note)
            for c in selectors.problem_contributors(problem=problem)
        ],
    )


class ListFilter(Schema):
    status: ProblemStatus | None = None
    limit: int = Field(100, ge=1, le=500)


@router.get("/problems", response=list[ProblemOut], summary="Recurring problems")
def problem_list(request: ApiRequest, filters: Query[ListFilter]):
    """Problems, newest first, each with the ids of its linked cases; `status` narrows."""
    require_staff(request)
    rows = list(
        selectors.problems_list(status=filters.status or "").prefetch_related(
            Prefetch("links", queryset=ProblemCase.objects.only("id", "problem_id", "case_id"))
        )[: filters.limit]
    )
    return [ProblemOut.of(p, sorted(link.case_id for link in p.links.all())) for p in rows]


class DetectionOut(Schema):
    problem: ProblemOut
    created: bool = Field(..., description="A new suggestion (else an open problem grew).")
    case_ids: list[int] = Field(..., description="The cases this run linked.")
    expected: float = Field(..., description="How many such cases the weeks before would give.")


@router.post("/problems/detect", response=list[DetectionOut], summary="Detect problems now")
def problem_detect(request: ApiRequest):
    """Managers: group the recent cases no problem holds and suggest a problem for each
    group from several customers well above its baseline (or grow the open problem it
    resembles)."""
    require_role(request, *problems.MANAGER_ROLES)
    found = problem_detection.problems_detect()
    case_ids = {
        d.problem.pk: sorted(
            ProblemCase.objects.filter(problem=d.problem).values_list("case_id", flat=True)
        )
        for d in found
    }
    return [
        DetectionOut(
            problem=ProblemOut.of(d.problem, case_ids[d.problem.pk]),
            created=d.created,
            case_ids=sorted(d.case_ids),
            expected=round(d.expected, 2),
        )
        for d in found
    ]


@router.get("/problems/{problem_id}", response=ProblemDetailOut, summary="One problem")
def problem_get(request: ApiRequest, problem_id: str):
    require_staff(request)
    return _detail(selectors.problem_get_for_user(user=request.auth, problem_id=problem_id))


def _category(category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise problems.ProblemError("no such category", field="category_id")
    return category


def _owner(owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    owner = User.objects.filter(pk=owner_id, role__in=STAFF_ROLES, is_active=True).first()
    if owner is None:
        raise problems.ProblemError("the owner must be an active member of staff", field="owner_id")
    return owner


class ProblemIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=20_000)
    status: ProblemStatus = ProblemStatus.INVESTIGATING
    category_id: int | None = None
    product: str = Field("", max_length=200)
    owner_id: int | None = None
    case_ids: list[str] = Field(default_factory=list, max_length=500)


@router.post("/problems", response={201: ProblemDetailOut}, summary="Open a problem")
def problem_create(request: ApiRequest, payload: ProblemIn):
    """Managers. The cases named (ids or references) are linked."""
    require_role(request, *problems.MANAGER_ROLES)
    cases = [
        case_selectors.case_get_for_user(user=request.auth, case_id=case_id)
        for case_id in payload.case_ids
    ]
    problem = problems.problem_create(
        actor=request.auth,
        title=payload.title,
        description=payload.description,
        status=payload.status,
        category=_category(payload.category_id),
        product=payload.product,
        owner=_owner(payload.owner_id),
        cases=cases,
    )
    return Reply(201, _detail(problem))


class ProblemPatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=20_000)
    category_id: int | None = None
    product: str | None = Field(None, max_length=200)
    why_chain: list[str] | None = Field(None, max_length=problems.WHY_STEPS_MAX)
    cause_type: str | None = None
    workaround: str | None = Field(None, max_length=20_000)
    permanent_fix: str | None = Field(None, max_length=20_000)
    fix_notice: str | None = Field(None, max_length=20_000)
    owner_id: int | None = None


@router.patch("/problems/{problem_id}", response=ProblemDetailOut, summary="Edit a problem")
def problem_update(request: ApiRequest, problem_id: str, payload: ProblemPatch):
    """Managers and the owner; fields left out stay as they are (`null` clears category and
    owner)."""
    require_staff(request)
    problem = selectors.problem_get_for_user(user=request.auth, problem_id=problem_id)
    sent = payload.model_fields_set
    changes: dict[str, Any] = {
        field: getattr(payload, field)
        for field in (
            "title",
            "description",
            "product",
            "why_chain",
            "cause_type",
            "workaround",
            "permanent_fix",
            "fix_notice",
        )
        if field in sent and getattr(payload, field) is not None
    }
    if "category_id" in sent:
        changes["category"] = _category(payload.category_id)
    if "owner_id" in sent:
        changes["owner"] = _owner(payload.owner_id)
    problem = problems.problem_update(problem=problem, actor=request.auth, **changes)
    return _detail(problem)


class StatusIn(Schema):
    to: StatusName = Field(..., description="The status to move to.")
    reason: str = Field("", max_length=500)


@router.post("/problems/{problem_id}/status", response=ProblemDetailOut, summary="Move a problem")
def problem_status(request: ApiRequest, problem_id: str, payload: StatusIn):
    """Managers and the owner; 409 names the statuses allowed from here."""
    require_staff(request)
    problem = selectors.problem_get_for_user(user=request.auth, problem_id=problem_id)
    problem = problems.problem_transition(
        problem=problem, to=payload.to, actor=request.auth, reason=payload.reason
    )
    return _detail(problem)


class LinkIn(Schema):
    case_id: str = Field(..., description="The case's id or reference.")


@router.post(
    "/problems/{problem_id}/cases", response={201: ProblemDetailOut}, summary="Link a case"
)
def problem_case_link(request: ApiRequest, problem_id: str, payload: LinkIn):
    require_staff(request)
    problem = selectors.problem_get_for_user(user=request.auth, problem_id=problem_id)
    case = case_selectors.case_get_for_user(user=request.auth, case_id=payload.case_id)
    problems.problem_case_link(problem=problem, case=case, actor=request.auth)
    return Reply(201, _detail(problem))


@router.delete(
    "/problems/{problem_id}/cases/{case_id}", response=ProblemDetailOut, summary="Unlink a case"
)
def problem_case_unlink(request: ApiRequest, problem_id: str, case_id: str):
    require_staff(request)
    problem = selectors.problem_get_for_user(user=request.auth, problem_id=problem_id)
    case = case_selectors.case_get_for_user(user=request.auth, case_id=case_id)
    problems.problem_case_unlink(problem=problem, case=case, actor=request.auth)
    return _detail(problem)


class FixIn(Schema):
    message: str = Field(
        "",
        max_length=20_000,
        description="The notice to each customer, with {customer_name}, {reference}, "
        "{subject} and {fix}; the problem's own (or the default) when empty.",
    )


class FixOut(Schema):
    problem: ProblemDetailOut
    cases_notified: int


@router.post("/problems/{problem_id}/fix", response=FixOut, summary="Publish the fix")
def problem_fix(request: ApiRequest, problem_id: str, payload: FixIn):
    """Managers and the owner: each linked case still open is told on its own channel,
    solved, and followed up. 422 with the coach's findings when they hold the notice."""
    require_staff(request)
    problem = selectors.problem_get_for_user(user=request.auth, problem_id=problem_id)
    publication = problem_fixes.problem_fix_publish(
        problem=problem, actor=request.auth, notice=payload.message
    )
    return FixOut(problem=_detail(publication.problem), cases_notified=publication.cases_notified)


class MergeIn(Schema):
    into: str = Field(..., description="The problem (id or PRB-number) to merge this one into.")


@router.post("/problems/{problem_id}/merge", response=ProblemDetailOut, summary="Merge a problem")
def problem_merge(request: ApiRequest, problem_id: str, payload: MergeIn):
    """Managers: this problem's cases, contributors and flags move to `into`, and this one is
    closed. Returns the problem merged into."""
    require_role(request, *problems.MANAGER_ROLES)
    source = selectors.problem_get_for_user(user=request.auth, problem_id=problem_id)
    target = selectors.problem_get_for_user(user=request.auth, problem_id=payload.into)
    return _detail(
        problem_detection.problem_merge(source=source, target=target, actor=request.auth)
    )
