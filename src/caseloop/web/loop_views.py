"""HTML for the loop: the panel's small POST actions (agents, CSRF), and the public pages
behind the signed links sent to customers (no login; tampered → 400, expired → 410)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from caseloop.accounts.models import User
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
    Case,
    CaseLink,
    FollowUp,
    Plan,
    ProblemStatement,
)
from caseloop.insights.services import case_can_be_rated, rating_record
from caseloop.lib.errors import http_status_for
from caseloop.lib.ratelimit import rate_limited
from caseloop.web.language import language_activate_for_customer

from . import loop_forms as forms

# --- Agent actions from the panel --------------------------------------------------------
# Each action reads its form's cleaned data and calls one loop service; the service's
# domain error, if any, is what the agent sees.

Data = dict[str, Any]


def _paraphrase(request: HttpRequest, case: Case, data: Data) -> str:
    loop_problem.problem_paraphrase_set(
        case=case, paraphrase=data["paraphrase"], actor=_agent(request)
    )
    return "Paraphrase saved."


def _send_problem(request: HttpRequest, case: Case, data: Data) -> str:
    loop_problem.problem_send_for_confirmation(case=case, actor=_agent(request))
    return "Sent to the customer to confirm."


def _problem_answer(request: HttpRequest, case: Case, data: Data) -> str:
    statement = loop_problem.problem_statement_ensure(case=case)
    loop_problem.problem_answer_record(
        statement=statement,
        confirmed=data["answer"] == "confirmed",
        correction=data["correction"],
        channel=data["channel"] or "phone",
        actor=_agent(request),
    )
    return "The customer's answer is recorded."


def _policy_check(request: HttpRequest, case: Case, data: Data) -> str:
    decision = loop_needs.policy_check_run(case=case, actor=_agent(request))
    return f"Policy check: {decision.get_outcome_display()}. {decision.summary}"


def _no_action(request: HttpRequest, case: Case, data: Data) -> str:
    loop_needs.needs_no_action_record(case=case, actor=_agent(request), note=data["note"])
    return "Recorded: listened, no action wanted."


def _authority(request: HttpRequest, case: Case, data: Data) -> str:
    _, decision = loop_authority.authority_check_record(
        case=case,
        agent=_agent(request),
        remedy=data["remedy"],
        amount=data["amount"],
        currency=data["currency"] or None,
    )
    return decision.reason


def _fact(request: HttpRequest, case: Case, data: Data) -> str:
    loop_facts.fact_record(
        case=case, key=data["key"] or data["other"], value=data["value"], actor=_agent(request)
    )
    return "Fact recorded."


def _link(request: HttpRequest, case: Case, data: Data) -> str:
    kind, ref = data["kind"], data["ref"]
    linked = None
    if kind == CaseLink.Kind.CASE:
        try:
            linked = case_selectors.case_get_for_user(user=request.user, case_id=ref)
        except Http404 as exc:
            raise LoopError(f"no case '{ref}'") from exc
    loop_facts.case_link_add(
        case=case,
        kind=kind,
        actor=_agent(request),
        linked_case=linked,
        article_ref=ref if kind == "article" and not ref.startswith("http") else "",
        url=ref if kind in ("url", "article") and ref.startswith("http") else "",
        note=data["note"],
    )
    return "Link added."


def _alternative(request: HttpRequest, case: Case, data: Data) -> str:
    loop_alternatives.alternative_add(
        case=case, title=data["title"], description=data["description"], actor=_agent(request)
    )
    return "Alternative added."


def _weigh(request: HttpRequest, case: Case, data: Data) -> str:
    # Like the API's PATCH: what the form does not send stays as it is.
    alternative = data["alternative"]
    loop_alternatives.alternative_weigh(
        alternative=alternative,
        actor=_agent(request),
        scores={name: data[name] for name in loop_alternatives.SCORES if name in request.POST},
        cost_amount=data["cost_amount"] if "cost_amount" in request.POST else ...,
    )
    if data["preference"]:
        loop_alternatives.alternative_prefer(
            alternative=alternative, preference=data["preference"], actor=_agent(request)
        )
    return "Alternative weighed."


def _choose(request: HttpRequest, case: Case, data: Data) -> str:
    alternative = data["alternative"]
    loop_alternatives.alternative_choose(
        alternative=alternative, reason=data["reason"], actor=_agent(request)
    )
    return f"Chosen: {alternative.title}."


def _plan(request: HttpRequest, case: Case, data: Data) -> str:
    loop_plans.plan_create(
        case=case,
        summary=data["summary"],
        steps=data["steps"].splitlines(),
        expected_timeline=data["expected_timeline"],
        actor=_agent(request),
    )
    return "Plan written."


def _share(request: HttpRequest, case: Case, data: Data) -> str:
    loop_plans.plan_share(plan=data["plan"], actor=_agent(request))
    return "Plan shared with the customer."


def _verbal(request: HttpRequest, case: Case, data: Data) -> str:
    loop_plans.plan_consent_record(
        plan=data["plan"],
        decision=data["decision"] or "approved",
        channel="phone",
        note=data["note"],
        actor=_agent(request),
    )
    return "Consent recorded."


def _step_add(request: HttpRequest, case: Case, data: Data) -> str:
    loop_plans.plan_step_add(plan=data["plan"], text=data["text"], actor=_agent(request))
    return "Step added."


def _step(request: HttpRequest, case: Case, data: Data) -> str:
    loop_plans.plan_step_update(step=data["step"], status=data["status"], actor=_agent(request))
    return "Step updated."


def _update(request: HttpRequest, case: Case, data: Data) -> str:
    loop_plans.plan_update_send(plan=data["plan"], actor=_agent(request), text=data["text"])
    return "Update sent to the customer."


def _escalate(request: HttpRequest, case: Case, data: Data) -> str:
    loop_escalations.case_escalate(
        case=case,
        actor=_agent(request),
        reason=data["reason"],
        to_team=data["team"],
        to_user=data["user"],
    )
    return "Escalated; you stay the owner."


def _escalation(request: HttpRequest, case: Case, data: Data) -> str:
    escalation, text, agent = data["escalation"], data["text"], _agent(request)
    if data["do"] == "accept":
        loop_escalations.escalation_accept(escalation=escalation, solver=agent)
    elif data["do"] == "return":
        loop_escalations.escalation_return(escalation=escalation, actor=agent, question=text)
    else:
        loop_escalations.escalation_solved(escalation=escalation, actor=agent, solution=text)
    return "Escalation updated."


def _followup(request: HttpRequest, case: Case, data: Data) -> str:
    loop_followups.followup_answer(
        case=case,
        solved=data["solved"] == "yes",
        channel=data["channel"] or "phone",
        actor=_agent(request),
    )
    return "The customer's answer is recorded."


def _lesson(request: HttpRequest, case: Case, data: Data) -> str:
    loop_lessons.lesson_record(
        case=case,
        author=_agent(request),
        summary=data["summary"],
        needs_prepared_answer=data["needs_prepared_answer"],
        needs_article=data["needs_article"],
    )
    return "Lesson recorded."


Action = Callable[[HttpRequest, Case, Data], str]

ACTIONS: dict[str, tuple[type[forms.CaseActionForm], Action]] = {
    "paraphrase": (forms.ParaphraseForm, _paraphrase),
    "send-problem": (forms.EmptyForm, _send_problem),
    "problem-answer": (forms.ProblemAnswerForm, _problem_answer),
    "link": (forms.LinkForm, _link),
    "step-add": (forms.StepAddForm, _step_add),
    "follow-up": (forms.FollowUpForm, _followup),
    "policy-check": (forms.EmptyForm, _policy_check),
    "no-action": (forms.NoActionForm, _no_action),
    "authority": (forms.AuthorityForm, _authority),
    "fact": (forms.FactForm, _fact),
    "alternative": (forms.AlternativeForm, _alternative),
    "weigh": (forms.WeighForm, _weigh),
    "choose": (forms.ChooseForm, _choose),
    "plan": (forms.PlanForm, _plan),
    "share": (forms.ShareForm, _share),
    "verbal-consent": (forms.VerbalConsentForm, _verbal),
    "step": (forms.StepForm, _step),
    "update": (forms.UpdateForm, _update),
    "escalate": (forms.EscalateForm, _escalate),
    "escalation": (forms.EscalationForm, _escalation),
    "lesson": (forms.LessonForm, _lesson),
}


def _agent(request: HttpRequest) -> User:
    return cast(User, request.user)  # case_action admits agents only


@login_required
@require_POST
def case_action(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    """One panel form: check it, run the action, say what happened, go back to the case."""
    if not _agent(request).is_agent_like:
        raise PermissionDenied("agents only")
    if action not in ACTIONS:
        raise Http404("No such action.")
    form_class, run = ACTIONS[action]
    case = case_selectors.case_get_for_user(user=request.user, case_id=case_id)
    form = form_class(request.POST, case=case)
    if not form.is_valid():
        messages.error(request, form.error_text())
    else:
        try:
            messages.success(request, run(request, case, form.cleaned_data))
        except CaseError as exc:
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
        return _error(request, 429, _("Too many answers from here; please try again later."))
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
    statement = (
        ProblemStatement.objects.select_related("case__customer").filter(pk=object_id).first()
    )
    if statement is None or answer not in ("confirmed", "corrected"):
        raise LinkInvalid("this link is not valid")
    language_activate_for_customer(request, statement.case.customer)
    done = statement.confirmation == answer and answer == "confirmed"
    if request.method == "POST" and not done:
        loop_problem.problem_answer_record(
            statement=statement,
            confirmed=answer == "confirmed",
            correction=request.POST.get("note", ""),
            channel="link",
        )
        return _render(request, title=_("Thank you"), recorded=True, text=_("We have your answer."))
    return _render(
        request,
        title=_("Did we understand you?"),
        quote=statement.paraphrase,
        done=done,
        button=_("Yes, that is right") if answer == "confirmed" else _("Send my correction"),
        ask_note=_("What should we correct?") if answer == "corrected" else "",
        reference=statement.case.reference,
    )


def _plan_page(request: HttpRequest, object_id: int, answer: str) -> HttpResponse:
    plan = Plan.objects.select_related("case__customer").filter(pk=object_id).first()
    if plan is None or answer not in ("approved", "declined", "counter"):
        raise LinkInvalid("this link is not valid")
    language_activate_for_customer(request, plan.case.customer)
    last = plan.consents.order_by("-id").first()
    done = last is not None and last.decision == answer and answer != "counter"
    if request.method == "POST" and not done:
        loop_plans.plan_consent_record(
            plan=plan, decision=answer, channel="link", note=request.POST.get("note", "")
        )
        return _render(request, title=_("Thank you"), recorded=True, text=_("We have your answer."))
    buttons = {
        "approved": _("Yes, go ahead"),
        "declined": _("No, do not go ahead"),
        "counter": _("Send my suggestion"),
    }
    return _render(
        request,
        title=_("Our plan for %(ref)s") % {"ref": plan.case.reference},
        quote=plan.summary,
        steps=[s.text for s in plan.steps.all()],
        timeline=plan.expected_timeline,
        done=done,
        button=buttons[answer],
        ask_note=_("What would you suggest instead?") if answer == "counter" else "",
        reference=plan.case.reference,
    )


def _followup_page(request: HttpRequest, object_id: int, answer: str) -> HttpResponse:
    followup = FollowUp.objects.select_related("case__customer").filter(pk=object_id).first()
    if followup is None or answer not in ("yes", "no"):
        raise LinkInvalid("this link is not valid")
    language_activate_for_customer(request, followup.case.customer)
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
            title=_("Thank you"),
            recorded=True,
            text=_("We have your answer."),
            rate=_may_rate(followup, answer),
            reference=followup.case.reference,
        )
    return _render(
        request,
        title=_("Is %(ref)s solved?") % {"ref": followup.case.reference},
        quote=followup.case.subject,
        done=done,
        button=_("Yes, it is solved") if answer == "yes" else _("No, it is not solved"),
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
        title=_("Thank you"),
        recorded=True,
        text=_("Thank you for rating our service."),
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
