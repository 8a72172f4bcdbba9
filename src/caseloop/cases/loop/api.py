"""The loop's endpoints under /api/v1/cases/{id}/…: problem, policy-check, authority,
facts, links, alternatives, plan, escalations, follow-up, lessons, stages; and
/api/v1/lessons for review. Thin: parse, call a service or selector, shape the answer."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.http import Http404
from ninja import Router, Status as Reply

from caseloop.accounts.auth import ApiRequest, require_staff
from caseloop.accounts.models import Team, User
from caseloop.cases import selectors as case_selectors
from caseloop.cases.models import (
    Alternative,
    Attachment,
    Case,
    CaseLink,
    Escalation,
    Fact,
    FollowUp,
    Lesson,
    NeedsDecision,
    Plan,
    PlanStep,
    PolicyCheck,
    RemedyType,
)
from caseloop.customers.models import PurchaseRecord

from . import (
    alternatives,
    authority,
    escalations,
    facts,
    followups,
    lessons,
    needs,
    plans,
    problem,
    selectors,
)
from .errors import LoopError
from .schemas import (
    AlternativeIn,
    AlternativeOut,
    AlternativePatchIn,
    AuthorityIn,
    ChooseIn,
    ConsentIn,
    DecisionOut,
    EscalateIn,
    EscalationOut,
    EscalationTextIn,
    FactIn,
    FactOut,
    FactsOut,
    FollowUpAnswerIn,
    FollowUpOut,
    HandoffOut,
    LessonIn,
    LessonOut,
    LessonPatchIn,
    LinkIn,
    LinkOut,
    MessageRef,
    NeedsOut,
    NoActionIn,
    ParaphraseIn,
    PlanIn,
    PlanOut,
    PolicyResultsOut,
    ProblemAnswerIn,
    ProblemOut,
    RemedyOut,
    StagesOut,
    StepIn,
    StepPatchIn,
    UpdateIn,
    authority_out,
)

router = Router(tags=["loop"])

CASE = "/cases/{case_id}"


def _case(request: ApiRequest, case_id: str, *, staff: bool = True) -> Case:
    if staff:
        require_staff(request)
    return case_selectors.case_get_for_user(user=request.auth, case_id=case_id)


def _get(queryset, **lookup):
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise Http404("Not found.")
    return obj


# --- Problem statement -------------------------------------------------------------------


@router.get(f"{CASE}/problem", response=ProblemOut, summary="The problem statement")
def problem_get(request: ApiRequest, case_id: str):
    """The customer's own words (from the first message) and the agent's paraphrase."""
    case = _case(request, case_id)
    return ProblemOut.of(selectors.problem_statement_view(case=case))


@router.put(f"{CASE}/problem", response=ProblemOut, summary="Set the paraphrase")
def problem_put(request: ApiRequest, case_id: str, payload: ParaphraseIn):
    """A changed paraphrase needs confirming again."""
    case = _case(request, case_id)
    return ProblemOut.of(
        problem.problem_paraphrase_set(case=case, paraphrase=payload.paraphrase, actor=request.auth)
    )


@router.post(
    f"{CASE}/problem/send-for-confirmation",
    response=ProblemOut,
    summary="Send the paraphrase to the customer",
)
def problem_send(request: ApiRequest, case_id: str):
    """ "Here is what I understood…" on the case's channel, with signed confirm/correct links."""
    case = _case(request, case_id)
    problem.problem_send_for_confirmation(case=case, actor=request.auth)
    return ProblemOut.of(problem.problem_statement_ensure(case=case))


@router.post(f"{CASE}/problem/answer", response=ProblemOut, summary="Record the customer's answer")
def problem_answer(request: ApiRequest, case_id: str, payload: ProblemAnswerIn):
    """For answers given by phone, chat or mail: confirmed, or corrected with their words."""
    case = _case(request, case_id)
    statement = problem.problem_statement_ensure(case=case)
    return ProblemOut.of(
        problem.problem_answer_record(
            statement=statement,
            confirmed=payload.confirmed,
            correction=payload.correction,
            channel=payload.channel,
            actor=request.auth,
        )
    )


