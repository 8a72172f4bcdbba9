"""Trend alerts in the workspace: managers' list of spikes (what changed, the cases behind
each) and what they do with one — acknowledge, dismiss, open a recurring problem from its
cases — and a run of the detection on demand. Thin: call one service, render."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_POST

from caseloop.accounts.models import User
from caseloop.insights import problems, trends
from caseloop.insights.models import TrendAlert
from caseloop.lib.errors import DomainError, http_status_for

LIST_MAX = 100


def _manager_required(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if not problems.is_problem_manager(user):
        raise PermissionDenied("managers only")
    return user


def _refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render(
        request,
        "web/problems/refused.html",
        {"error": exc.summary(), "facts": exc.facts(), "back": reverse("web:trends")},
        status=http_status_for(exc),
    )


@login_required
@require_GET
def trend_list(request: HttpRequest) -> HttpResponse:
    """Open alerts first, then the handled ones, newest first; `state` narrows."""
    _manager_required(request)
    state = request.GET.get("state", "")
    if state and state not in TrendAlert.State.values:
        return _refused(request, trends.TrendError(f"unknown state '{state}'"))
    alerts = list(trends.trend_alerts_list(state=state)[:LIST_MAX])
    cases = trends.trend_alert_cases(alerts=alerts)
    return render(
        request,
        "web/trends/list.html",
        {
            "rows": [(alert, cases[alert.pk]) for alert in alerts],
            "state": state,
            "states": TrendAlert.State.choices,
            "weeks": trends.BASELINE_WEEKS,
            "hours": int(trends.WINDOW.total_seconds() // 3600),
        },
    )


@login_required
@require_POST
def trend_detect(request: HttpRequest) -> HttpResponse:
    """Look for spikes now (the hourly job does the same)."""
    _manager_required(request)
    found = trends.trends_detect()
    if found:
        messages.success(
            request,
            ngettext("%(count)s spike found.", "%(count)s spikes found.", len(found))
            % {"count": len(found)},
        )
    else:
        messages.info(request, gettext("Nothing above the usual."))
    return redirect("web:trends")


@login_required
@require_POST
def trend_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    user = _manager_required(request)
    alert = trends.trend_alert_get(alert_id=alert_id)
    try:
        trends.trend_alert_acknowledge(alert=alert, actor=user)
    except DomainError as exc:
        return _refused(request, exc)
    messages.success(request, gettext("Acknowledged: %(label)s.") % {"label": alert.label})
    return redirect("web:trends")


@login_required
@require_POST
def trend_dismiss(request: HttpRequest, alert_id: int) -> HttpResponse:
    user = _manager_required(request)
    alert = trends.trend_alert_get(alert_id=alert_id)
    try:
        trends.trend_alert_dismiss(alert=alert, actor=user)
    except DomainError as exc:
        return _refused(request, exc)
    messages.success(request, gettext("Dismissed: %(label)s.") % {"label": alert.label})
    return redirect("web:trends")


@login_required
@require_POST
def trend_problem(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Open a recurring problem under investigation from the alert's cases."""
    user = _manager_required(request)
    alert = trends.trend_alert_get(alert_id=alert_id)
    try:
        problem = trends.trend_alert_problem_open(
            alert=alert, actor=user, title=request.POST.get("title", "")
        )
    except DomainError as exc:
        return _refused(request, exc)
    messages.success(
        request, gettext("%(number)s opened from the alert's cases.") % {"number": problem.number}
    )
    return redirect("web:problem", problem_id=problem.pk)
