"""Builders for the loop's tests: policies, remedies and cases walked part of the way."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

from django.core import signing
from django.urls import reverse

from caseloop.cases.loop.tokens import PURPOSES
from caseloop.cases.models import (
    AuthorityRule,
    CaseEvent,
    Category,
    Policy,
    RemedyType,
)
from caseloop.customers.models import PurchaseRecord


def make_purchase(*, customer, order_id="A-1001", product="Kettle", bought_at, amount="39.90"):
    return PurchaseRecord.objects.create(
        customer=customer,
        order_id=order_id,
        product=product,
        purchased_at=bought_at,
        amount=Decimal(amount),
    )


def return_window_policy(*, days=30, categories=()) -> Policy:
    policy = Policy.objects.create(
        name="Returns within 30 days",
        rule={"kind": "purchase_age_max_days", "days": days},
        outcome_if_met="in_policy",
        outcome_if_not_met="out_of_policy",
        explanation_if_met="Order {order_id} bought {purchased_on}, {age_days} days ago; "
        "returns are accepted within {days} days.",
        explanation_if_not_met="Order {order_id} bought {purchased_on}, {age_days} days ago; "
        "returns are accepted within {days} days.",
        alternatives=[
            "Repair under warranty",
            {"title": "Store credit", "description": "Credit for a future order"},
        ],
    )
    policy.applies_to.set(categories)
    return policy


def water_damage_policy() -> Policy:
    return Policy.objects.create(
        name="Warranty excludes water damage",
        rule={"kind": "fact_in", "key": "cause", "values": ["water damage", "flood"]},
        outcome_if_met="out_of_policy",
        outcome_if_not_met="in_policy",
        explanation_if_met="The damage was caused by {value}; the warranty excludes water damage.",
        alternatives=["Paid repair at a discount"],
    )


def carrier_policy(*, category: Category) -> Policy:
    return Policy.objects.create(
        name="Carrier delays are the carrier's responsibility",
        rule={"kind": "category_in", "categories": [category.slug]},
        outcome_if_met="not_our_responsibility",
        outcome_if_not_met="not_applicable",
        alternatives=["Open a claim with the carrier for the customer"],
    )


def refund_matrix() -> RemedyType:
    """Refunds: tier-1 agents up to £50.00 (the desk's currency), tier-2 up to £500.00,
    managers unlimited."""
    refund, _ = RemedyType.objects.get_or_create(
        slug="refund", defaults={"name": "Refund", "is_monetary": True}
    )
    # Start from a known matrix, whatever the desk was seeded with.
    AuthorityRule.objects.filter(remedy=refund).delete()
    AuthorityRule.objects.create(
        remedy=refund, role="agent", min_tier=1, limit_amount=Decimal("50.00")
    )
    AuthorityRule.objects.create(
        remedy=refund, role="agent", min_tier=2, limit_amount=Decimal("500.00")
    )
    AuthorityRule.objects.create(remedy=refund, role="manager", min_tier=1, limit_amount=None)
    return refund


def remedy_without_rules(*, slug: str, name: str, monetary: bool = False) -> RemedyType:
    remedy, _ = RemedyType.objects.get_or_create(
        slug=slug, defaults={"name": name, "is_monetary": monetary}
    )
    AuthorityRule.objects.filter(remedy=remedy).delete()
    return remedy


def kinds(case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("id").values_list("kind", flat=True))


def old_token(*, purpose: str, object_id: int, answer: str, age_days: int) -> str:
    """A correctly signed token dated `age_days` ago (time controlled, not waited for)."""

    class Dated(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - age_days * 86400)

    return Dated(salt=PURPOSES[purpose]).sign_object({"id": object_id, "a": answer}, compress=True)


def link_path(name: str, token: str) -> str:
    return reverse(f"loop:{name}_answer", kwargs={"token": token})


def days(n: int) -> timedelta:
    return timedelta(days=n)
