"""Customers and organizations in the workspace: the searchable customer list, a customer's
page (contact points, organization, every case, purchases, ratings, open problems) and an
organization's page (its customers, open and recent cases, satisfaction over the last 90
days, service level). Staff only: a customer signed in is sent to their portal."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from caseloop.accounts.models import User
from caseloop.cases import selectors as case_selectors
from caseloop.cases.models import OPEN_STATUSES
from caseloop.customers import selectors
from caseloop.customers.models import contact_points_for_display
from caseloop.insights import customer_selectors as feedback

CASES_SHOWN = 100
ORG_RECENT_CASES = 20
SATISFACTION_DAYS = 90


def _staff_or_portal(request: HttpRequest) -> HttpResponse | None:
    """None for staff; a customer (or any other login) goes to the portal instead."""
    if cast(User, request.user).is_agent_like:
        return None
    return redirect("web:portal")


def _cursor(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and 0 < len(value) < 19 else None


@login_required
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    if (away := _staff_or_portal(request)) is not None:
        return away
    q = request.GET.get("q", "")[:200]
    after = _cursor(request.GET.get("after"))
    customers, next_after = selectors.customer_search_page(q=q, after=after)
    return render(
        request,
        "web/customers/list.html",
        {"customers": customers, "q": q.strip(), "after": after, "next_after": next_after},
    )


@login_required
@require_GET
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    if (away := _staff_or_portal(request)) is not None:
        return away
    user = cast(User, request.user)
    customer = selectors.customer_get_for_user(user=user, customer_id=customer_id)
    if customer.merged_into_id is not None:
        return redirect("web:customer", customer_id=customer.merged_into_id)
    cases = list(
        case_selectors.case_visible_to(user=user)
        .filter(customer_id=customer.pk)
        .order_by("-id")[: CASES_SHOWN + 1]
    )
    return render(
        request,
        "web/customers/detail.html",
        {
            "customer": customer,
            "cases": cases[:CASES_SHOWN],
            "more_cases": len(cases) > CASES_SHOWN,
            "open_count": sum(1 for c in cases if c.status in OPEN_STATUSES),
            "purchases": list(customer.purchases.all()),
            "ratings": feedback.customer_ratings(customer_id=customer.pk),
            "nps_answers": feedback.customer_nps_answers(customer_id=customer.pk),
            "problems": feedback.customer_open_problems(customer_id=customer.pk),
        },
    )


@login_required
@require_GET
def organization_detail(request: HttpRequest, organization_id: int) -> HttpResponse:
    if (away := _staff_or_portal(request)) is not None:
        return away
    user = cast(User, request.user)
    organization = selectors.organization_get(organization_id=organization_id)
    cases = (
        case_selectors.case_visible_to(user=user)
        .filter(customer__organization=organization)
        .prefetch_related(contact_points_for_display("customer__contact_points"))
        .order_by("-id")
    )
    since = timezone.now() - timedelta(days=SATISFACTION_DAYS)
    return render(
        request,
        "web/customers/organization.html",
        {
            "organization": organization,
            "customers": selectors.organization_customers(organization=organization),
            "open_cases": list(cases.filter(status__in=OPEN_STATUSES)[:CASES_SHOWN]),
            "recent_cases": list(cases.exclude(status__in=OPEN_STATUSES)[:ORG_RECENT_CASES]),
            "satisfaction": feedback.organization_satisfaction(
                organization=organization, since=since
            ),
            "satisfaction_days": SATISFACTION_DAYS,
            "sla_policies": feedback.organization_sla_policies(organization=organization),
            "problems": feedback.organization_open_problems(organization=organization),
        },
    )
