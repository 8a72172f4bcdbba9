"""Performance reviews: quality-assurance (QA) reviews of an agent's cases against the
desk's scorecard, the sample of cases to review, and an agent's QA summary over a period.

A review's score is the weighted mean of the criteria that applied, as 0–100: each value is
placed on 0–100 within its scale (0–2: 0, 50, 100; yes/no: 0, 100; 1–5: 0, 25 … 100), and a
criterion marked n.a. drops out of both the sum and the weights.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from caseloop.accounts.models import STAFF_ROLES, Role, User
from caseloop.cases.models import FINISHED_STATUSES, Case, CaseEvent, Escalation, Status
from caseloop.cases.services import event_record
from caseloop.coach.models import CoachOverride
from caseloop.lib.errors import DomainError, ErrorKind

from .events import QA_REVIEWED
from .models import Criterion, QaReview, QaScore, SatisfactionRating, Scorecard

REVIEWER_ROLES = (Role.MANAGER, Role.ADMIN)
# A rating of 2 or less out of 5 is a low CSAT.
LOW_CSAT = 2
# How many solved cases of the period the sample is drawn from (the most recently solved).
SAMPLE_POOL = 500
# What makes a case worth a reviewer's look, and how much more likely each makes its pick.
RISK_WEIGHTS = {"low CSAT": 3, "reopened": 2, "coach overridden": 2, "escalated": 1}


class QaReviewError(DomainError):
    code = "qa_review_invalid"
    kind = ErrorKind.INVALID


class QaReviewForbidden(QaReviewError):
    code = "qa_review_forbidden"
    kind = ErrorKind.FORBIDDEN


class QaScoreInvalid(QaReviewError):
    """A score the criterion's scale does not have, a missing or unknown criterion."""

    code = "qa_score_invalid"
    kind = ErrorKind.INVALID

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class AlreadyReviewed(QaReviewError):
    code = "qa_already_reviewed"
    kind = ErrorKind.CONFLICT


