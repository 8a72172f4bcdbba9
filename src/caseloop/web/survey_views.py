"""Survey pages: the recommendation survey behind its emailed signed link (no sign-in: the
link stands for the customer), and the agent marking a recovery done on the case page."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from caseloop.accounts.models import User
from caseloop.cases import selectors as case_selectors
from caseloop.cases.errors import CaseError
from caseloop.insights import surveys
from caseloop.insights.services import nps_record
from caseloop.lib.errors import http_status_for
from caseloop.lib.ratelimit import rate_limited
from caseloop.web.language import language_activate_for_customer

NPS_SCORES = range(11)
RATE_LIMIT = 30  # answers per client address per 10 minutes


def _score(request: HttpRequest) -> int:
    value = request.POST.get("score", "")
    return int(value) if value.isdigit() else -1


@require_http_methods(["GET", "POST"])
def nps_answer(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the question; POST records the answer. Mail scanners fetching the link
    answer nothing."""
    if request.method == "POST" and rate_limited(
        request, scope="survey-link", limit=RATE_LIMIT, window=600
    ):
        return render(
            request,
            "web/portal/nps.html",
            {"error": _("Too many answers from here; please try again later.")},
            status=429,
        )
    try:
        invitation = surveys.nps_invitation_from_token(token=token)
    except CaseError as exc:
        return render(
            request, "web/portal/nps.html", {"error": str(exc)}, status=http_status_for(exc)
        )
    language_activate_for_customer(request, invitation.customer)
    context = {"invitation": invitation, "nps_scores": NPS_SCORES}
    if invitation.response_id is not None:
        return render(request, "web/portal/nps.html", {**context, "answered": True})
    if request.method != "POST":
        return render(request, "web/portal/nps.html", context)
    try:
        nps_record(
            customer=invitation.customer,
            case=invitation.case,
            score=_score(request),
            comment=request.POST.get("comment", ""),
            channel="email",
        )
    except surveys.AlreadyAnswered:
        return render(request, "web/portal/nps.html", {**context, "answered": True})
    except CaseError as exc:
        return render(
            request,
            "web/portal/nps.html",
            {**context, "invalid": str(exc)},
            status=http_status_for(exc),
        )
    return render(request, "web/portal/nps.html", {**context, "answered": True, "recorded": True})


@login_required
@require_POST
def recovery_done(request: HttpRequest, case_id: int, recovery_id: int) -> HttpResponse:
    """An agent notes what was done to recover a customer who gave a low score."""
    user = cast(User, request.user)
    if not user.is_agent_like:
        raise PermissionDenied("agents only")
    case = case_selectors.case_get_for_user(user=user, case_id=case_id)
    recovery = surveys.recovery_get_for_case(case=case, recovery_id=recovery_id)
    try:
        surveys.recovery_done(recovery=recovery, actor=user, note=request.POST.get("note", ""))
        messages.success(request, gettext("Recovery marked done."))
    except CaseError as exc:
        messages.error(request, str(exc))
    return redirect("web:case", case_id=case.pk)
