"""API endpoints for recurring problems, mounted under /api/v1/: the list (by status, each
with its case ids) and one record with its impact; managers open, edit, move and fix
problems, set the known-issue banner and tell likely-affected customers before they write;
agents link and unlink cases. Staff only: customers never see a problem."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db.models import Prefetch
from ninja import Field, Query, Router, Schema, Status as Reply

from caseloop.accounts.auth import ApiRequest, require_role, require_staff
from caseloop.accounts.models import STAFF_ROLES, User
from caseloop.cases import selectors as case_selectors
from caseloop.cases.models import Category

from . import (
    problem_detection,
    problem_fixes,
    problem_notices,
    problem_selectors as selectors,
    problems,
)
from .models import Problem, ProblemCase, ProblemStatus
from .problem_impact import problem_impact

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


class ImpactOut(Schema):
    cases_linked: int
    followers: int = Field(
        ...,
        description="Customers following the known issue from its "
        "banner: each a duplicate case not opened.",
    )
    notices_sent: int
    notices_queued: int
    notices_failed: int
    wrote_anyway: int = Field(
        ..., description="Noticed customers who opened a case about the problem after their notice."
    )
    contact_rate: float = Field(
        ...,
        description="Before each sending, the share of its "
        "affected group who had already written (weighted by notices).",
    )
    expected_contacts: int = Field(..., description="round(notices_sent × contact_rate)")
    contacts_prevented: int = Field(
        ..., description="followers + max(0, expected_contacts − wrote_anyway)"
    )


class ProblemDetailOut(ProblemOut):
    contributors: list[ContributorOut]
    public_title: str
    public_summary: str
    show_banner: bool
    impact: ImpactOut


def _detail(problem: Problem) -> ProblemDetailOut:
    case_ids = sorted(link.case_id for link in selectors.problem_cases(problem=problem))
    return ProblemDetailOut(
        **_fields(problem, case_ids),
        contributors=[
            ContributorOut(user_id=c.user_id, name=c.user.display_name, part=c.part, note=c.note)
            for c in selectors.problem_contributors(problem=problem)
        ],
        public_title=problem.public_title,
        public_summary=problem.public_summary,
        show_banner=problem.show_banner,
        impact=ImpactOut(**problem_impact(problem).as_dict()),
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


# --- proactive support ----------------------------------------------------------------------


class BannerIn(Schema):
    public_title: str = Field("", max_length=200)
    public_summary: str = Field("", max_length=2000)
    show_banner: bool = False


@router.put("/problems/{problem_id}/banner", response=ProblemDetailOut, summary="Set the banner")
def problem_banner(request: ApiRequest, problem_id: str, payload: BannerIn):
    """Managers: what customers read of the problem, and whether the help centre and the
    contact form announce it (while it is under investigation or a known error)."""
    require_role(request, *problems.MANAGER_ROLES)
    problem = selectors.problem_get_for_user(user=request.auth, problem_id=problem_id)
    problem = problem_notices.problem_banner_set(
        problem=problem,
        actor=request.auth,
        public_title=payload.public_title,
        public_summary=payload.public_summary,
        show_banner=payload.show_banner,
    )
    return _detail(problem)


class AudienceIn(Schema):
    audience: Literal["purchase", "segment"] = Field(
        "purchase",
        description="purchase: the buyers of the problem's product; segment: the criteria "
        "below, all of which must hold.",
    )
    product: str = Field("", max_length=200, description="Bought this product.")
    bought_since: str | None = Field(None, description="Bought on or after (YYYY-MM-DD).")
    organization_id: int | None = None
    service_level: str = Field("", max_length=32, description="The organization's level.")
    vip_only: bool = False
    language: str = Field("", max_length=16)


def _segment(payload: AudienceIn) -> problem_notices.Segment | None:
    if payload.audience == "purchase":
        if (
            payload.product
            or payload.bought_since
            or payload.organization_id is not None
            or payload.service_level
            or payload.vip_only
            or payload.language
        ):
            raise problems.ProblemError(
                "criteria are for a segment: send audience 'segment' with them", field="audience"
            )
        return None
    return problem_notices.segment_clean(
        product=payload.product,
        bought_since=payload.bought_since,
        organization_id=payload.organization_id,
        service_level=payload.service_level,
        vip_only=payload.vip_only,
        language=payload.language,
    )


class AudienceRowOut(Schema):
    customer_id: int
    name: str
    email: str


class PreviewOut(Schema):
    reason: str = Field(..., description="purchase or segment")
    segment: dict[str, Any]
    group: int = Field(..., description="Customers in the segment.")
    wrote_before: int = Field(..., description="Of them, those with a case linked already.")
    already_told: int = Field(..., description="Of the others, those noticed or following.")
    reachable: int = Field(..., description="Those a sending would tell now.")
    without_email: int = Field(..., description="Those skipped: no email address.")
    contact_rate: float
    rows: list[AudienceRowOut]


def _preview(preview: problem_notices.AudiencePreview) -> PreviewOut:
    return PreviewOut(
        **preview.as_dict(),
        rows=[
            AudienceRowOut(customer_id=r.customer_id, name=r.name, email=r.email)
            for r in preview.rows
        ],
    )


@router.post(
    "/problems/{problem_id}/notices/preview", response=PreviewOut, summary="Preview a notice"
)
def problem_notices_preview(request: ApiRequest, problem_id: str, payload: AudienceIn):
    """Managers: how many likely-affected customers who have not written a sending would
    tell, how many have no email address, and the first of them."""
    require_role(request, *problems.MANAGER_ROLES)
    problem = selectors.problem_get_for_user(user=request.auth, problem_id=problem_id)
    return _preview(
        problem_notices.problem_audience_preview(
            problem=problem, actor=request.auth, segment=_segment(payload)
        )
    )


class SendIn(AudienceIn):
    text: str = Field(
        "",
        max_length=20_000,
        description="The notice, with {customer_name}, {title}, {summary} and {product}; the "
        "default when empty.",
    )


class SendOut(Schema):
    queued: int
    preview: PreviewOut


@router.post(
    "/problems/{problem_id}/notices", response={201: SendOut}, summary="Tell affected customers"
)
def problem_notices_send(request: ApiRequest, problem_id: str, payload: SendIn):
    """Managers: one notice per customer who would be told (see the preview), mailed by the
    outbox. Sending again tells only those not told yet. 422 with the coach's findings
    when they hold the notice; 409 when the problem is not open or has no public text."""
    require_role(request, *problems.MANAGER_ROLES)
    problem = selectors.problem_get_for_user(user=request.auth, problem_id=problem_id)
    sending = problem_notices.problem_notices_send(
        problem=problem, actor=request.auth, segment=_segment(payload), text=payload.text
    )
    return Reply(201, SendOut(queued=sending.queued, preview=_preview(sending.preview)))


class NoticeOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    reason: str
    address: str
    text: str
    state: str = Field(..., description="queued, sent or failed")
    error: str
    sent_by_id: int | None
    created_at: datetime
    sent_at: datetime | None
    wrote_after_id: int | None = Field(None, description="The case they opened anyway.")


@router.get("/problems/{problem_id}/notices", response=list[NoticeOut], summary="Notices")
def problem_notice_list(request: ApiRequest, problem_id: str):
    """Managers: the problem's notices, newest first (at most 200)."""
    require_role(request, *problems.MANAGER_ROLES)
    problem = selectors.problem_get_for_user(user=request.auth, problem_id=problem_id)
    return [
        NoticeOut(
            id=n.pk,
            customer_id=n.customer_id,
            customer_name=n.customer.name,
            reason=n.reason,
            address=n.address,
            text=n.text,
            state=n.state,
            error=n.error,
            sent_by_id=n.sent_by_id,
            created_at=n.created_at,
            sent_at=n.sent_at,
            wrote_after_id=n.wrote_after_id,
        )
        for n in problem_notices.problem_notices(problem=problem)
    ]


class FollowerOut(Schema):
    id: int
    customer_id: int | None
    email: str
    via: str = Field(..., description="help_centre, web_form or portal")
    created_at: datetime
    fix_sent_at: datetime | None


@router.get("/problems/{problem_id}/followers", response=list[FollowerOut], summary="Followers")
def problem_follower_list(request: ApiRequest, problem_id: str):
    """Managers: the customers following the known issue, newest first (at most 200)."""
    require_role(request, *problems.MANAGER_ROLES)
    problem = selectors.problem_get_for_user(user=request.auth, problem_id=problem_id)
    return [
        FollowerOut(
            id=f.pk,
            customer_id=f.customer_id,
            email=f.email,
            via=f.via,
            created_at=f.created_at,
            fix_sent_at=f.fix_sent_at,
        )
        for f in problem_notices.problem_followers(problem=problem)
    ]
