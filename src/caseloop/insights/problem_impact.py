"""What a problem's proactive support achieved: the contacts it prevented.

- A **follower** attached to the known issue from its banner instead of opening a duplicate
  case: one contact prevented each.
- A **notice** told a likely-affected customer before they wrote. Some would have written
  anyway: before each sending, the share of the affected group (the customers matching the
  sending's audience) who had already written about the problem is its **contact rate**.
  Of the customers noticed, that share would have been expected to write; those who wrote
  anyway (a case of theirs linked to the problem after the notice) are taken off.

    contacts prevented = followers
                         + max(0, round(notices sent × contact rate) − wrote anyway)

(rounded half up), where the contact rate is the rate of each sending, weighted by how many
notices it sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from caseloop.cases.models import Case

from .models import Problem, ProblemCase, ProblemChange, ProblemFollower, ProblemNotice

NOTICES_SENT = "notices_sent"


@dataclass(frozen=True)
class Impact:
    cases_linked: int
    followers: int
    notices_sent: int
    notices_queued: int
    notices_failed: int
    wrote_anyway: int
    contact_rate: float
    expected_contacts: int
    contacts_prevented: int

    @property
    def contact_rate_percent(self) -> str:
        return f"{self.contact_rate * 100:.1f}%"

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases_linked": self.cases_linked,
            "followers": self.followers,
            "notices_sent": self.notices_sent,
            "notices_queued": self.notices_queued,
            "notices_failed": self.notices_failed,
            "wrote_anyway": self.wrote_anyway,
            "contact_rate": round(self.contact_rate, 4),
            "expected_contacts": self.expected_contacts,
            "contacts_prevented": self.contacts_prevented,
        }


def contacts_prevented(
    *, followers: int, notices_sent: int, contact_rate: float, wrote_anyway: int
) -> tuple[int, int]:
    """(expected contacts among those noticed, contacts prevented). The expectation is
    rounded half up: half a customer counts as one."""
    expected = int(notices_sent * contact_rate + 0.5)
    return expected, followers + max(0, expected - wrote_anyway)


def _contact_rate(problem: Problem) -> float:
    """The contact rate of the sendings so far, each weighted by the notices it queued."""
    weighted = queued_total = 0.0
    for data in ProblemChange.objects.filter(problem=problem, kind=NOTICES_SENT).values_list(
        "data", flat=True
    ):
        if not isinstance(data, dict):
            continue
        queued = int(data.get("queued") or 0)
        group = int(data.get("group") or 0)
        wrote = int(data.get("wrote_before") or 0)
        if queued <= 0 or group <= 0:
            continue
        weighted += queued * (wrote / group)
        queued_total += queued
    return weighted / queued_total if queued_total else 0.0


def problem_impact(problem: Problem) -> Impact:
    """The problem's figures: cases linked, followers, notices sent (and queued, failed),
    noticed customers who wrote anyway, the contact rate and the contacts prevented.
    Four queries."""
    notices = ProblemNotice.objects.filter(problem=problem).aggregate(
        sent=Count("id", filter=Q(state=ProblemNotice.State.SENT)),
        queued=Count("id", filter=Q(state=ProblemNotice.State.QUEUED)),
        failed=Count("id", filter=Q(state=ProblemNotice.State.FAILED)),
        wrote=Count("id", filter=Q(state=ProblemNotice.State.SENT, wrote_after__isnull=False)),
    )
    followers = ProblemFollower.objects.filter(problem=problem).count()
    rate = _contact_rate(problem)
    expected, prevented = contacts_prevented(
        followers=followers,
        notices_sent=notices["sent"],
        contact_rate=rate,
        wrote_anyway=notices["wrote"],
    )
    return Impact(
        cases_linked=ProblemCase.objects.filter(problem=problem).count(),
        followers=followers,
        notices_sent=notices["sent"],
        notices_queued=notices["queued"],
        notices_failed=notices["failed"],
        wrote_anyway=notices["wrote"],
        contact_rate=rate,
        expected_contacts=expected,
        contacts_prevented=prevented,
    )


def notices_wrote_after_record(*, problem: Problem, case: Case) -> int:
    """A case was linked to the problem: the customer's notice about it, sent before the
    case was opened, records that they wrote anyway. Returns how many notices changed
    (0 or 1). Call it inside the linking transaction."""
    return ProblemNotice.objects.filter(
        problem=problem,
        customer_id=case.customer_id,
        wrote_after__isnull=True,
        created_at__lte=case.created_at,
    ).update(wrote_after=case)
