"""Reads for the workspace's customer and organization pages: what a customer said of the
service (ratings and recommendation answers), the open problems behind their cases, an
organization's satisfaction over a period and the SLA policies that name it. Staff only;
the caller has checked that the viewer is an agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Avg, Count, Q

from caseloop.automation.models import SlaPolicy
from caseloop.customers.models import Organization

from .models import NpsResponse, Problem, ProblemStatus, SatisfactionRating

OPEN_PROBLEM_STATUSES = (
    ProblemStatus.SUGGESTED,
    ProblemStatus.INVESTIGATING,
    ProblemStatus.KNOWN_ERROR,
)


@dataclass(frozen=True)
class Satisfaction:
    """CSAT and NPS over a set of answers: `csat` is the share of 4 and 5 ratings (0–100),
    `nps` promoters minus detractors (−100..100); None when nobody answered."""

    ratings: int
    csat: float | None
    average: float | None
    answers: int
    nps: float | None


def customer_ratings(*, customer_id: int, limit: int = 50) -> list[SatisfactionRating]:
    """The customer's 1–5 ratings, newest first, with the case each was given on."""
    return list(
        SatisfactionRating.objects.filter(customer_id=customer_id)
        .select_related("case")
        .order_by("-created_at", "-id")[:limit]
    )


def customer_nps_answers(*, customer_id: int, limit: int = 50) -> list[NpsResponse]:
    """The customer's 0–10 recommendation answers, newest first."""
    return list(
        NpsResponse.objects.filter(customer_id=customer_id)
        .select_related("case")
        .order_by("-created_at", "-id")[:limit]
    )


def customer_open_problems(*, customer_id: int) -> list[Problem]:
    """Problems not yet fixed that hold one of the customer's cases."""
    return list(
        Problem.objects.filter(
            status__in=OPEN_PROBLEM_STATUSES, links__case__customer_id=customer_id
        )
        .distinct()
        .order_by("-id")
    )


def organization_open_problems(*, organization: Organization) -> list[Problem]:
    """Problems not yet fixed that hold a case of one of the organization's customers."""
    return list(
        Problem.objects.filter(
            status__in=OPEN_PROBLEM_STATUSES,
            links__case__customer__organization=organization,
        )
        .distinct()
        .order_by("-id")
    )


def organization_satisfaction(*, organization: Organization, since: datetime) -> Satisfaction:
    """The organization's customers' ratings and recommendation answers given since `since`,
    in two queries."""
    ratings = SatisfactionRating.objects.filter(
        customer__organization=organization, created_at__gte=since
    ).aggregate(n=Count("id"), happy=Count("id", filter=Q(score__gte=4)), average=Avg("score"))
    answers = NpsResponse.objects.filter(
        customer__organization=organization, created_at__gte=since
    ).aggregate(
        n=Count("id"),
        promoters=Count("id", filter=Q(score__gte=9)),
        detractors=Count("id", filter=Q(score__lte=6)),
    )
    n, m = ratings["n"], answers["n"]
    return Satisfaction(
        ratings=n,
        csat=round(100 * ratings["happy"] / n, 1) if n else None,
        average=round(float(ratings["average"]), 2) if n else None,
        answers=m,
        nps=round(100 * (answers["promoters"] - answers["detractors"]) / m, 1) if m else None,
    )


def organization_sla_policies(*, organization: Organization) -> list[SlaPolicy]:
    """The active SLA policies that name the organization or its service level; policies
    matching any organization apply too but are not listed here."""
    match = Q(organization=organization)
    if organization.service_level:
        match |= Q(organization__isnull=True, service_level=organization.service_level)
    return list(
        SlaPolicy.objects.filter(match, is_active=True)
        .select_related("business_hours")
        .order_by("position", "id")
    )