# --- Does it need solving? ---------------------------------------------------------------


def _decisions(case: Case):

    return (
        NeedsDecision.objects.filter(case=case)
        .select_related("decided_by")
        .prefetch_related(Prefetch("checks", queryset=PolicyCheck.objects.order_by("id")))
        .order_by("-id")
    )


@router.post(f"{CASE}/policy-check", response={201: NeedsOut}, summary="Run the policy check")
def policy_check_run(request: ApiRequest, case_id: str):
    """Evaluate the desk's policies against the case's facts and the customer's purchases.
    Each check explains the rule that applied and why; out of policy proposes alternatives."""
    case = _case(request, case_id)
    decision = needs.policy_check_run(case=case, actor=request.auth)
    return Reply(201, NeedsOut.of(_decisions(case).get(pk=decision.pk)))


@router.get(f"{CASE}/policy-check", response=PolicyResultsOut, summary="Policy check results")
def policy_check_results(request: ApiRequest, case_id: str):
    case = _case(request, case_id)
    decisions = [NeedsOut.of(d) for d in _decisions(case)[:20]]
    return {"latest": decisions[0] if decisions else None, "history": decisions}


@router.post(
    f"{CASE}/needs/no-action",
    response={201: NeedsOut},
    summary="Record: listened — no action wanted",
)
def needs_no_action(request: ApiRequest, case_id: str, payload: NoActionIn):
    """For a customer who only wanted to be heard."""
    case = _case(request, case_id)
    decision = needs.needs_no_action_record(case=case, actor=request.auth, note=payload.note)
    return Reply(201, NeedsOut.of(_decisions(case).get(pk=decision.pk)))


# --- Authority ---------------------------------------------------------------------------


@router.get("/remedies", response=list[RemedyOut], summary="Remedy types")
def remedy_list(request: ApiRequest):
    require_staff(request)
    return [
        {"slug": r.slug, "name": r.name, "is_monetary": r.is_monetary}
        for r in RemedyType.objects.filter(is_active=True)
    ]


@router.post(f"{CASE}/authority", response=DecisionOut, summary="Solve now or escalate?")
def authority_check(request: ApiRequest, case_id: str, payload: AuthorityIn):
    """Ask the authority matrix whether you may grant this remedy (and amount) on this case.
    Limits are inclusive. The answer says why, and what an escalation needs."""
    case = _case(request, case_id)
    remedy = RemedyType.objects.filter(slug=payload.remedy).first()
    if remedy is None:
        raise LoopError(f"no remedy '{payload.remedy}'")
    check, decision = authority.authority_check_record(
        case=case,
        agent=request.auth,
        remedy=remedy,
        amount=payload.amount,
        currency=payload.currency,
    )
    return authority_out(check, decision)


# --- Facts and links ---------------------------------------------------------------------


@router.get(f"{CASE}/facts", response=FactsOut, summary="Facts and the hand-off checklist")
def facts_get(request: ApiRequest, case_id: str):
    case = _case(request, case_id)
    facts = selectors.facts_current(case=case)
    checklist = [item.as_dict() for item in selectors.fact_checklist(case=case, facts=facts)]
    return {
        "checklist": checklist,
        "missing_for_handoff": [
            {"key": i["key"], "label": i["label"]}
            for i in checklist
            if i["required_for_handoff"] and not i["satisfied"]
        ],
        "history": [
            FactOut.of(f)
            for f in Fact.objects.filter(case=case).select_related("recorded_by").order_by("id")
        ],
    }


@router.post(f"{CASE}/facts", response={201: FactOut}, summary="Record a fact")
def fact_create(request: ApiRequest, case_id: str, payload: FactIn):
    """A newer value for a key supersedes the older one (history is kept)."""
    case = _case(request, case_id)
    fact = facts.fact_record(
        case=case, key=payload.key, value=payload.value, actor=request.auth, source=payload.source
    )
    return Reply(201, FactOut.of(fact))


