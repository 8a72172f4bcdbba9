"""Triage endpoints: a preview for any text, the live model's accuracy, model versions,
similar cases and re-triage of a case."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Query, Router, Schema, Status as Reply
from pydantic import field_validator

from caseloop.accounts.auth import ApiRequest, require_role, require_staff
from caseloop.cases.selectors import case_get_for_user

from . import selectors
from .learning import model_train as train
from .models import ModelVersion
from .services import case_triage_run

router = Router(tags=["triage"])


class TriageIn(Schema):
    text: str = Field(..., min_length=1, max_length=50_000)
    is_vip: bool = False
    service_level: str = Field("", max_length=32)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be blank")
        return value


class FactorOut(Schema):
    signal: str
    label: str
    weight: float
    detail: str


class PriorityOut(Schema):
    priority: str
    score: float
    factors: list[FactorOut]
    source: str


class CategoryGuessOut(Schema):
    slug: str | None
    id: int | None
    confidence: float
    needs_review: bool
    source: str
    candidates: list[dict]


class SentimentOut(Schema):
    compound: float
    score: float
    label: str
    frustrated: bool
    wants_to_be_heard: bool
    complaint_probability: float
    cues: list[str]


class TriageOut(Schema):
    category: CategoryGuessOut
    priority: PriorityOut
    sentiment: SentimentOut
    flags: list[str]


@router.post("/triage", response=TriageOut, summary="Triage a text without creating a case")
def triage_preview(request: ApiRequest, payload: TriageIn):
    """Category with confidence, priority with every factor, sentiment and mood flags."""
    require_staff(request)
    return selectors.triage_preview(
        text=payload.text, is_vip=payload.is_vip, service_level=payload.service_level
    )


class AccuracySummary(Schema):
    n: int
    correct: int
    accuracy: float | None


class CategoryAccuracy(AccuracySummary):
    by_source: dict[str, AccuracySummary]
    live_model_version: int | None
    live_model: AccuracySummary


class AccuracyOut(Schema):
    window: int
    category: CategoryAccuracy
    priority: AccuracySummary


@router.get("/triage/accuracy", response=AccuracyOut, summary="Live accuracy against agents")
def triage_accuracy(request: ApiRequest, window: int | None = Query(None, ge=1, le=10_000)):
    """Rolling accuracy of triage's category guesses over the latest agent decisions
    (categories agents set, and categories confirmed by solving the case), and of priority."""
    require_staff(request)
    return selectors.triage_accuracy(window=window)


class ModelVersionOut(Schema):
    kind: str
    version: int
    trained_at: datetime
    n_samples: int
    labels: list[str]
    metrics: dict


@router.get("/triage/models", response=list[ModelVersionOut], summary="Trained model versions")
def model_list(request: ApiRequest):
    require_staff(request)
    return list(ModelVersion.objects.order_by("kind", "-version")[:100])


class TrainIn(Schema):
    kind: str = Field("category", pattern="^(category|priority)$")
    force: bool = False


class TrainOut(Schema):
    trained: bool
    model: ModelVersionOut | None
    detail: str


@router.post("/triage/models", response={201: TrainOut, 200: TrainOut}, summary="Retrain now")
def model_train(request: ApiRequest, payload: TrainIn):
    """Train a new model version from the desk's history now (managers and admins)."""
    require_role(request, "manager", "admin")
    version = train(kind=payload.kind, force=payload.force)
    if version is None:
        return Reply(
            200,
            {"trained": False, "model": None, "detail": "not enough labelled history yet"},
        )
    return Reply(201, {"trained": True, "model": version, "detail": f"v{version.version}"})


class SimilarCaseOut(Schema):
    id: int
    reference: str
    subject: str
    status: str
    category: str | None
    score: float
    resolution: str


@router.get(
    "/cases/{case_id}/similar", response=list[SimilarCaseOut], summary="Similar earlier cases"
)
def case_similar(
    request: ApiRequest,
    case_id: str,
    k: int = Query(5, ge=1, le=50),
    solved_only: bool = False,
):
    """The k most similar cases, best first, each with its resolution (the last reply)."""
    require_staff(request)
    case = case_get_for_user(user=request.auth, case_id=case_id)
    return [
        {
            "id": s.case.pk,
            "reference": s.case.reference,
            "subject": s.case.subject,
            "status": s.case.status,
            "category": s.case.category.slug if s.case.category else None,
            "score": s.score,
            "resolution": s.resolution,
        }
        for s in selectors.cases_similar(case=case, k=k, solved_only=solved_only)
    ]


@router.post("/cases/{case_id}/triage", response=dict, summary="Triage a case again")
def case_retriage(request: ApiRequest, case_id: str):
    """Run triage again (after new rules or a new model). Fields agents set stay."""
    require_staff(request)
    case = case_get_for_user(user=request.auth, case_id=case_id)
    case_triage_run(case_id=case.pk, route=False)
    case = case_get_for_user(user=request.auth, case_id=case.pk)
    return selectors.case_triage(case=case)
