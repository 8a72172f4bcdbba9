"""Reads for customers."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from .models import ContactPoint, Customer, Organization, contact_points_for_display
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


CUSTOMER_PAGE_SIZE = 50


def customer_search_page(
    *, q: str = "", after: int | None = None, limit: int = CUSTOMER_PAGE_SIZE
) -> tuple[list[Customer], int | None]:
    """Customers newest first whose name, organization or any contact point (email, phone,
    chat id, handle) contains `q`, one page after the customer id `after`, and the id to
    continue from (None on the last page). Keyset paging: nothing is counted, and a deep
    page costs what the first does."""
    customers = (
        Customer.objects.filter(merged_into__isnull=True)
        .select_related("organization")
        .prefetch_related(contact_points_for_display())
        .order_by("-id")
    )
    q = q.strip()
    if q:
        points = ContactPoint.objects.filter(value__icontains=q.lower()).values("customer_id")
        customers = customers.filter(
            Q(name__icontains=q) | Q(organization__name__icontains=q) | Q(id__in=points)
        )
    if after is not None:
        customers = customers.filter(id__lt=after)
    rows = list(customers[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].pk if more and rows else None)


def organization_get(*, organization_id: int) -> Organization:
    try:
        return Organization.objects.get(pk=organization_id)
    except Organization.DoesNotExist as exc:
        raise Http404("No such organization.") from exc


def organization_customers(*, organization: Organization, limit: int = 200) -> list[Customer]:
    """The organization's customers (not merged away), by name, with what a list shows."""
    return list(
        Customer.objects.filter(organization=organization, merged_into__isnull=True)
        .prefetch_related(contact_points_for_display())
        .order_by("name", "id")[:limit]
    )


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