@router.get(f"{CASE}/links", response=list[LinkOut], summary="Linked records")
def link_list(request: ApiRequest, case_id: str):
    case = _case(request, case_id)
    links = CaseLink.objects.filter(case=case).select_related(
        "purchase", "linked_case", "attachment"
    )
    return [LinkOut.of(link) for link in links.order_by("id")]


@router.post(f"{CASE}/links", response={201: LinkOut}, summary="Link a record")
def link_create(request: ApiRequest, case_id: str, payload: LinkIn):
    """A purchase of the customer, an earlier case, a knowledge article, an attachment or
    a document URL."""
    case = _case(request, case_id)
    purchase = linked = attachment = None
    if payload.purchase_id is not None:
        purchase = PurchaseRecord.objects.filter(pk=payload.purchase_id).first()
    if payload.case:
        try:
            linked = case_selectors.case_get_for_user(user=request.auth, case_id=payload.case)
        except Http404 as exc:
            raise LoopError(f"no case '{payload.case}'") from exc
    if payload.attachment_id is not None:
        attachment = Attachment.objects.filter(pk=payload.attachment_id).first()
    link = facts.case_link_add(
        case=case,
        kind=payload.kind,
        actor=request.auth,
        purchase=purchase,
        linked_case=linked,
        attachment=attachment,
        article_ref=payload.article_ref,
        url=payload.url,
        note=payload.note,
    )
    return Reply(201, LinkOut.of(link))


# --- Alternatives ------------------------------------------------------------------------


@router.get(f"{CASE}/alternatives", response=list[AlternativeOut], summary="Alternatives, ranked")
def alternative_list(request: ApiRequest, case_id: str):
    """Best first: the chosen one, then by weighted score (feasibility 35%, impact 30%,
    timeliness 20%, cost 15%; 5 is best, cost 5 = cheapest), then the customer's preference.
    Tried ones follow; rejected ones, by the agent or the customer, come last."""
    case = _case(request, case_id)
    return [AlternativeOut.of(a) for a in selectors.alternatives_ranked(case=case)]


@router.post(f"{CASE}/alternatives", response={201: AlternativeOut}, summary="Add an alternative")
def alternative_create(request: ApiRequest, case_id: str, payload: AlternativeIn):
    case = _case(request, case_id)
    alternative = alternatives.alternative_add(
        case=case, title=payload.title, description=payload.description, actor=request.auth
    )
    return Reply(201, AlternativeOut.of(alternative))


@router.post(
    f"{CASE}/alternatives/propose",
    response=list[AlternativeOut],
    summary="Propose alternatives from similar solved cases",
)
def alternative_propose(request: ApiRequest, case_id: str):
    """How similar solved cases were solved (needs triage's similarity; none without it)."""
    case = _case(request, case_id)
    return [
        AlternativeOut.of(a)
        for a in alternatives.alternatives_propose_similar(case=case, actor=request.auth)
    ]


def _alternative(case: Case, alternative_id: int) -> Alternative:
    return _get(Alternative.objects.select_related("chosen_by"), pk=alternative_id, case=case)


@router.patch(
    f"{CASE}/alternatives/{{alternative_id}}",
    response=AlternativeOut,
    summary="Weigh an alternative or record the customer's preference",
)
def alternative_patch(
    request: ApiRequest, case_id: str, alternative_id: int, payload: AlternativePatchIn
):
    case = _case(request, case_id)
    alternative = _alternative(case, alternative_id)
    given = payload.model_dump(exclude_unset=True)
    scores = {k: given[k] for k in alternatives.SCORES if k in given}
    extra: dict[str, Any] = {}
    if "cost_amount" in given:
        extra["cost_amount"] = payload.cost_amount
    if "currency" in given:
        extra["currency"] = payload.currency or ""
    if "state" in given and payload.state:
        extra["state"] = payload.state
    if scores or extra:
        alternative = alternatives.alternative_weigh(
            alternative=alternative, actor=request.auth, scores=scores, **extra
        )
    if payload.customer_preference:
        alternative = alternatives.alternative_prefer(
            alternative=alternative,
            preference=payload.customer_preference,
            note=payload.preference_note,
            actor=request.auth,
        )
    return AlternativeOut.of(_alternative(case, alternative_id))


