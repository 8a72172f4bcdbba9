"""Asking another department, in the desk: the case page's panel and its actions, the
"Requests to my teams" list where a team member answers, and the public page behind the
signed link an outside person answers on (tampered → 400, expired → 410, answered → 409)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from caseloop.accounts.models import Team, User
from caseloop.cases import selectors as case_selectors
from caseloop.cases.errors import CaseError
from caseloop.cases.loop import requests as loop_requests
from caseloop.cases.models import Case, DepartmentRequest, Status
from caseloop.lib.errors import http_status_for
from caseloop.lib.ratelimit import rate_limited
from caseloop.web.access import agent_required

DUE_FORMAT = "%Y-%m-%dT%H:%M"


def requests_panel_context(
    *, case: Case, user: User | AnonymousUser | None
) -> dict[str, Any] | None:
    """The case page's "Other departments" panel, agents only: the case's requests. The
    form to ask is fetched when opened, so the case page does not read teams and facts."""
    if user is None or not getattr(user, "is_agent_like", False):
        return None
    return {
        "case": case,
        "requests": list(loop_requests.requests_of(case=case)),
        "may_ask": case.status != Status.CLOSED,
    }


@login_required
def request_form(request: HttpRequest, case_id: int) -> HttpResponse:
    """The form to ask another department: a fragment for the panel (HTMX), else a page."""
    agent_required(request)
    case = case_selectors.case_get_for_user(user=request.user, case_id=case_id)
    context = {
        "case": case,
        "teams": list(Team.objects.order_by("name")),
        "facts": loop_requests.request_facts_available(case=case),
        "kinds": DepartmentRequest.Kind.choices,
    }
    if request.headers.get("HX-Request"):
        return render(request, "web/requests/partials/form.html", context)
    return render(request, "web/requests/new.html", context)


def _back_to_case(case_id: int) -> HttpResponse:
    return redirect(reverse("web:case", kwargs={"case_id": case_id}) + "#panel-requests")


def _due(text: str) -> datetime | None:
    try:
        moment = datetime.strptime((text or "").strip(), DUE_FORMAT)
    except ValueError:
        return None
    return timezone.make_aware(moment)


def _request_for(request: HttpRequest, request_id: int) -> DepartmentRequest:
    """The request, on a case the agent may see; 404 otherwise."""
    found = DepartmentRequest.objects.filter(pk=request_id).first()
    if found is None:
        raise Http404("No such request.")
    case_selectors.case_get_for_user(user=request.user, case_id=found.case_id)
    return found


@login_required
@require_POST
def request_create(request: HttpRequest, case_id: int) -> HttpResponse:
    agent = agent_required(request)
    case = case_selectors.case_get_for_user(user=request.user, case_id=case_id)
    target = request.POST.get("to", "")
    team = None
    email = ""
    if target.startswith("team:") and target[5:].isdigit():
        team = Team.objects.filter(pk=int(target[5:])).first()
        if team is None:
            messages.error(request, gettext("Choose a team that exists."))
            return _back_to_case(case.pk)
    elif target == "email":
        email = request.POST.get("to_email", "")
    due = _due(request.POST.get("due_at", ""))
    if due is None:
        messages.error(request, gettext("Give the due date and time."))
        return _back_to_case(case.pk)
    try:
        loop_requests.request_create(
            case=case,
            actor=agent,
            kind=request.POST.get("kind", DepartmentRequest.Kind.INFORMATION),
            question=request.POST.get("question", ""),
            due_at=due,
            to_team=team,
            to_email=email,
            fact_keys=request.POST.getlist("facts"),
        )
    except CaseError as exc:
        messages.error(request, str(exc).capitalize() + ".")
    else:
        messages.success(request, gettext("Request sent; you stay the owner."))
    return _back_to_case(case.pk)


def _next_or_case(request: HttpRequest, case_id: int) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return _back_to_case(case_id)


@login_required
@require_POST
def request_answer(request: HttpRequest, request_id: int) -> HttpResponse:
    agent = agent_required(request)
    found = _request_for(request, request_id)
    try:
        loop_requests.request_answer(
            request=found, answer=request.POST.get("answer", ""), actor=agent
        )
    except CaseError as exc:
        messages.error(request, str(exc).capitalize() + ".")
    else:
        messages.success(request, gettext("Answer sent to the case's owner."))
    return _next_or_case(request, found.case_id)


@login_required
@require_POST
def request_make_fact(request: HttpRequest, request_id: int) -> HttpResponse:
    agent = agent_required(request)
    found = _request_for(request, request_id)
    try:
        loop_requests.request_answer_to_fact(
            request=found, key=request.POST.get("key", ""), actor=agent
        )
    except CaseError as exc:
        messages.error(request, str(exc).capitalize() + ".")
    else:
        messages.success(request, gettext("The answer is now a fact of the case."))
    return _back_to_case(found.case_id)


@login_required
@require_POST
def request_cancel(request: HttpRequest, request_id: int) -> HttpResponse:
    agent = agent_required(request)
    found = _request_for(request, request_id)
    try:
        loop_requests.request_cancel(request=found, actor=agent)
    except CaseError as exc:
        messages.error(request, str(exc).capitalize() + ".")
    else:
        messages.success(request, gettext("Request cancelled."))
    return _back_to_case(found.case_id)


@login_required
def requests_to_my_teams(request: HttpRequest) -> HttpResponse:
    """Open requests to the agent's teams, soonest due first, each with its answer form."""
    agent = agent_required(request)
    requests = list(loop_requests.requests_for_teams_of(user=agent)[:200])
    return render(
        request,
        "web/requests/mine.html",
        {"requests": requests, "now": timezone.now(), "here": request.get_full_path()},
    )


# --- The public page behind the signed link ----------------------------------------------

RATE_LIMIT = 30  # answers per client address per 10 minutes


def _error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return render(
        request,
        "web/requests/reply_error.html",
        {"message": message, "status": status},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def request_reply(request: HttpRequest, token: str) -> HttpResponse:
    """The outside person reads the question and the facts and answers, once."""
    if request.method == "POST" and rate_limited(
        request, scope="request-link", limit=RATE_LIMIT, window=600
    ):
        return _error(request, 429, "Too many answers from here; please try again later.")
    try:
        found = loop_requests.request_from_token(token=token)
    except CaseError as exc:
        return _error(request, http_status_for(exc), str(exc).capitalize() + ".")
    context: dict[str, Any] = {"req": found, "reference": found.case.reference}
    if request.method == "POST":
        try:
            loop_requests.request_answer(request=found, answer=request.POST.get("answer", ""))
        except CaseError as exc:
            status = http_status_for(exc)
            if status != 422 and status != 400:
                return _error(request, status, str(exc).capitalize() + ".")
            context["error"] = str(exc).capitalize() + "."
            return render(request, "web/requests/reply.html", context, status=status)
        context["recorded"] = True
    return render(request, "web/requests/reply.html", context)