def period_bounds(*, start: date, end: date) -> tuple[datetime, datetime]:
    """[the start of `start`, the start of the day after `end`) in the desk's time zone."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


# -- the scorecard -----------------------------------------------------------------------


def scorecard_current() -> Scorecard | None:
    """The card new reviews use (the default, else the first active one) with its active
    criteria in order, or None when an admin has retired them all."""
    return (
        Scorecard.objects.filter(is_active=True)
        .order_by("-is_default", "id")
        .prefetch_related(
            Prefetch(
                "criteria",
                queryset=Criterion.objects.filter(is_active=True).order_by("order", "id"),
            )
        )
        .first()
    )


def qa_score_compute(*, criteria: list[Criterion], scores: dict[int, int | None]) -> float:
    """The weighted 0–100 score of values already checked against `criteria`; n.a. (None)
    left out. Raises QaScoreInvalid when nothing applied."""
    weighted = 0.0
    weights = 0
    for criterion in criteria:
        value = scores.get(criterion.pk)
        if value is None:
            continue
        weighted += criterion.weight * criterion.percent(value)
        weights += criterion.weight
    if not weights:
        raise QaScoreInvalid("score at least one criterion; they cannot all be n.a.")
    return round(weighted / weights, 2)


def qa_scores_check(*, criteria: list[Criterion], scores: dict[int, int | None]) -> None:
    """Every criterion answered exactly once, with a value of its scale (or n.a. where it
    allows it); raises QaScoreInvalid naming the first fault."""
    known = {criterion.pk for criterion in criteria}
    unknown = [key for key in scores if key not in known]
    if unknown:
        raise QaScoreInvalid(f"no criterion {unknown[0]} on this scorecard", field=str(unknown[0]))
    for criterion in criteria:
        field_name = str(criterion.pk)
        if criterion.pk not in scores:
            raise QaScoreInvalid(
                f"'{criterion.label}' needs a score (or n.a. where it does not apply)",
                field=field_name,
            )
        value = scores[criterion.pk]
        if value is None:
            if not criterion.allows_na:
                raise QaScoreInvalid(f"'{criterion.label}' cannot be n.a.", field=field_name)
            continue
        allowed = [number for number, _ in criterion.values]
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            words = ", ".join(str(number) for number in allowed)
            raise QaScoreInvalid(
                f"'{criterion.label}' is scored {words}"
                f"{' or n.a.' if criterion.allows_na else ''}; not {value!r}",
                field=field_name,
            )


def _case_involves(*, case: Case, agent: User) -> bool:
    if agent.pk in (case.owner_id, case.assignee_id):
        return True
    return CaseEvent.objects.filter(case=case, actor=agent).exists()


# -- recording a review ------------------------------------------------------------------


@transaction.atomic
def qa_review_record(
    *,
    case: Case,
    agent: User,
    reviewer: User,
    scores: dict[int, int | None],
    comment: str = "",
    scorecard: Scorecard | None = None,
) -> QaReview:
    """A manager's or admin's QA review of `agent`'s work on `case`, on the current
    scorecard (or `scorecard`): every criterion scored on its scale, n.a. where allowed.
    Once per case and agent. Side effects: a `qa_reviewed` case event."""
    if reviewer.role not in REVIEWER_ROLES:
        raise QaReviewForbidden("only managers and admins review agents' work")
    if agent.role not in STAFF_ROLES:
        raise QaReviewError("only agents' work is reviewed")
    if agent.pk == reviewer.pk:
        raise QaReviewForbidden("a reviewer does not review their own work")
    card = scorecard or scorecard_current()
    if card is None:
        raise QaReviewError("there is no active scorecard; an admin can add one")
    criteria = list(card.criteria.filter(is_active=True).order_by("order", "id"))
    qa_scores_check(criteria=criteria, scores=scores)
    score = qa_score_compute(criteria=criteria, scores=scores)
    # Locking the case serialises two reviewers saving the same review at once.
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not _case_involves(case=case, agent=agent):
        raise QaReviewError(f"{agent.display_name} has not worked on {case.reference}")
    if QaReview.objects.filter(case=case, agent=agent).exists():
        raise AlreadyReviewed(f"{case.reference} is already reviewed for {agent.display_name}")
    try:
        with transaction.atomic():
            review = QaReview.objects.create(
                case=case,
                agent=agent,
                reviewer=reviewer,
                scorecard=card,
                score=score,
                comment=comment.strip()[:5000],
            )
    except IntegrityError as exc:
        raise AlreadyReviewed(
            f"{case.reference} is already reviewed for {agent.display_name}"
        ) from exc
    QaScore.objects.bulk_create(
        QaScore(
            review=review,
            criterion=criterion,
            value=value,
            percent=None if value is None else criterion.percent(value),
            weight=criterion.weight,
        )
        for criterion, value in ((c, scores[c.pk]) for c in criteria)
    )
    event_record(
        case=case,
        actor=reviewer,
        kind=QA_REVIEWED,
        data={"review": review.pk, "agent": agent.pk, "scorecard": card.pk, "score": score},
    )
    return review


# -- reading reviews ---------------------------------------------------------------------


def qa_reviews_of(*, agent: User, start: date, end: date) -> QuerySet[QaReview]:
    """The agent's reviews made in the period, newest first, joined for a list."""
    low, high = period_bounds(start=start, end=end)
    return (
        QaReview.objects.filter(agent=agent, created_at__gte=low, created_at__lt=high)
        .select_related("case", "reviewer", "scorecard")
        .prefetch_related(Prefetch("scores", queryset=QaScore.objects.select_related("criterion")))
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class CriterionAverage:
    criterion_id: int
    label: str
    average: float | None  # 0–100 over the reviews where it applied
    n: int
    not_applicable: int


@dataclass(frozen=True)
class WeekScore:
    week: date  # the Monday
    average: float | None
    n: int


@dataclass(frozen=True)
class QaSummary:
    average: float | None
    n: int
    criteria: list[CriterionAverage] = field(default_factory=list)
    weeks: list[WeekScore] = field(default_factory=list)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def agent_qa_summary(*, agent: User, start: date, end: date) -> QaSummary:
    """The agent's QA over the period: the average score and how many reviews, the average
    per criterion (n.a. left out) and the average per week, every week of the period
    listed (three queries)."""
    low, high = period_bounds(start=start, end=end)
    reviews = QaReview.objects.filter(agent=agent, created_at__gte=low, created_at__lt=high)
    overall = reviews.aggregate(average=Avg("score"), n=Count("id"))
    per_criterion = (
        QaScore.objects.filter(review__in=reviews)
        .values("criterion_id", "criterion__label", "criterion__order", "criterion__scorecard_id")
        .annotate(
            average=Avg("percent", filter=Q(percent__isnull=False)),
            n=Count("id", filter=Q(percent__isnull=False)),
            not_applicable=Count("id", filter=Q(percent__isnull=True)),
        )
        .order_by("criterion__scorecard_id", "criterion__order", "criterion_id")
    )
    by_week = {
        timezone.localtime(row["week"]).date()
        if isinstance(row["week"], datetime)
        else row["week"]: row
        for row in reviews.annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(average=Avg("score"), n=Count("id"))
        .order_by("week")
    }
    weeks = []
    monday = _monday(start)
    while monday <= end:
        row = by_week.get(monday)
        weeks.append(
            WeekScore(
                week=monday,
                average=_round(row["average"]) if row else None,
                n=row["n"] if row else 0,
            )
        )
        monday += timedelta(days=7)
    return QaSummary(
        average=_round(overall["average"]),
        n=overall["n"],
        criteria=[
            CriterionAverage(
                criterion_id=row["criterion_id"],
                label=row["criterion__label"],
                average=_round(row["average"]),
                n=row["n"],
                not_applicable=row["not_applicable"],
            )
            for row in per_criterion
        ],
        weeks=weeks,
    )


def qa_reviews_table(*, agent: User, start: date, end: date) -> tuple[list[str], list[list[Any]]]:
    """The agent's reviews in the period as a header and one row per review (oldest
    first), a column per criterion that any of them scored; n.a. is "n.a."."""
    reviews = list(qa_reviews_of(agent=agent, start=start, end=end).order_by("created_at", "id"))
    columns: dict[int, tuple[int, int, str]] = {}
    for review in reviews:
        for score in review.scores.all():
            criterion = score.criterion
            columns[criterion.pk] = (criterion.scorecard_id, criterion.order, criterion.label)
    criterion_ids = sorted(columns, key=lambda pk: (columns[pk][0], columns[pk][1], pk))
    header = [
        "reviewed_at",
        "case",
        "subject",
        "agent",
        "reviewer",
        "scorecard",
        "score",
        *(columns[pk][2] for pk in criterion_ids),
        "comment",
    ]
    rows = []
    for review in reviews:
        values = {score.criterion_id: score.value for score in review.scores.all()}
        rows.append(
            [
                timezone.localtime(review.created_at).isoformat(timespec="seconds"),
                review.case.reference or review.case_id,
                review.case.subject,
                agent.username,
                review.reviewer.username,
                review.scorecard.name,
                review.score,
                *(
                    ("n.a." if values[pk] is None else values[pk]) if pk in values else ""
                    for pk in criterion_ids
                ),
                review.comment,
            ]
        )
    return header, rows


# -- the sample --------------------------------------------------------------------------


@dataclass(frozen=True)
class SampledCase:
    case: Case
    reasons: list[str]  # the risks it carries ("low CSAT", "reopened", …)
    at_random: bool  # drawn from the whole pool rather than for its risks


def _solved_by(agent: User) -> Q:
    """Cases `agent` owns, solved as an escalation's solver, or marked solved."""
    return (
        Q(owner=agent)
        | Exists(Escalation.objects.filter(case=OuterRef("pk"), solver=agent))
        | Exists(
            CaseEvent.objects.filter(
                case=OuterRef("pk"),
                kind=CaseEvent.Kind.STATUS_CHANGED,
                actor=agent,
                data__after=Status.SOLVED,
            )
        )
    )


def qa_sample_pool(*, agent: User, start: date, end: date) -> list[Case]:
    """Solved cases the agent owned or solved in the period and nobody has reviewed for
    them yet, annotated with their risks, in id order (at most SAMPLE_POOL)."""
    low, high = period_bounds(start=start, end=end)
    risky = {
        "low_csat": Exists(
            SatisfactionRating.objects.filter(case=OuterRef("pk"), score__lte=LOW_CSAT)
        ),
        "reopened": Exists(
            CaseEvent.objects.filter(
                case=OuterRef("pk"), kind=CaseEvent.Kind.STATUS_CHANGED, data__reopened=True
            )
        ),
        "escalated": Exists(Escalation.objects.filter(case=OuterRef("pk"))),
        "overridden": Exists(CoachOverride.objects.filter(case=OuterRef("pk"), user=agent)),
    }
    recent = (
        Case.objects.filter(status__in=FINISHED_STATUSES, solved_at__gte=low, solved_at__lt=high)
        .filter(_solved_by(agent))
        .exclude(Exists(QaReview.objects.filter(case=OuterRef("pk"), agent=agent)))
        .order_by("-solved_at", "-id")
        .values_list("id", flat=True)[:SAMPLE_POOL]
    )
    return list(
        Case.objects.filter(pk__in=list(recent))
        .select_related("customer", "owner", "category")
        .annotate(**risky)
        .order_by("id")
    )


def _risks(case: Case) -> list[str]:
    flags = {
        "low CSAT": getattr(case, "low_csat", False),
        "reopened": getattr(case, "reopened", False),
        "coach overridden": getattr(case, "overridden", False),
        "escalated": getattr(case, "escalated", False),
    }
    return [name for name, flagged in flags.items() if flagged]


def qa_sample(
    *, agent: User, start: date, end: date, size: int = 5, seed: int | str | None = None
) -> list[SampledCase]:
    """Cases to review for the agent: solved in the period, owned or solved by them, not
    reviewed yet. About three in five are drawn for their risks (low CSAT, reopened, coach
    overridden, escalated; the riskier the likelier), the rest at random from the whole
    pool, so the sample is not only the worst cases. The same seed, pool and size give the
    same sample."""
    pool = qa_sample_pool(agent=agent, start=start, end=end)
    size = max(0, min(size, len(pool)))
    rng = random.Random(seed)
    at_random = max(1, size * 2 // 5) if size > 1 else 0
    risky = [(case, _risks(case)) for case in pool]
    risky = [(case, risks) for case, risks in risky if risks]
    # Weighted sampling without replacement: the k largest random() ** (1 / weight).
    keyed = sorted(
        risky,
        key=lambda item: rng.random() ** (1 / sum(RISK_WEIGHTS[r] for r in item[1])),
        reverse=True,
    )
    chosen = [
        SampledCase(case=case, reasons=risks, at_random=False)
        for case, risks in keyed[: size - at_random]
    ]
    taken = {item.case.pk for item in chosen}
    rest = [case for case in pool if case.pk not in taken]
    chosen += [
        SampledCase(case=case, reasons=_risks(case), at_random=True)
        for case in rng.sample(rest, size - len(chosen))
    ]
    return sorted(chosen, key=lambda item: item.case.pk)