@router.post(
    f"{CASE}/alternatives/{{alternative_id}}/choose",
    response=AlternativeOut,
    summary="Choose an alternative, with the reason",
)
def alternative_choose(request: ApiRequest, case_id: str, alternative_id: int, payload: ChooseIn):
    case = _case(request, case_id)
    alternatives.alternative_choose(
        alternative=_alternative(case, alternative_id), reason=payload.reason, actor=request.auth
    )
    return AlternativeOut.of(_alternative(case, alternative_id))


# --- Plan and consent --------------------------------------------------------------------


def _plan_out(case: Case) -> dict:
    plan = selectors.plan_current(case=case)
    if plan is None:
        raise Http404("This case has no plan yet.")
    return PlanOut.of(plan)


def _plan(case: Case) -> Plan:
    plan = Plan.objects.filter(case=case).order_by("-id").first()
    if plan is None:
        raise Http404("This case has no plan yet.")
    return plan


@router.get(f"{CASE}/plan", response=PlanOut, summary="The current plan")
def plan_get(request: ApiRequest, case_id: str):
    """The case's newest plan with its steps and consents. Customers may read their own."""
    return _plan_out(_case(request, case_id, staff=False))


@router.post(f"{CASE}/plan", response={201: PlanOut}, summary="Write a plan")
def plan_create(request: ApiRequest, case_id: str, payload: PlanIn):
    case = _case(request, case_id)
    alternative = (
        _alternative(case, payload.alternative_id) if payload.alternative_id is not None else None
    )
    plans.plan_create(
        case=case,
        summary=payload.summary,
        steps=payload.steps,
        expected_timeline=payload.expected_timeline,
        expected_by=payload.expected_by,
        alternative=alternative,
        actor=request.auth,
    )
    return Reply(201, _plan_out(case))


@router.post(f"{CASE}/plan/steps", response={201: PlanOut}, summary="Add a step to the plan")
def plan_step_create(request: ApiRequest, case_id: str, payload: StepIn):
    case = _case(request, case_id)
    plans.plan_step_add(plan=_plan(case), text=payload.text, actor=request.auth)
    return Reply(201, _plan_out(case))


@router.patch(f"{CASE}/plan/steps/{{step_id}}", response=PlanOut, summary="Update a step")
def plan_step_patch(request: ApiRequest, case_id: str, step_id: int, payload: StepPatchIn):
    """todo → doing → done (or blocked); the plan is done when every step is."""
    case = _case(request, case_id)
    step = _get(PlanStep.objects.all(), pk=step_id, plan__case=case)
    plans.plan_step_update(step=step, status=payload.status, note=payload.note, actor=request.auth)
    return _plan_out(case)


@router.post(f"{CASE}/plan/share", response=PlanOut, summary="Share the plan, ask consent")
def plan_share(request: ApiRequest, case_id: str):
    """Sent on the customer's channel with signed approve / decline / suggest links."""
    case = _case(request, case_id)
    plans.plan_share(plan=_plan(case), actor=request.auth)
    return _plan_out(case)


@router.post(f"{CASE}/plan/consent", response=PlanOut, summary="Record consent")
def plan_consent(request: ApiRequest, case_id: str, payload: ConsentIn):
    """Agents record what the customer said (a verbal yes on a call: channel `phone`).
    A customer answering for their own case is recorded with channel `portal`."""
    user = request.auth
    case = _case(request, case_id, staff=False)
    channel = payload.channel if user.is_agent_like else "portal"
    plans.plan_consent_record(
        plan=_plan(case), decision=payload.decision, channel=channel, note=payload.note, actor=user
    )
    return _plan_out(case)


