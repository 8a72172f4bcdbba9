"""Reads for calls: the caller's profile by number, and call lists."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse

from caseloop.cases.models import Case
from caseloop.customers.models import ContactPoint, Customer

from .models import CallLog


def customer_by_phone(*, phone: str) -> Customer | None:
    """The customer who owns this E.164 number (following merges)."""
    point = (
        ContactPoint.objects.select_related("customer")
        .filter(kind=ContactPoint.Kind.PHONE, value=phone)
        .first()
    )
    if point is None:
        return None
    customer, seen = point.customer, set()
    while customer.merged_into_id and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def customer_open_cases(*, customer: Customer, limit: int = 20) -> list[Case]:
    return list(Case.objects.filter(customer=customer).open().order_by("-id")[:limit])


def call_list(*, phone: str = "", case_id: int | None = None, limit: int = 50) -> QuerySet:
    calls = CallLog.objects.select_related("case", "agent").order_by("-started_at", "-id")
    if phone:
        calls = calls.filter(phone=phone)
    if case_id:
        calls = calls.filter(case_id=case_id)
    return calls[:limit]


def calls_panel_context(*, case, user) -> dict | None:
    """The case page's Calls panel: the calls on the case and a link to log one."""
    if not getattr(user, "is_agent_like", False):
        return None
    calls = list(
        CallLog.objects.filter(case=case).select_related("agent").order_by("-started_at")[:20]
    )
    return {"calls": calls, "log_url": f"{reverse('channels:phone:log')}?case={case.reference}"}
