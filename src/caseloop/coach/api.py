"""API endpoints of the coach app, mounted under /api/v1/."""

from __future__ import annotations

from ninja import Field, Router, Schema

from caseloop.accounts.auth import ApiRequest, require_staff
from caseloop.cases.selectors import case_get_for_user

from .selectors import coach_check

router = Router(tags=["coach"])


class CoachIn(Schema):
    text: str
    case: int | None = None


class FindingOut(Schema):
    rule_id: str
    start: int
    end: int
    message: str
    suggestion: str
    severity: str
    excerpt: str
    blocks: bool = Field(
        ..., description="Whether it holds the reply until it is revised or sent anyway."
    )


class CoachOut(Schema):
    findings: list[FindingOut]


@router.post("/coach", response=CoachOut)
def coach(request: ApiRequest, payload: CoachIn):
    """Check a draft reply against the desk's guidelines: findings with spans, rule ids and
    suggested rewrites. A finding that `blocks` holds the reply (a reply sent with one is
    refused with `coach_objection` unless sent anyway); the others are advice. With `case`,
    the complaint rules apply when the case is a complaint."""
    require_staff(request)
    case = case_get_for_user(user=request.auth, case_id=payload.case) if payload.case else None
    findings = coach_check(text=payload.text[:20000], case=case)
    return {"findings": [finding.as_dict() for finding in findings]}