@router.post(
    f"{CASE}/plan/updates",
    response={201: MessageRef},
    summary="Send the customer an update with the expected timeline",
)
def plan_update(request: ApiRequest, case_id: str, payload: UpdateIn):
    case = _case(request, case_id)
    message = plans.plan_update_send(plan=_plan(case), actor=request.auth, text=payload.text)
    return Reply(201, {"message_id": message.pk, "text": message.text})


# --- Escalations -------------------------------------------------------------------------


@router.get(f"{CASE}/handoff", response=HandoffOut, summary="Hand-off readiness and package")
def handoff_get(request: ApiRequest, case_id: str):
    """What an escalation would still lack, and the package the solver would receive."""
    case = _case(request, case_id)
    return {
        "missing": selectors.handoff_missing(case=case),
        "package": selectors.handoff_package(case=case),
    }


@router.get(f"{CASE}/escalations", response=list[EscalationOut], summary="Escalations")
def escalation_list(request: ApiRequest, case_id: str):
    case = _case(request, case_id)
    return [EscalationOut.of(e) for e in selectors.escalations_of(case=case)]


@router.post(
    f"{CASE}/escalations",
    response={201: EscalationOut},
    summary="Escalate (the owner stays the owner)",
)
def escalation_create(request: ApiRequest, case_id: str, payload: EscalateIn):
    """To a team (`to_team`) or a person (`to_user`). Refused with 422 and `missing` while
    the facts every hand-off needs are not recorded."""
    case = _case(request, case_id)
    team = user = remedy = None
    if payload.to_team:
        team = Team.objects.filter(slug=payload.to_team).first()
        if team is None:
            raise LoopError(f"no team '{payload.to_team}'")
    if payload.to_user:
        user = User.objects.filter(username=payload.to_user).first()
        if user is None:
            raise LoopError(f"no user '{payload.to_user}'")
    if payload.remedy:
        remedy = RemedyType.objects.filter(slug=payload.remedy).first()
        if remedy is None:
            raise LoopError(f"no remedy '{payload.remedy}'")
    escalation = escalations.case_escalate(
        case=case,
        actor=request.auth,
        reason=payload.reason,
        to_team=team,
        to_user=user,
        remedy=remedy,
        amount=payload.amount,
    )
    return Reply(201, EscalationOut.of(selectors.escalations_of(case=case).get(pk=escalation.pk)))


@router.get("/escalations", response=list[EscalationOut], summary="Escalations waiting on me")
def escalation_inbox(request: ApiRequest, state: str = ""):
    """Escalations sent to you or to a team of yours, or taken by you; newest first.
    `state=open` lists those nobody has accepted yet."""
    require_staff(request)
    if state and state not in Escalation.State.values:
        raise LoopError(f"unknown state '{state}'; use open, accepted, returned or solved")
    return [
        EscalationOut.of(e)
        for e in selectors.escalations_for_solver(user=request.auth, state=state)[:200]
    ]


def _escalation(case: Case, escalation_id: int) -> Escalation:
    return _get(selectors.escalations_of(case=case), pk=escalation_id)


@router.post(
    f"{CASE}/escalations/{{escalation_id}}/accept",
    response=EscalationOut,
    summary="Accept an escalation (become the assignee)",
)
def escalation_accept(request: ApiRequest, case_id: str, escalation_id: int):
    case = _case(request, case_id)
    escalations.escalation_accept(escalation=_escalation(case, escalation_id), solver=request.auth)
    return EscalationOut.of(_escalation(case, escalation_id))


@router.post(
    f"{CASE}/escalations/{{escalation_id}}/return",
    response=EscalationOut,
    summary="Return an escalation with a question",
)
def escalation_return(
    request: ApiRequest, case_id: str, escalation_id: int, payload: EscalationTextIn
):
    case = _case(request, case_id)
    escalations.escalation_return(
        escalation=_escalation(case, escalation_id), actor=request.auth, question=payload.text
    )
    return EscalationOut.of(_escalation(case, escalation_id))


