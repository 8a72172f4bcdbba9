"""API shapes of the loop."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from caseloop.accounts.schemas import UserRef
from caseloop.cases.models import (
    Alternative,
    AuthorityCheck,
    CaseLink,
    Escalation,
    Fact,
    FollowUp,
    Lesson,
    NeedsDecision,
    Plan,
    ProblemStatement,
)

from . import selectors
from .models import SCALES


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


class ProblemOut(Schema):
    customer_words: str
    paraphrase: str
    paraphrased_by: UserRef | None
    paraphrased_at: datetime | None
    confirmation: Literal["not_sent", "sent", "confirmed", "corrected"]
    correction: str
    sent_at: datetime | None
    answer_channel: str
    answered_at: datetime | None

    @staticmethod
    def of(s: ProblemStatement) -> dict:
        return {
            "customer_words": s.customer_words,
            "paraphrase": s.paraphrase,
            "paraphrased_by": UserRef.of(s.paraphrased_by),
            "paraphrased_at": s.paraphrased_at,
            "confirmation": s.confirmation,
            "correction": s.correction,
            "sent_at": s.sent_at,
            "answer_channel": s.answer_channel,
            "answered_at": s.answered_at,
        }


class ParaphraseIn(Schema):
    paraphrase: str = Field(..., min_length=1, max_length=5000)


class ProblemAnswerIn(Schema):
    confirmed: bool
    correction: str = Field("", max_length=5000)
    channel: Literal["phone", "email", "chat", "portal"] = "phone"


OutcomeName = Literal[
    "in_policy",
    "out_of_policy",
    "not_our_responsibility",
    "not_applicable",
    "undetermined",
    "no_action_wanted",
]


class PolicyCheckOut(Schema):
    policy_id: int | None
    policy: str
    outcome: OutcomeName
    explanation: str
    details: dict


class NeedsOut(Schema):
    id: int
    source: Literal["policy_check", "agent"]
    outcome: OutcomeName
    summary: str
    decided_by: UserRef | None
    created_at: datetime
    checks: list[PolicyCheckOut]

    @staticmethod
    def of(d: NeedsDecision) -> dict:
        return {
            "id": d.pk,
            "source": d.source,
            "outcome": d.outcome,
            "summary": d.summary,
            "decided_by": UserRef.of(d.decided_by),
            "created_at": d.created_at,
            "checks": [
                {
                    "policy_id": c.policy_id,
                    "policy": c.policy_name,
                    "outcome": c.outcome,
                    "explanation": c.explanation,
                    "details": c.details,
                }
                for c in d.checks.all()
            ],
        }


class PolicyResultsOut(Schema):
    latest: NeedsOut | None
    history: list[NeedsOut]


class NoActionIn(Schema):
    note: str = Field("", max_length=2000)


class AuthorityIn(Schema):
    remedy: str = Field(..., description="Remedy slug, e.g. refund.")
    amount: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    currency: str | None = Field(
        None, min_length=3, max_length=3, description="Default: the desk's (CASELOOP_CURRENCY)."
    )


class DecisionOut(Schema):
    solve_now: bool
    reason: str
    needed: dict | None = Field(
        None, description="What escalation needs: role, min_tier, limit_amount, currency, skill."
    )
    eligible: list[str] = Field(description="Usernames who could grant it.")
    nobody: bool = Field(
        False,
        description="No one on this desk may grant it as the matrix stands: an admin has to "
        "raise a limit or add the remedy; the reason says which.",
    )
    check_id: int


class RemedyOut(Schema):
    slug: str
    name: str
    is_monetary: bool


class FactIn(Schema):
    key: str = Field(
        ...,
        min_length=1,
        max_length=200,
        description="The fact's key (problem_at) or its label as the checklist shows it "
        "(Date and time of the problem); another name becomes a key of its own "
        "(Serial number → serial_number).",
    )
    value: str = Field(..., min_length=1, max_length=5000)
    source: Literal["agent", "customer", "record", "profile", "system"] = "agent"


class FactOut(Schema):
    id: int
    key: str
    value: str
    source: str
    recorded_by: UserRef | None
    recorded_at: datetime

    @staticmethod
    def of(f: Fact) -> dict:
        return {
            "id": f.pk,
            "key": f.key,
            "value": f.value,
            "source": f.source,
            "recorded_by": UserRef.of(f.recorded_by),
            "recorded_at": f.recorded_at,
        }


class ChecklistOut(Schema):
    key: str
    label: str
    required_for_handoff: bool
    value: str
    source: str
    satisfied: bool


class MissingOut(Schema):
    key: str
    label: str


class FactsOut(Schema):
    checklist: list[ChecklistOut]
    missing_for_handoff: list[MissingOut]
    history: list[FactOut]


class LinkIn(Schema):
    kind: Literal["purchase", "case", "article", "attachment", "url"]
    purchase_id: int | None = None
    case: str | None = Field(None, description="Id or reference of the earlier case.")
    attachment_id: int | None = None
    article_ref: str = Field("", max_length=100)
    url: str = Field("", max_length=1000)
    note: str = Field("", max_length=500)


class LinkOut(Schema):
    id: int
    kind: str
    ref: str
    note: str
    created_at: datetime

    @staticmethod
    def of(link: CaseLink) -> dict:
        return {
            "id": link.pk,
            "kind": link.kind,
            "ref": selectors.link_ref(link),
            "note": link.note,
            "created_at": link.created_at,
        }


Score = int | None


class AlternativeIn(Schema):
    title: str = Field(..., min_length=1, max_length=300)
    description: str = Field("", max_length=10000)


class AlternativePatchIn(Schema):
    feasibility: Score = Field(None, ge=1, le=5, description=SCALES["feasibility"][1])
    cost: Score = Field(None, ge=1, le=5, description=SCALES["cost"][1])
    impact: Score = Field(None, ge=1, le=5, description=SCALES["impact"][1])
    timeliness: Score = Field(None, ge=1, le=5, description=SCALES["timeliness"][1])
    cost_amount: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    currency: str | None = Field(None, max_length=3)
    state: Literal["considered", "tried", "rejected"] | None = None
    customer_preference: Literal["unknown", "preferred", "acceptable", "rejected"] | None = Field(
        None,
        description="What the customer said; one they rejected ranks last and cannot be chosen.",
    )
    preference_note: str = Field("", max_length=2000)


class ChooseIn(Schema):
    reason: str = Field(..., min_length=1, max_length=2000)


class AlternativeOut(Schema):
    id: int
    rank: int
    title: str
    description: str
    source: str
    source_ref: str
    state: str
    feasibility: int | None
    cost: int | None
    impact: int | None
    timeliness: int | None
    score: float | None = Field(description="Weighted mean 1–5; see SCORE_WEIGHTS.")
    cost_amount: str | None
    currency: str
    customer_preference: str
    preference_note: str
    chosen_reason: str
    chosen_by: UserRef | None
    chosen_at: datetime | None

    @staticmethod
    def of(a: Alternative, rank: int = 0) -> dict:
        return {
            "id": a.pk,
            "rank": getattr(a, "rank", rank),
            "title": a.title,
            "description": a.description,
            "source": a.source,
            "source_ref": a.source_ref,
            "state": a.state,
            "feasibility": a.feasibility,
            "cost": a.cost,
            "impact": a.impact,
            "timeliness": a.timeliness,
            "score": selectors.alternative_score(a),
            "cost_amount": _money(a.cost_amount),
            "currency": a.currency,
            "customer_preference": a.customer_preference,
            "preference_note": a.preference_note,
            "chosen_reason": a.chosen_reason,
            "chosen_by": UserRef.of(a.chosen_by),
            "chosen_at": a.chosen_at,
        }


class PlanIn(Schema):
    summary: str = Field(..., min_length=1, max_length=10000)
    steps: list[str] = []
    expected_timeline: str = Field("", max_length=300)
    expected_by: datetime | None = None
    alternative_id: int | None = Field(None, description="Defaults to the chosen alternative.")


class StepIn(Schema):
    text: str = Field(..., min_length=1, max_length=500)


class StepPatchIn(Schema):
    status: Literal["todo", "doing", "done", "blocked"]
    note: str = Field("", max_length=2000)


class ConsentIn(Schema):
    decision: Literal["approved", "declined", "counter"]
    note: str = Field("", max_length=5000)
    channel: Literal["phone", "email", "chat", "portal"] = Field(
        "phone", description="Agents record what the customer said (a verbal yes: phone)."
    )


class UpdateIn(Schema):
    text: str = Field("", max_length=5000)


class StepOut(Schema):
    id: int
    position: int
    text: str
    status: str
    note: str


class ConsentOut(Schema):
    id: int
    decision: str
    channel: str
    note: str
    recorded_by: UserRef | None
    recorded_at: datetime


class PlanOut(Schema):
    id: int
    summary: str
    alternative_id: int | None
    expected_timeline: str
    expected_by: datetime | None
    state: str
    shared_at: datetime | None
    steps: list[StepOut]
    consents: list[ConsentOut]
    created_at: datetime

    @staticmethod
    def of(p: Plan) -> dict:
        return {
            "id": p.pk,
            "summary": p.summary,
            "alternative_id": p.alternative_id,
            "expected_timeline": p.expected_timeline,
            "expected_by": p.expected_by,
            "state": p.state,
            "shared_at": p.shared_at,
            "steps": [
                {
                    "id": s.pk,
                    "position": s.position,
                    "text": s.text,
                    "status": s.status,
                    "note": s.note,
                }
                for s in p.steps.all()
            ],
            "consents": [
                {
                    "id": c.pk,
                    "decision": c.decision,
                    "channel": c.channel,
                    "note": c.note,
                    "recorded_by": UserRef.of(c.recorded_by),
                    "recorded_at": c.recorded_at,
                }
                for c in p.consents.all()
            ],
            "created_at": p.created_at,
        }


class MessageRef(Schema):
    message_id: int
    text: str


class EscalateIn(Schema):
    reason: str = Field(..., min_length=1, max_length=2000)
    to_team: str | None = Field(None, description="Team slug.")
    to_user: str | None = Field(None, description="Username.")
    remedy: str | None = Field(None, description="Remedy slug the solver may need to grant.")
    amount: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)


class EscalationTextIn(Schema):
    text: str = Field(..., min_length=1, max_length=5000)


class EscalationOut(Schema):
    id: int
    state: Literal["open", "accepted", "returned", "solved"]
    to_team: str | None
    to_user: UserRef | None
    owner: UserRef
    solver: UserRef | None
    reason: str
    remedy: str | None
    amount: str | None
    question: str
    solution: str
    package: dict
    created_at: datetime
    accepted_at: datetime | None
    returned_at: datetime | None
    solved_at: datetime | None
    customer_confirmed_at: datetime | None
    reminders_stopped_at: datetime | None

    @staticmethod
    def of(e: Escalation) -> dict:
        return {
            "id": e.pk,
            "state": e.state,
            "to_team": e.to_team.slug if e.to_team else None,
            "to_user": UserRef.of(e.to_user),
            "owner": UserRef.of(e.owner),
            "solver": UserRef.of(e.solver),
            "reason": e.reason,
            "remedy": e.remedy.slug if e.remedy else None,
            "amount": _money(e.amount),
            "question": e.question,
            "solution": e.solution,
            "package": e.package,
            "created_at": e.created_at,
            "accepted_at": e.accepted_at,
            "returned_at": e.returned_at,
            "solved_at": e.solved_at,
            "customer_confirmed_at": e.customer_confirmed_at,
            "reminders_stopped_at": e.reminders_stopped_at,
        }


class HandoffOut(Schema):
    missing: list[MissingOut]
    package: dict


class FollowUpOut(Schema):
    id: int
    state: str
    due_at: datetime
    asked_at: datetime | None
    answer_by: datetime | None
    answered_at: datetime | None
    channel: str
    reason: str

    @staticmethod
    def of(f: FollowUp) -> dict:
        return {
            "id": f.pk,
            "state": f.state,
            "due_at": f.due_at,
            "asked_at": f.asked_at,
            "answer_by": f.answer_by,
            "answered_at": f.answered_at,
            "channel": f.channel,
            "reason": f.reason,
        }


class FollowUpAnswerIn(Schema):
    solved: bool
    channel: Literal["portal", "phone", "email", "chat"] = "portal"


class LessonIn(Schema):
    summary: str = Field(..., min_length=1, max_length=10000)
    needs_prepared_answer: bool = False
    needs_article: bool = False


class LessonPatchIn(Schema):
    state: Literal["open", "reviewed", "converted"]


class LessonOut(Schema):
    id: int
    case_id: int
    case_reference: str
    author: UserRef
    summary: str
    needs_prepared_answer: bool
    needs_article: bool
    state: str
    created_at: datetime

    @staticmethod
    def of(lesson: Lesson) -> dict:
        return {
            "id": lesson.pk,
            "case_id": lesson.case_id,
            "case_reference": lesson.case.reference or "",
            "author": UserRef.of(lesson.author),
            "summary": lesson.summary,
            "needs_prepared_answer": lesson.needs_prepared_answer,
            "needs_article": lesson.needs_article,
            "state": lesson.state,
            "created_at": lesson.created_at,
        }


class StageOut(Schema):
    key: str
    title: str
    done: bool
    applies: bool
    status: str
    next: str


class StagesOut(Schema):
    stages: list[StageOut]
    next: str = Field(description="The one next step for the case.")


def authority_out(check: AuthorityCheck, decision) -> dict:
    return {
        "solve_now": decision.solve_now,
        "reason": decision.reason,
        "needed": decision.needed,
        "eligible": decision.eligible,
        "nobody": decision.nobody,
        "check_id": check.pk,
    }
