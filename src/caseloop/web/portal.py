"""The customer portal: magic-link sign-in, the customer's own cases, replies, and the
customer's side of the loop (confirm the summary, approve the plan, confirm solved, rate).

Customers only ever reach their own cases: everything goes through `case_get_for_user`,
which answers 404 for anyone else's.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from caseloop.accounts.sso import sso_config
from caseloop.cases import selectors as case_selectors, services as case_services
from caseloop.cases.errors import CaseError
from caseloop.cases.loop import (
    followups as loop_followups,
    plans as loop_plans,
    problem as loop_problem,
    selectors as loop_selectors,
)
from caseloop.cases.models import FINISHED_STATUSES, Message, Status
from caseloop.insights.services import case_can_be_rated, nps_record, rating_record
from caseloop.insights.surveys import nps_survey_open
from caseloop.lib.downloads import download_response
from caseloop.lib.errors import http_status_for
from caseloop.lib.ratelimit import client_address, rate_limit_hit

from . import selectors, services
from .views import help_centre_available

logger = logging.getLogger(__name__)

RATE_LIMIT = 5
RATE_WINDOW = 15 * 60


def _rate_limited(*keys: str) -> bool:
    """Count one attempt against each key in turn, refusing at the first over RATE_LIMIT
    per window. Later keys are not counted then, so parallel requests refused by one key
    never use up another's allowance: exactly RATE_LIMIT get through."""
    return any(
        rate_limit_hit(f"portal-signin:{key}", limit=RATE_LIMIT, window=RATE_WINDOW) for key in keys
    )


def _customer_user(request: HttpRequest):
    user = request.user
    if user.is_authenticated and user.is_customer and user.customer_id:
        return user
    return None


def signin(request: HttpRequest) -> HttpResponse:
    if _customer_user(request):
        return redirect("web:portal")
    if request.method == "POST":
        email = request.POST.get("email", "").strip().lower()[:320]
        if _rate_limited(f"ip:{client_address(request)}", f"email:{email}"):
            return render(request, "web/portal/signin.html", {"limited": True}, status=429)
        if email:
            services.magic_link_request(email=email, base_url=request.build_absolute_uri("/"))
        # The same answer whether or not the address is known, so nobody can probe it.
        return render(request, "web/portal/sent.html", {"email": email})
    sso = sso_config()
    return render(
        request,
        "web/portal/signin.html",
        {
            "help_centre": help_centre_available(),
            # Customers may sign in through the identity provider only where the desk lets them.
            "sso_provider": sso.provider_name if sso and sso.customers else None,
        },
    )


def link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button; POST signs in. Mail scanners that fetch links never use them up."""
    if request.method != "POST":
        return render(request, "web/portal/link.html", {"token": token})
    try:
        user = services.magic_link_redeem(token=token)
    except services.LinkRefused as exc:
        return render(
            request, "web/portal/link.html", {"error": str(exc)}, status=http_status_for(exc)
        )
    if request.user.is_authenticated:
        logout(request)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("web:portal")


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:portal_signin")


def home(request: HttpRequest) -> HttpResponse:
    user = _customer_user(request)
    if user is None:
        return redirect("web:portal_signin")
    cases = case_selectors.customer_cases(customer_id=user.customer_id)[:100]
    return render(
        request,
        "web/portal/cases.html",
        {"cases": cases, "help_centre": help_centre_available()},
    )


def _loop_state(case) -> dict:
    """What the customer can answer on this case, from the loop when it is installed."""
    return {
        "statement": loop_selectors.problem_statement_of(case=case),
        "plan": loop_selectors.plan_current(case=case),
        "followup": loop_selectors.followup_latest(case=case),
    }


def _portal_case(request: HttpRequest, case_id: int):
    user = _customer_user(request)
    if user is None:
        return None, None
    return user, case_selectors.case_get_for_user(user=user, case_id=case_id)


def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    user, case = _portal_case(request, case_id)
    if user is None:
        return redirect("web:portal_signin")
    can_rate = case_can_be_rated(case)
    rated = not can_rate and case.ratings.exists()
    return render(
        request,
        "web/portal/case.html",
        {
            "case": case,
            "timeline": selectors.case_timeline(case=case, user=user),
            "loop": _loop_state(case),
            "can_confirm_solved": case.status == Status.SOLVED,
            "can_reopen": case.status in FINISHED_STATUSES,
            "can_rate": can_rate,
            "rated": rated,
            # One question at a time: the recommendation survey follows the rating.
            "nps_survey": None if can_rate else nps_survey_open(case=case),
            "nps_scores": range(11),
            "help_centre": help_centre_available(),
        },
    )


@require_GET
def case_attachment(request: HttpRequest, case_id: int, attachment_id: int) -> HttpResponseBase:
    """A file of the customer's own case, as a download; an internal note's is 404."""
    user = _customer_user(request)
    if user is None:
        return redirect("web:portal_signin")
    attachment = case_selectors.attachment_get_for_user(
        user=user, case_id=case_id, attachment_id=attachment_id
    )
    return download_response(
        file=attachment.file.open("rb"),
        filename=attachment.filename,
        content_type=attachment.content_type,
    )


def _back(case) -> HttpResponse:
    return redirect("web:portal_case", case_id=case.pk)


@require_POST
def case_reply(request: HttpRequest, case_id: int) -> HttpResponse:
    user, case = _portal_case(request, case_id)
    if user is None:
        return redirect("web:portal_signin")
    text = request.POST.get("text", "").strip()
    try:
        case_services.message_add(
            case=case,
            direction=Message.Direction.INBOUND,
            channel="web",
            text=text[:20000],
            actor=user,
            author_customer=case.customer,
            metadata={"via": "portal"},
        )
        messages.success(request, gettext("Your message was sent."))
    except CaseError as exc:
        messages.error(request, str(exc))
    return _back(case)


@require_POST
def case_summary(request: HttpRequest, case_id: int) -> HttpResponse:
    """The customer confirms the agent's summary of the problem, or corrects it."""
    user, case = _portal_case(request, case_id)
    if user is None:
        return redirect("web:portal_signin")
    statement = _loop_state(case)["statement"]
    if statement is None or not statement.paraphrase:
        messages.error(request, gettext("There is no summary waiting for your answer."))
        return _back(case)
    try:
        loop_problem.problem_answer_record(
            statement=statement,
            confirmed=request.POST.get("decision") == "confirm",
            channel="portal",
            correction=request.POST.get("correction", "").strip()[:5000],
            actor=user,
        )
        messages.success(request, gettext("Thank you, we noted your answer."))
    except CaseError as exc:
        messages.error(request, str(exc))
    return _back(case)