@router.post(
    f"{CASE}/escalations/{{escalation_id}}/solved",
    response=EscalationOut,
    summary="Report an escalation solved",
)
def escalation_solved(
    request: ApiRequest, case_id: str, escalation_id: int, payload: EscalationTextIn
):
    """The case becomes solved; the owner is reminded until the customer confirms."""
    case = _case(request, case_id)
    escalations.escalation_solved(
        escalation=_escalation(case, escalation_id), actor=request.auth, solution=payload.text
    )
    return EscalationOut.of(_escalation(case, escalation_id))


# --- Follow-up ---------------------------------------------------------------------------


@router.get(f"{CASE}/follow-up", response=list[FollowUpOut], summary="Follow-ups")
def followup_list(request: ApiRequest, case_id: str):
    case = _case(request, case_id, staff=False)
    return [FollowUpOut.of(f) for f in FollowUp.objects.filter(case=case).order_by("id")]


@router.post(f"{CASE}/follow-up", response=FollowUpOut, summary="Answer the follow-up")
def followup_answer(request: ApiRequest, case_id: str, payload: FollowUpAnswerIn):
    """Is it solved? Yes closes the case; no reopens it to its owner. Customers answer for
    their own cases (channel `portal`); agents record an answer given by phone or mail."""
    user = request.auth
    case = _case(request, case_id, staff=False)
    channel = payload.channel if user.is_agent_like else "portal"
    followup = followups.followup_answer(
        case=case, solved=payload.solved, channel=channel, actor=user
    )
    return FollowUpOut.of(followup)


# --- Lessons and stages ------------------------------------------------------------------


@router.get(f"{CASE}/lessons", response=list[LessonOut], summary="Lessons from this case")
def case_lesson_list(request: ApiRequest, case_id: str):
    case = _case(request, case_id)
    return [LessonOut.of(lesson) for lesson in selectors.lessons_list().filter(case=case)]


@router.post(f"{CASE}/lessons", response={201: LessonOut}, summary="Record a lesson")
def lesson_create(request: ApiRequest, case_id: str, payload: LessonIn):
    """Once the case is solved or closed: what was learned, and whether it needs a prepared
    answer or a knowledge-base article."""
    case = _case(request, case_id)
    lesson = lessons.lesson_record(
        case=case,
        author=request.auth,
        summary=payload.summary,
        needs_prepared_answer=payload.needs_prepared_answer,
        needs_article=payload.needs_article,
    )
    return Reply(201, LessonOut.of(selectors.lessons_list().get(pk=lesson.pk)))


@router.get("/lessons", response=list[LessonOut], summary="Lessons for review")
def lesson_list(request: ApiRequest, state: str = ""):
    """Newest first; `state=open` lists those awaiting review."""
    require_staff(request)
    if state and state not in Lesson.State.values:
        raise LoopError(f"unknown state '{state}'; use open, reviewed or converted")
    return [LessonOut.of(lesson) for lesson in selectors.lessons_list(state=state)[:500]]


@router.patch("/lessons/{lesson_id}", response=LessonOut, summary="Review a lesson")
def lesson_patch(request: ApiRequest, lesson_id: int, payload: LessonPatchIn):
    require_staff(request)
    lesson = _get(Lesson.objects.all(), pk=lesson_id)
    lessons.lesson_review(lesson=lesson, state=payload.state, actor=request.auth)
    return LessonOut.of(selectors.lessons_list().get(pk=lesson_id))


@router.get(f"{CASE}/stages", response=StagesOut, summary="The loop's stages: done and next")
def stages_get(request: ApiRequest, case_id: str):
    """Each stage of the problem-solving loop with whether it is done, where it stands and
    what to do next; `next` is the one next step for the case."""
    case = _case(request, case_id)
    stages, following = selectors.case_stages(case=case)
    return {"stages": [s.as_dict() for s in stages], "next": following}
