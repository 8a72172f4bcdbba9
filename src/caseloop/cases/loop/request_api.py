"""Requests to other departments under /api/v1/: create and list a case's requests, answer
one, and the open requests to the caller's teams. Thin: parse, call a service or selector,
shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import Http404
from ninja import Field, Router, Schema, Status as Reply

from caseloop.accounts.auth import ApiRequest, require_staff
from caseloop.accounts.models import Team
from caseloop.accounts.schemas import UserRef
from caseloop.cases import selectors as case_selectors
from caseloop.cases.models import Case, DepartmentRequest

from . import requests
from .errors import LoopError

router = Router(tags=["requests"])

CASE = "/cases/{case_id}"


class RequestIn(Schema):
    question: str = Field(..., min_length=1, max_length=10000)
    due_at: datetime = Field(..., description="With its time zone; in the future.")
    kind: Literal["information", "action"] = "information"
    to_team: str | None = Field(None, description="Team slug.")
    to_email: str | None = Field(None, max_length=254, description="An outside address.")
    facts: list[str] = Field(default_factory=list, description="Keys of the facts to carry.")


class RequestAnswerIn(Schema):
    answer: str = Field(..., min_length=1, max_length=10000)


class RequestFactIn(Schema):
    key: str = Field(..., min_length=1, max_length=100, description="Fact key or label.")


class RequestOut(Schema):
    id: int
    case: str
    kind: str
    state: Literal["open", "answered", "cancelled"]
    overdue: bool
    to_team: str | None
    to_email: str
    question: str
    facts: list[dict[str, str]]
    due_at: datetime
    asked_by: UserRef | None
    answer: str
    answered_by: UserRef | None
    answered_at: datetime | None
    answer_fact_key: str
    reminder_count: int
    last_reminded_at: datetime | None
    created_at: datetime

    @staticmethod
    def of(r: DepartmentRequest) -> dict[str, Any]:
        return {
            "id": r.pk,
            "case": r.case.reference,
            "kind": r.kind,
            "state": r.state,
            "overdue": r.overdue,
            "to_team": r.to_team.slug if r.to_team else None,
            "to_email": r.to_email,
            "question": r.question,
            "facts": r.facts,
            "due_at": r.due_at,
            "asked_by": UserRef.of(r.asked_by),
            "answer": r.answer,
            "answered_by": UserRef.of(r.answered_by),
            "answered_at": r.answered_at,
            "answer_fact_key": r.answer_fact_key,
            "reminder_count": r.reminder_count,
            "last_reminded_at": r.last_reminded_at,
            "created_at": r.created_at,
        }


def _case(request: ApiRequest, case_id: str) -> Case:
    require_staff(request)
    return case_selectors.case_get_for_user(user=request.auth, case_id=case_id)


def _request(case: Case, request_id: int) -> DepartmentRequest:
    found = requests.requests_of(case=case).select_related("case").filter(pk=request_id).first()
    if found is None:
        raise Http404("Not found.")
    return found


@router.get(f"{CASE}/requests", response=list[RequestOut], summary="Requests to other departments")
def request_list(request: ApiRequest, case_id: str) -> list[dict[str, Any]]:
    case = _case(request, case_id)
    return [RequestOut.of(r) for r in requests.requests_of(case=case).select_related("case")]


@router.post(
    f"{CASE}/requests",
    response={201: RequestOut},
    summary="Ask another department (the owner stays the owner)",
)
def request_create(request: ApiRequest, case_id: str, payload: RequestIn) -> Reply[dict[str, Any]]:
    """To a team (`to_team`) or an outside address (`to_email`, mailed a signed reply
    link), with the facts named in `facts`, due at `due_at`."""
    case = _case(request, case_id)
    team = None
    if payload.to_team:
        team = Team.objects.filter(slug=payload.to_team).first()
        if team is None:
            raise LoopError(f"no team '{payload.to_team}'")
    created = requests.request_create(
        case=case,
        actor=request.auth,
        question=payload.question,
        due_at=payload.due_at,
        kind=payload.kind,
        to_team=team,
        to_email=payload.to_email or "",
        fact_keys=payload.facts,
    )
    return Reply(201, RequestOut.of(_request(case, created.pk)))


@router.post(
    f"{CASE}/requests/{{request_id}}/answer",
    response=RequestOut,
    summary="Answer a request to your team",
)
def request_answer(
    request: ApiRequest, case_id: str, request_id: int, payload: RequestAnswerIn
) -> dict[str, Any]:
    case = _case(request, case_id)
    requests.request_answer(
        request=_request(case, request_id), answer=payload.answer, actor=request.auth
    )
    return RequestOut.of(_request(case, request_id))


@router.post(
    f"{CASE}/requests/{{request_id}}/fact",
    response=RequestOut,
    summary="Record the answer as a fact",
)
def request_fact(
    request: ApiRequest, case_id: str, request_id: int, payload: RequestFactIn
) -> dict[str, Any]:
    case = _case(request, case_id)
    requests.request_answer_to_fact(
        request=_request(case, request_id), key=payload.key, actor=request.auth
    )
    return RequestOut.of(_request(case, request_id))


@router.post(
    f"{CASE}/requests/{{request_id}}/cancel", response=RequestOut, summary="Cancel a request"
)
def request_cancel(request: ApiRequest, case_id: str, request_id: int) -> dict[str, Any]:
    case = _case(request, case_id)
    requests.request_cancel(request=_request(case, request_id), actor=request.auth)
    return RequestOut.of(_request(case, request_id))


@router.get("/requests", response=list[RequestOut], summary="Open requests to my teams")
def request_inbox(request: ApiRequest) -> list[dict[str, Any]]:
    require_staff(request)
    return [RequestOut.of(r) for r in requests.requests_for_teams_of(user=request.auth)[:200]]