@require_POST
def case_plan(request: HttpRequest, case_id: int) -> HttpResponse:
    """The customer approves or declines the plan shared with them."""
    user, case = _portal_case(request, case_id)
    if user is None:
        return redirect("web:portal_signin")
    plan = _loop_state(case)["plan"]
    decision = request.POST.get("decision", "")
    if plan is None or decision not in ("approved", "declined"):
        messages.error(request, gettext("There is no plan waiting for your answer."))
        return _back(case)
    try:
        loop_plans.plan_consent_record(
            plan=plan,
            decision=decision,
            channel="portal",
            note=request.POST.get("note", "").strip()[:5000],
            actor=user,
        )
        messages.success(
            request, "Thank you: we'll go ahead." if decision == "approved" else "Noted."
        )
    except CaseError as exc:
        messages.error(request, str(exc))
    return _back(case)


@require_POST
def case_solved(request: HttpRequest, case_id: int) -> HttpResponse:
    """The customer confirms the problem is solved, or says it is not (reopen)."""
    user, case = _portal_case(request, case_id)
    if user is None:
        return redirect("web:portal_signin")
    solved = request.POST.get("solved") == "yes"
    try:
        if case.status == Status.SOLVED:
            loop_followups.followup_answer(case=case, solved=solved, channel="portal", actor=user)
        elif solved:
            case_services.case_transition(
                case=case, to=Status.CLOSED, actor=user, reason="customer confirmed solved"
            )
        else:
            case_services.case_transition(
                case=case, to=Status.OPEN, actor=user, reason="customer says not solved"
            )
        messages.success(
            request,
            "Thank you for confirming." if solved else "We've reopened your case.",
        )
    except CaseError as exc:
        messages.error(request, str(exc))
    return _back(case)


@require_POST
def case_rate(request: HttpRequest, case_id: int) -> HttpResponse:
    user, case = _portal_case(request, case_id)
    if user is None:
        return redirect("web:portal_signin")
    score = request.POST.get("score", "")
    try:
        rating_record(
            case=case,
            customer=case.customer,
            score=int(score) if score.isdigit() else 0,
            comment=request.POST.get("comment", ""),
            actor=user,
        )
        messages.success(request, gettext("Thank you for rating our service."))
    except CaseError as exc:
        messages.error(request, str(exc))
    return _back(case)


@require_POST
def case_nps(request: HttpRequest, case_id: int) -> HttpResponse:
    """The signed-in customer answers the recommendation survey sent after this case."""
    user, case = _portal_case(request, case_id)
    if user is None:
        return redirect("web:portal_signin")
    if nps_survey_open(case=case) is None:
        messages.error(request, gettext("There is no survey waiting for your answer."))
        return _back(case)
    score = request.POST.get("score", "")
    try:
        nps_record(
            customer=case.customer,
            case=case,
            score=int(score) if score.isdigit() else -1,
            comment=request.POST.get("comment", ""),
            channel="portal",
            actor=user,
        )
        messages.success(request, gettext("Thank you for your answer."))
    except CaseError as exc:
        messages.error(request, str(exc))
    return _back(case)
