"""HTML for the loop: the panel's small POST actions (agents, CSRF), and the public pages
behind the signed links sent to customers (no login; tampered → 400, expired → 410)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from caseloop.accounts.models import Team, User
from caseloop.cases import selectors as case_selectors
from caseloop.cases.errors import CaseError
from caseloop.cases.loop import (
    alternatives as loop_alternatives,
    authority as loop_authority,
    escalations as loop_escalations,
    facts as loop_facts,
    followups as loop_followups,
    lessons as loop_lessons,
    needs as loop_needs,
    plans as loop_plans,
    problem as loop_problem,
)
from caseloop.cases.loop.errors import LinkInvalid, LoopError
from caseloop.cases.loop.tokens import token_read
from caseloop.cases.models import (
    Alternative,
    Case,
    Escalation,
    FollowUp,
    Plan,
    PlanStep,
    ProblemStatement,
    RemedyType,
)
from caseloop.insights.services import case_can_be_rated, rating_record
from caseloop.lib.errors import http_status_for
from caseloop.lib.ratelimit import rate_limited

# --- Agent actions from the panel --------------------------------------------------------


def _decimal(value: str) -> Decimal | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise LoopError(f"'{value}' is not an amount") from exc


def _one(model, request: HttpRequest, name: str, case: Case):
    raw = request.POST.get(name, "")
    if not raw.isdigit():
        raise LoopError(f"choose a {name}")
    obj = model.objects.filter(pk=int(raw)).first()
    if obj is None or getattr(obj, "case_id", case.pk) != case.pk:
        raise LoopError(f"no such {name}")
    return obj


def _score(request: HttpRequest, name: str) -> int | None:
    raw = request.POST.get(name, "").strip()
    return int(raw) if raw.isdigit() else None


def _paraphrase(request, case):
    loop_problem.problem_paraphrase_set(
        case=case, paraphrase=request.POST.get("paraphrase", ""), actor=request.user
    )
    return "Paraphrase saved."


def _send_problem(request, case):
    loop_problem.problem_send_for_confirmation(case=case, actor=request.user)
    return "Sent to the customer to confirm."


def _policy_check(request, case):
    decision = loop_needs.policy_check_run(case=case, actor=request.user)
    return f"Policy check: {decision.get_outcome_display()}. {decision.summary}"


def _no_action(request, case):
    loop_needs.needs_no_action_record(
        case=case, actor=request.user, note=request.POST.get("note", "")
    )
    return "Recorded: listened, no action wanted."


def _authority(request, case):
    remedy = RemedyType.objects.filter(pk=request.POST.get("remedy") or 0).first()
    if remedy is None:
        raise LoopError("choose a remedy")
    _, decision = loop_authority.authority_check_record(
        case=case,
        agent=request.user,
        remedy=remedy,
        amount=_decimal(request.POST.get("amount", "")),
        currency=request.POST.get("currency") or None,
    )
    return decision.reason


def _fact(request, case):
    loop_facts.fact_record(
        case=case,
        key=request.POST.get("key", ""),
        value=request.POST.get("value", ""),
        actor=request.user,
    )
    return "Fact recorded."


def _alternative(request, case):
    loop_alternatives.alternative_add(
        case=case,
        title=request.POST.get("title", ""),
        description=request.POST.get("description", ""),
        actor=request.user,
    )
    return "Alternative added."


def _weigh(request, case):
    alternative = _one(Alternative, request, "alternative", case)
    loop_alternatives.alternative_weigh(
        alternative=alternative,
        actor=request.user,
        scores={name: _score(request, name) for name in loop_alternatives.SCORES},
        cost_amount=_decimal(request.POST.get("cost_amount", "")),
    )
    preference = request.POST.get("preference", "")
    if preference:
        loop_alternatives.alternative_prefer(
            alternative=alternative, preference=preference, actor=request.user
        )
    return "Alternative weighed."


def _choose(request, case):
    alternative = _one(Alternative, request, "alternative", case)
    loop_alternatives.alternative_choose(
        alternative=alternative, reason=request.POST.get("reason", ""), actor=request.user
    )
    return f"Chosen: {alternative.title}."


def _plan(request, case):
    loop_plans.plan_create(
        case=case,
        summary=request.POST.get("summary", ""),
        steps=request.POST.get("steps", "").splitlines(),
        expected_timeline=request.POST.get("expected_timeline", ""),
        actor=request.user,
    )
    return "Plan written."


def _share(request, case):
    loop_plans.plan_share(plan=_one(Plan, request, "plan", case), actor=request.user)
    return "Plan shared with the customer."


def _verbal(request, case):
    loop_plans.plan_consent_record(
        plan=_one(Plan, request, "plan", case),
        decision=request.POST.get("decision", "approved"),
        channel="phone",
        note=request.POST.get("note", ""),
        actor=request.user,
    )
    return "Consent recorded."


def _step(request, case):
    step = PlanStep.objects.select_related("plan").filter(pk=request.POST.get("step") or 0).first()
    if step is None or step.plan.case_id != case.pk:
        raise LoopError("no such step")
    loop_plans.plan_step_update(
        step=step, status=request.POST.get("status", ""), actor=request.user
    )
    return "Step updated."


def _update(request, case):
    loop_plans.plan_update_send(
        plan=_one(Plan, request, "plan", case),
        actor=request.user,
        text=request.POST.get("text", ""),
    )
    return "Update sent to the customer."


def _escalate(request, case):
    team = Team.objects.filter(pk=request.POST.get("team") or 0).first()
    user = User.objects.filter(pk=request.POST.get("user") or 0).first()
    loop_escalations.case_escalate(
        case=case,
        actor=request.user,
        reason=request.POST.get("reason", ""),
        to_team=team,
        to_user=user,
    )
    return "Escalated; you stay the owner."


def _escalation_action(request, case):
    escalation = _one(Escalation, request, "escalation", case)
    action = request.POST.get("do", "")
    text = request.POST.get("text", "")
    if action == "accept":
        loop_escalations.escalation_accept(escalation=escalation, solver=request.user)
    elif action == "return":
        loop_escalations.escalation_return(escalation=escalation, actor=request.user, question=text)
    elif action == "solved":
        loop_escalations.escalation_solved(escalation=escalation, actor=request.user, solution=text)
    else:
        raise LoopError("accept, return or solved")
    return "Escalation updated."


def _problem_answer(request, case):
    statement = loop_problem.problem_statement_ensure(case=case)
    loop_problem.problem_answer_record(
        statement=statement,
        confirmed=request.POST.get("answer") == "confirmed",
        correction=request.POST.get("correction", ""),
        channel=request.POST.get("channel") or "phone",
        actor=request.user,
    )
    return "The customer's answer is recorded."


def _link(request, case):
    kind = request.POST.get("kind", "")
    ref = request.POST.get("ref", "").strip()
    linked = None
    if kind == "case":
        try:
            linked = case_selectors.case_get_for_user(user=request.user, case_id=ref)
        except Http404 as exc:
            raise LoopError(f"no case '{ref}'") from exc
    loop_facts.case_link_add(
        case=case,
        kind=kind,
        actor=request.user,
        linked_case=linked,
        article_ref=ref if kind == "article" and not ref.startswith("http") else "",
        url=ref if kind in ("url", "article") and ref.startswith("http") else "",
        note=request.POST.get("note", ""),
    )
    return "Link added."


def _step_add(request, case):
    plan = _one(Plan, request, "plan", case)
    loop_plans.plan_step_add(plan=plan, text=request.POST.get("text", ""), actor=request.user)
    return "Step added."


def _followup(request, case):
    loop_followups.followup_answer(
        case=case,
        solved=request.POST.get("solved") == "yes",
        channel=request.POST.get("channel") or "phone",
        actor=request.user,
    )
    return "The customer's answer is recorded."


def _lesson(request, case):
    loop_lessons.lesson_record(
        case=case,
        author=request.user,
        summary=request.POST.get("summary", ""),
        needs_prepared_answer=bool(request.POST.get("needs_prepared_answer")),
        needs_article=bool(request.POST.get("needs_article")),
    )
    return "Lesson recorded."


ACTIONS: dict[str, Callable[[HttpRequest, Case], str]] = {
    "paraphrase": _paraphrase,
    "send-problem": _send_problem,
    "problem-answer": _problem_answer,
    "link": _link,
    "step-add": _step_add,
    "follow-up": _followup,
    "policy-check": _policy_check,
    "no-action": _no_action,
    "authority": _authority,
    "fact": _fact,
    "alternative": _alternative,
    "weigh": _weigh,
    "choose": _choose,
    "plan": _plan,
    "share": _share,
    "verbal-consent": _verbal,
    "step": _step,
    "update": _update,
    "escalate": _escalate,
    "escalation": _escalation_action,
    "lesson": _lesson,
}


@login_required
@require_POST
def case_action(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    """One panel form: run the action, say what happened, go back to the case."""
    if not cast(User, request.user).is_agent_like:
        raise PermissionDenied("agents only")
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404("No such action.")
    case = case_selectors.case_get_for_user(user=request.user, case_id=case_id)
    try:
        messages.success(request, handler(request, case))
    except (CaseError, ValueError) as exc:
        messages.error(request, str(exc))
    return redirect(reverse("web:case", kwargs={"case_id": case.pk}) + "#panel-loop")


# --- Public pages behind signed links ----------------------------------------------------

RATE_LIMIT = 30  # answers per client address per 10 minutes


def _rate_limited(request: HttpRequest) -> bool:
    if request.method != "POST":
        return False
    return rate_limited(request, scope="loop-link", limit=RATE_LIMIT, window=600)


def _error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return render(
        request, "cases/loop/link_error.html", {"message": message, "status": status}, status=status
    )


def _answer_page(request: HttpRequest, purpose: str, token: str, handle) -> HttpResponse:
    if _rate_limited(request):
        return _error(request, 429, "Too many answers from here; please try again later.")
    try:
        object_id, answer = token_read(purpose=purpose, token=token)
        return handle(request, object_id, answer)
    except CaseError as exc:
        # An altered or expired link, or the case moved on meanwhile (e.g. it was
        # reopened): say so, record nothing.
        return _error(request, http_status_for(exc), str(exc))


def _render(request, **context) -> HttpResponse:
    return render(request, "cases/loop/answer.html", context)


def _problem(request: HttpRequest, object_id: int, answer: str) -> HttpResponse:
    statement = ProblemStatement.objects.select_related("case").filter(pk=object_id).first()
    if statement is None or answer not in ("confirmed", "corrected"):
        raise LinkInvalid("this link is not valid")
    done = statement.confirmation == answer and answer == "confirmed"
    if request.method == "POST" and not done:
        loop_problem.problem_answer_record(
            statement=statement,
            confirmed=answer == "confirmed",
            correction=request.POST.get("note", ""),
            channel="link",
        )
        return _render(request, title="Thank you", recorded=True, text="We have your answer.")
    return _render(
        request,
        title="Did we understand you?",
        quote=statement.paraphrase,
        done=done,
        button="Yes, that is right" if answer == "confirmed" else "Send my correction",
        ask_note="What should we correct?" if answer == "corrected" else "",
        reference=statement.case.reference,
    )


def _plan_page(request: HttpRequest, object_id: int, answer: str) -> HttpResponse:
    plan = Plan.objects.select_related("case").filter(pk=object_id).first()
    if plan is None or answer not in ("approved", "declined", "counter"):
        raise LinkInvalid("this link is not valid")
    last = plan.consents.order_by("-id").first()
    done = last is not None and last.decision == answer and answer != "counter"
    if request.method == "POST" and not done:
        loop_plans.plan_consent_record(
            plan=plan, decision=answer, channel="link", note=request.POST.get("note", "")
        )
        return _render(request, title="Thank you", recorded=True, text="We have your answer.")
    buttons = {
        "approved": "Yes, go ahead",
        "declined": "No, do not go ahead",
        "counter": "Send my suggestion",
    }
    return _render(
        request,
        title=f"Our plan for {plan.case.reference}",
        quote=plan.summary,
        steps=[s.text for s in plan.steps.all()],
        timeline=plan.expected_timeline,
        done=done,
        button=buttons[answer],
        ask_note="What would you suggest instead?" if answer == "counter" else "",
        reference=plan.case.reference,
    )


def _followup_page(request: HttpRequest, object_id: int, answer: str) -> HttpResponse:
    followup = FollowUp.objects.select_related("case").filter(pk=object_id).first()
    if followup is None or answer not in ("yes", "no"):
        raise LinkInvalid("this link is not valid")
    done = not followup.is_active
    if request.method == "POST" and done and "score" in request.POST:
        return _followup_rate(request, followup, answer)
    if request.method == "POST" and not done:
        loop_followups.followup_answer(
            case=followup.case, solved=answer == "yes", channel="link", followup=followup
        )
        followup.case.refresh_from_db()
        return _render(
            request,
            title="Thank you",
            recorded=True,
            text="We have your answer.",
            rate=_may_rate(followup, answer),
            reference=followup.case.reference,
        )
    return _render(
        request,
        title=f"Is {followup.case.reference} solved?",
        quote=followup.case.subject,
        done=done,
        button="Yes, it is solved" if answer == "yes" else "No, it is not solved",
        reference=followup.case.reference,
        rate=done and _may_rate(followup, answer),
    )


def _may_rate(followup: FollowUp, answer: str) -> bool:
    """The customer who confirmed it solved is asked, on the same page, how we did."""
    return answer == "yes" and case_can_be_rated(followup.case)


def _followup_rate(request: HttpRequest, followup: FollowUp, answer: str) -> HttpResponse:
    """A rating sent from the follow-up link: the signed link stands for the customer, and
    only its "solved" answer, once the case is closed, may rate, once."""
    if answer != "yes":
        raise LinkInvalid("this link is not for rating")
    score = request.POST.get("score", "")
    rating_record(
        case=followup.case,
        customer=followup.case.customer,
        score=int(score) if score.isdigit() else 0,
        comment=request.POST.get("comment", ""),
        channel="email",
    )
    return _render(
        request,
        title="Thank you",
        recorded=True,
        text="Thank you for rating our service.",
        reference=followup.case.reference,
    )


@require_http_methods(["GET", "POST"])
def problem_answer(request: HttpRequest, token: str) -> HttpResponse:
    return _answer_page(request, "problem", token, _problem)


@require_http_methods(["GET", "POST"])
def plan_answer(request: HttpRequest, token: str) -> HttpResponse:
    return _answer_page(request, "plan", token, _plan_page)


@require_http_methods(["GET", "POST"])
def followup_answer(request: HttpRequest, token: str) -> HttpResponse:
    return _answer_page(request, "followup", token, _followup_page)
