"""Reads for customers."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from .models import ContactPoint, Customer
from .services import contact_normalize


def customer_list(*, q: str = "") -> QuerySet[Customer]:
    customers = (
        Customer.objects.filter(merged_into__isnull=True)
        .select_related("organization")
        .prefetch_related("contact_points")
        .order_by("-id")
    )
    if q:
        customers = customers.filter(
            Q(name__icontains=q) | Q(contact_points__value__icontains=q.lower())
        ).distinct()
    return customers


def customer_get_for_user(*, user, customer_id: int) -> Customer:
    """The customer, if `user` may see it: staff see all, a customer only themself."""
    customers = Customer.objects.select_related("organization", "merged_into").prefetch_related(
        Prefetch("contact_points", queryset=ContactPoint.objects.order_by("kind", "id")),
        "purchases",
    )
    if not user.is_agent_like and user.customer_id != customer_id:
        raise Http404("No such customer.")
    try:
        return customers.get(pk=customer_id)
    except Customer.DoesNotExist as exc:
        raise Http404("No such customer.") from exc


def customer_find_by_contact(*, kind: str, value: str) -> Customer | None:

    point = (
        ContactPoint.objects.select_related("customer")
        .filter(kind=kind, value=contact_normalize(kind=kind, value=value))
        .first()
    )
    return point.customer if point else None
