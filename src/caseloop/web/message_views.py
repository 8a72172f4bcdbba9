"""What an agent does from the case page besides replying: split a customer's message into
a case of its own, forward a message by email, merge the case into another of the same
customer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from caseloop.cases import message_actions, selectors as case_selectors
from caseloop.cases.errors import CaseError
from caseloop.cases.services import case_merge
from caseloop.lib.errors import http_status_for
from caseloop.web.access import agent_required


def _refused(request: HttpRequest, exc: CaseError, *, case_id: int) -> HttpResponse:
    """Bad input: the case page's error page with why, and the right 4xx."""
    return render(
        request,
        "web/refused.html",
        {"detail": str(exc), "back": f"/cases/{case_id}/"},
        status=http_status_for(exc),
    )


@login_required
@require_POST
def message_split(request: HttpRequest, case_id: int, message_id: int) -> HttpResponse:
    user = agent_required(request)
    case = case_selectors.case_get_for_user(user=user, case_id=case_id)
    try:
        new = message_actions.case_split(
            case=case, message_id=message_id, actor=user, subject=request.POST.get("subject", "")
        )
    except CaseError as exc:
        return _refused(request, exc, case_id=case.pk)
    messages.success(
        request,
        gettext("%(reference)s opened from a message of %(reference2)s.")
        % {"reference": new.reference, "reference2": case.reference},
    )
    return redirect("web:case", case_id=new.pk)


@login_required
@require_POST
def message_forward(request: HttpRequest, case_id: int, message_id: int) -> HttpResponse:
    user = agent_required(request)
    case = case_selectors.case_get_for_user(user=user, case_id=case_id)
    to = request.POST.get("to", "")
    try:
        message_actions.message_forward(
            case=case, message_id=message_id, actor=user, to=to, note=request.POST.get("note", "")
        )
    except CaseError as exc:
        return _refused(request, exc, case_id=case.pk)
    messages.success(
        request,
        gettext("Forwarded to %(value)s; the customer does not see it.") % {"value": to.strip()},
    )
    return redirect("web:case", case_id=case.pk)


@login_required
@require_POST
def case_merge_into(request: HttpRequest, case_id: int) -> HttpResponse:
    user = agent_required(request)
    case = case_selectors.case_get_for_user(user=user, case_id=case_id)
    try:
        target = case_selectors.case_get_for_user(user=user, case_id=request.POST.get("into", ""))
    except Http404:
        return _refused(
            request, CaseError("no case with that reference or number"), case_id=case.pk
        )
    try:
        case_merge(source=case, target=target, actor=user)
    except CaseError as exc:
        return _refused(request, exc, case_id=case.pk)
    messages.success(
        request,
        gettext("%(reference)s merged into %(reference2)s.")
        % {"reference": case.reference, "reference2": target.reference},
    )
    return redirect("web:case", case_id=target.pk)
