"""Reads for the loop: current facts, the hand-off checklist, ranked alternatives, the
stages of a case with what is done and what is next, and the hand-off package."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.text import slugify
from django.utils.translation import gettext as _, gettext_lazy, gettext_noop

from caseloop.cases.models import (
    FINISHED_STATUSES,
    Alternative,
    AuthorityCheck,
    Case,
    CaseLink,
    Escalation,
    Fact,
    FactRequirement,
    FollowUp,
    Lesson,
    Message,
    NeedsDecision,
    Outcome,
    Plan,
    PlanStep,
    PolicyCheck,
    ProblemStatement,
    RepeatComplaint,
    Status,
)
from caseloop.customers.models import ContactPoint, PurchaseRecord

if TYPE_CHECKING:
    from caseloop.accounts.models import User

# Facts every hand-off needs, whatever the category. Name and contact come from the
# customer's profile when it has them; nature from the case's category when set.
HANDOFF_FACTS = [
    ("problem_at", gettext_noop("Date and time of the problem")),
    ("nature", gettext_noop("Nature of the problem")),
    ("customer_name", gettext_noop("Customer name")),
    ("customer_contact", gettext_noop("Customer contact details")),
]

# Weights of the alternative score (they sum to 1). Scores are 1–5 where 5 is best;
# for cost, 5 means cheapest. The score is the weighted mean of the criteria given, so an
# alternative weighed on fewer criteria is not penalised; an unweighed one ranks last.
SCORE_WEIGHTS = {"feasibility": 0.35, "impact": 0.30, "timeliness": 0.20, "cost": 0.15}
PREFERENCE_RANK = {"preferred": 0, "acceptable": 1, "unknown": 2, "rejected": 3}


def problem_statement_of(*, case: Case) -> ProblemStatement | None:
    return ProblemStatement.objects.filter(case=case).first()


def problem_statement_view(*, case: Case) -> ProblemStatement:
    """The stored statement, or an unsaved one holding the first inbound message's words
    (for cases opened before statements were kept): reading never writes."""
    statement = ProblemStatement.objects.select_related("paraphrased_by").filter(case=case).first()
    if statement is not None:
        return statement
    first = (
        Message.objects.filter(case=case, direction=Message.Direction.INBOUND)
        .order_by("id")
        .first()
    )
    return ProblemStatement(case=case, customer_words=first.text if first else "")


def facts_current(*, case: Case) -> dict[str, Fact]:
    """The newest fact per key."""
    current: dict[str, Fact] = {}
    for fact in Fact.objects.filter(case=case).select_related("recorded_by").order_by("id"):
        current[fact.key] = fact
    return current


def _customer_contact(case: Case) -> str:
    points = sorted(
        case.customer.contact_points.all(),
        key=lambda p: (not p.is_primary, p.kind != ContactPoint.Kind.EMAIL, p.id),
    )
    return f"{points[0].kind}: {points[0].value}" if points else ""


@dataclass
class ChecklistItem:
    key: str
    label: str
    required_for_handoff: bool
    value: str
    source: str

    @property
    def satisfied(self) -> bool:
        return bool(self.value.strip())

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "required_for_handoff": self.required_for_handoff,
            "value": self.value,
            "source": self.source,
            "satisfied": self.satisfied,
        }


def fact_requirements_of(*, case: Case) -> list[tuple[str, str, bool]]:
    """(key, label, required for a hand-off) of every fact the case asks for: the hand-off
    facts, then the desk-wide and the category's requirements; each key once."""
    requirements = FactRequirement.objects.filter(category__isnull=True)
    if case.category_id:
        requirements = requirements | FactRequirement.objects.filter(category_id=case.category_id)
    listed = [(key, _(label), True) for key, label in HANDOFF_FACTS] + [
        (r.key, r.label, r.required_for_handoff) for r in requirements.order_by("order", "key")
    ]
    seen: set[str] = set()
    unique = []
    for key, label, required in listed:
        if key not in seen:
            seen.add(key)
            unique.append((key, label, required))
    return unique


FACT_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def fact_key_for(*, case: Case, name: str) -> str:
    """The key a fact is recorded under, from what the agent picked or typed: a key the case
    asks for, or its label (case and spacing ignored: "date and time of the problem" is
    `problem_at`); else a key as given; else the words made into a key ("Serial number" is
    `serial_number`). Empty when `name` holds no letter or digit to make one of."""
    text = " ".join((name or "").split())
    if not text:
        return ""
    wanted = text.casefold()
    requirements = fact_requirements_of(case=case)
    for key, _label, _required in requirements:
        if wanted == key.casefold():
            return key
    for key, label, _required in requirements:
        if wanted == " ".join(label.split()).casefold():
            return key
    if FACT_KEY.match(wanted):
        return wanted
    return slugify(text).replace("-", "_")[:64].strip("_")


def fact_checklist(*, case: Case, facts: dict[str, Fact] | None = None) -> list[ChecklistItem]:
    """The hand-off facts, then the desk-wide and category requirements, each with its
    current value and where it came from."""
    facts = facts_current(case=case) if facts is None else facts
    derived = {
        "customer_name": (case.customer.name, "profile"),
        "customer_contact": (_customer_contact(case), "profile"),
        "nature": (case.category.name if case.category else "", "category"),
    }
    items: list[ChecklistItem] = []
    for key, label, required in fact_requirements_of(case=case):
        if key in facts:
            value, source = facts[key].value, facts[key].source
        else:
            value, source = derived.get(key, ("", ""))
        items.append(ChecklistItem(key, label, required, value or "", source if value else ""))
    return items


def handoff_missing(*, case: Case) -> list[dict[str, Any]]:
    """What a hand-off still lacks: [{"key", "label"}], in checklist order."""
    return [
        {"key": item.key, "label": item.label}
        for item in fact_checklist(case=case)
        if item.required_for_handoff and not item.satisfied
    ]


def purchase_for_case(
    *, case: Case, facts: dict[str, Fact] | None = None
) -> tuple[PurchaseRecord | None, str]:
    """The purchase a case is about: the order named in the `order_id` fact, else the
    purchase linked to the case, else the customer's most recent one."""
    facts = facts_current(case=case) if facts is None else facts
    purchases = PurchaseRecord.objects.filter(customer_id=case.customer_id)
    if "order_id" in facts:
        named = purchases.filter(order_id=facts["order_id"].value.strip()).first()
        if named:
            return named, "the order named in the facts"
    link = (
        CaseLink.objects.filter(case=case, kind=CaseLink.Kind.PURCHASE, purchase__isnull=False)
        .select_related("purchase")
        .order_by("-id")
        .first()
    )
    if link:
        return link.purchase, "the purchase linked to the case"
    latest = purchases.order_by("-purchased_at").first()
    return latest, ("the customer's most recent purchase" if latest else "")


def alternative_score(alternative: Alternative) -> float | None:
    """The weighted mean (1–5) of the criteria given; None when not weighed at all."""
    total = weight = 0.0
    for name, w in SCORE_WEIGHTS.items():
        value = getattr(alternative, name)
        if value is not None:
            total += w * value
            weight += w
    return round(total / weight, 2) if weight else None


def alternatives_ranked(*, case: Case) -> list[Alternative]:
    """Best first: the chosen one, then by score, then the customer's preference, then age.
    Tried alternatives go after those, and rejected ones — by the agent or by the customer,
    whatever their score — last."""
    alternatives = list(Alternative.objects.filter(case=case).select_related("chosen_by"))
    state_rank = {"chosen": 0, "considered": 1, "tried": 2, "rejected": 3}

    def key(a: Alternative) -> tuple[int, float, int, int]:
        score = alternative_score(a)
        customer_rejected = a.customer_preference == Alternative.Preference.REJECTED
        return (
            state_rank["rejected"] if customer_rejected else state_rank.get(a.state, 1),
            -(score if score is not None else 0),
            PREFERENCE_RANK.get(a.customer_preference, 2),
            a.id,
        )

    ranked = sorted(alternatives, key=key)
    for position, alternative in enumerate(ranked, start=1):
        alternative.rank = position
        alternative.score = alternative_score(alternative)
    return ranked


def plan_current(*, case: Case) -> Plan | None:
    return (
        Plan.objects.filter(case=case)
        .select_related("alternative", "created_by")
        .prefetch_related(
            Prefetch("steps", queryset=PlanStep.objects.order_by("position", "id")),
            "consents",
        )
        .order_by("-id")
        .first()
    )


def needs_decision_latest(*, case: Case) -> NeedsDecision | None:
    return (
        NeedsDecision.objects.filter(case=case)
        .prefetch_related(Prefetch("checks", queryset=PolicyCheck.objects.order_by("id")))
        .order_by("-id")
        .first()
    )


def escalations_of(*, case: Case) -> QuerySet[Escalation]:
    return (
        Escalation.objects.filter(case=case)
        .select_related("to_team", "to_user", "owner", "solver", "remedy", "escalated_by")
        .order_by("id")
    )


def escalations_for_solver(*, user: User, state: str = "") -> QuerySet[Escalation]:
    """Escalations waiting on `user`: sent to them, or to a team they belong to, or taken
    by them. Newest first."""
    mine = Q(to_user=user) | Q(to_team__members=user) | Q(solver=user)
    escalations = (
        Escalation.objects.filter(mine)
        .distinct()
        .select_related("case", "to_team", "to_user", "owner", "solver", "remedy", "escalated_by")
        .order_by("-id")
    )
    return escalations.filter(state=state) if state else escalations


def followup_latest(*, case: Case) -> FollowUp | None:
    return FollowUp.objects.filter(case=case).order_by("-id").first()


def lessons_list(*, state: str = "") -> QuerySet[Lesson]:
    lessons = Lesson.objects.select_related("case", "author").order_by("-id")
    return lessons.filter(state=state) if state else lessons


def case_history_excerpt(*, case: Case, limit: int = 10) -> list[dict[str, Any]]:
    """The last `limit` messages, oldest first, text cut to 500 characters."""
    recent = list(
        Message.objects.filter(case=case).select_related("author_user").order_by("-id")[:limit]
    )
    return [
        {
            "at": m.created_at.isoformat(),
            "direction": m.direction,
            "channel": m.channel,
            "author": m.author_user.username if m.author_user else "customer",
            "text": m.text[:500],
        }
        for m in reversed(recent)
    ]


def repeat_history(*, case: Case) -> list[RepeatComplaint]:
    return list(
        RepeatComplaint.objects.filter(case=case).select_related("earlier_case").order_by("id")
    )


def case_resolution_text(*, case: Case) -> str:
    """How the case was solved, in words: the chosen alternative, the plan's summary and
    the solution of a solved escalation, else the last reply sent to the customer."""
    parts: list[str] = []
    chosen = Alternative.objects.filter(case=case, state=Alternative.State.CHOSEN).last()
    if chosen:
        parts.append(chosen.title + (f"\n{chosen.description}" if chosen.description else ""))
    plan = Plan.objects.filter(case=case).order_by("-id").first()
    if plan:
        parts.append(plan.summary)
    solved = (
        Escalation.objects.filter(case=case, state=Escalation.State.SOLVED)
        .exclude(solution="")
        .order_by("-id")
        .first()
    )
    if solved:
        parts.append(solved.solution)
    if parts:
        return "\n\n".join(parts)
    replies = Message.objects.filter(case=case, direction=Message.Direction.OUTBOUND)
    for message in replies.order_by("-id")[:50]:
        # System messages (acknowledgements, follow-up questions) do not say how it was solved.
        if not (message.metadata or {}).get("system") and not (message.metadata or {}).get("loop"):
            return message.text
    return ""


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def handoff_package(*, case: Case) -> dict[str, Any]:
    """Everything a solver needs so they never have to ask again."""
    facts = facts_current(case=case)
    statement = problem_statement_of(case=case)
    decision = needs_decision_latest(case=case)
    plan = plan_current(case=case)
    checklist = [item.as_dict() for item in fact_checklist(case=case, facts=facts)]
    return {
        "summary": {
            "reference": case.reference,
            "subject": case.subject,
            "status": case.status,
            "priority": case.priority,
            "category": case.category.name if case.category else None,
            "owner": case.owner.username if case.owner else None,
            "customer": case.customer.name,
            "opened_at": case.created_at.isoformat(),
        },
        "problem_statement": {
            "customer_words": statement.customer_words if statement else "",
            "paraphrase": statement.paraphrase if statement else "",
            "confirmation": statement.confirmation if statement else "not_sent",
            "correction": statement.correction if statement else "",
        },
        "facts": checklist
        + [
            {"key": f.key, "label": f.key, "value": f.value, "source": f.source}
            for key, f in facts.items()
            if key not in {item["key"] for item in checklist}
        ],
        "needs_decision": (
            {"outcome": decision.outcome, "summary": decision.summary} if decision else None
        ),
        "policy_checks": [
            {"policy": c.policy_name, "outcome": c.outcome, "explanation": c.explanation}
            for c in (decision.checks.all() if decision else [])
        ],
        "authority_checks": [
            {
                "agent": c.agent.username,
                "remedy": c.remedy.name,
                "amount": _money(c.amount),
                "currency": c.currency,
                "solve_now": c.solve_now,
                "reason": c.reason,
            }
            for c in AuthorityCheck.objects.filter(case=case)
            .select_related("agent", "remedy")
            .order_by("id")
        ],
        "alternatives": [
            {
                "title": a.title,
                "description": a.description,
                "source": a.source,
                "state": a.state,
                "score": a.score,
                "customer_preference": a.customer_preference,
            }
            for a in alternatives_ranked(case=case)
        ],
        "plan": (
            {
                "summary": plan.summary,
                "state": plan.state,
                "expected_timeline": plan.expected_timeline,
                "steps": [{"text": s.text, "status": s.status} for s in plan.steps.all()],
            }
            if plan
            else None
        ),
        "links": [
            {"kind": link.kind, "ref": link_ref(link), "note": link.note}
            for link in CaseLink.objects.filter(case=case).select_related(
                "purchase", "linked_case", "attachment"
            )
        ],
        "history": case_history_excerpt(case=case),
    }


def link_ref(link: CaseLink) -> str:
    if link.kind == CaseLink.Kind.PURCHASE and link.purchase is not None:
        return f"order {link.purchase.order_id} ({link.purchase.product})"
    if link.kind == CaseLink.Kind.CASE and link.linked_case is not None:
        return link.linked_case.reference or str(link.linked_case_id)
    if link.kind == CaseLink.Kind.ATTACHMENT and link.attachment is not None:
        return link.attachment.filename
    return link.article_ref or link.url


@dataclass
class Stage:
    key: str
    title: str
    done: bool
    status: str
    next: str
    applies: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "done": self.done,
            "applies": self.applies,
            "status": self.status,
            "next": self.next,
        }


# The loop's stages in order, by the keys `case_stages` gives them: what other parts of the
# desk (prepared responses, say) name a stage by.
LOOP_STAGES = {
    "problem": gettext_lazy("Problem statement"),
    "needs": gettext_lazy("Does it need solving?"),
    "authority": gettext_lazy("Solve now or escalate?"),
    "facts": gettext_lazy("Gather data"),
    "alternatives": gettext_lazy("Alternatives"),
    "plan": gettext_lazy("Plan and consent"),
    "implement": gettext_lazy("Implement"),
    "escalation": gettext_lazy("Escalation"),
    "follow_up": gettext_lazy("Follow up"),
    "lessons": gettext_lazy("Lessons learned"),
}


def stage_current(stages: list[Stage], following: str) -> str:
    """The key of the stage the case's one next step belongs to; empty when nothing is
    left to do."""
    return next(
        (s.key for s in stages if s.applies and not s.done and s.next and s.next == following),
        "",
    )


def case_stage_current(*, case: Case) -> str:
    """Where the case stands in the loop: the stage its next step belongs to."""
    stages, following = case_stages(case=case)
    return stage_current(stages, following)


def case_stages(*, case: Case) -> tuple[list[Stage], str]:
    """Each stage of the loop with whether it is done, where it stands and what to do next;
    and the one next step for the case as a whole."""
    statement = problem_statement_of(case=case)
    decision = NeedsDecision.objects.filter(case=case).order_by("-id").first()
    authority = AuthorityCheck.objects.filter(case=case).order_by("-id").first()
    missing = handoff_missing(case=case)
    chosen = Alternative.objects.filter(case=case, state=Alternative.State.CHOSEN).last()
    alternatives_count = Alternative.objects.filter(case=case).count()
    plan = plan_current(case=case)
    escalations = list(Escalation.objects.filter(case=case).order_by("id"))
    followup = followup_latest(case=case)
    lessons = Lesson.objects.filter(case=case).count()
    no_action = decision is not None and decision.outcome == Outcome.NO_ACTION_WANTED
    facts_missing = ", ".join(str(m["label"]) for m in missing)
    # The steps that wait on someone else, in whatever language they are worded.
    waits: set[str] = set()

    def waiting(text: str) -> str:
        waits.add(text)
        return text

    stages: list[Stage] = []
    if statement is None or not statement.paraphrase:
        stages.append(
            Stage(
                "problem", _("Problem statement"), False, _("no paraphrase yet"), _("Paraphrase it")
            )
        )
    else:
        answered = statement.confirmation in ("confirmed", "corrected")
        nxt = {
            "not_sent": _("Send the paraphrase to the customer to confirm"),
            "sent": waiting(_("Wait for the customer to confirm the paraphrase")),
        }.get(statement.confirmation, "")
        stages.append(
            Stage(
                "problem",
                _("Problem statement"),
                answered,
                statement.get_confirmation_display(),
                nxt,
            )
        )
    stages.append(
        Stage(
            "needs",
            _("Does it need solving?"),
            decision is not None,
            decision.get_outcome_display() if decision else _("not checked"),
            "" if decision else _("Run the policy check"),
        )
    )
    active = not no_action
    stages.append(
        Stage(
            "authority",
            _("Solve now or escalate?"),
            authority is not None or bool(escalations),
            (
                (_("solve now") if authority.solve_now else _("escalate"))
                if authority
                else (_("escalated") if escalations else _("not checked"))
            ),
            "" if authority or escalations else _("Check your authority for the remedy"),
            applies=active,
        )
    )
    stages.append(
        Stage(
            "facts",
            _("Gather data"),
            not missing,
            _("complete") if not missing else _("missing %(facts)s") % {"facts": facts_missing},
            "" if not missing else _("Record %(facts)s") % {"facts": facts_missing},
            applies=active,
        )
    )
    stages.append(
        Stage(
            "alternatives",
            _("Alternatives"),
            chosen is not None,
            (
                _("chosen: %(title)s") % {"title": chosen.title}
                if chosen
                else _("%(count)s considered") % {"count": alternatives_count}
            ),
            ""
            if chosen
            else (_("Weigh them and choose one") if alternatives_count else _("Add alternatives")),
            applies=active,
        )
    )
    plan_ok = plan is not None and plan.state in (Plan.State.APPROVED, Plan.State.DONE)
    plan_next = ""
    if plan is None:
        plan_next = _("Write the plan")
    elif plan.state == Plan.State.DRAFT:
        plan_next = _("Share the plan and ask for consent")
    elif plan.state == Plan.State.SHARED:
        plan_next = waiting(_("Wait for the customer's consent"))
    elif plan.state in (Plan.State.DECLINED, Plan.State.COUNTERED):
        plan_next = _("Revise the plan with the customer")
    stages.append(
        Stage(
            "plan",
            _("Plan and consent"),
            plan_ok,
            plan.get_state_display() if plan else _("no plan"),
            plan_next,
            applies=active,
        )
    )
    steps = list(plan.steps.all()) if plan else []
    steps_done = sum(1 for s in steps if s.status == PlanStep.Status.DONE)
    implemented = plan is not None and (
        plan.state == Plan.State.DONE or (bool(steps) and steps_done == len(steps))
    )
    stages.append(
        Stage(
            "implement",
            _("Implement"),
            implemented,
            (
                _("%(done)s/%(total)s steps done") % {"done": steps_done, "total": len(steps)}
                if plan
                else _("nothing to do yet")
            ),
            "" if implemented or not plan_ok else _("Work the plan's steps; update the customer"),
            applies=active,
        )
    )
    needs_escalation = authority is not None and not authority.solve_now
    # Waiting on a solver: an escalation not yet solved nor returned. A returned one waits
    # on the owner while it is the newest; a newer escalation supersedes it.
    latest = escalations[-1] if escalations else None
    open_escalations = [
        e for e in escalations if e.state in (Escalation.State.OPEN, Escalation.State.ACCEPTED)
    ]
    returned = latest is not None and latest.state == Escalation.State.RETURNED
    if escalations:
        esc_status = ", ".join(e.get_state_display().lower() for e in escalations)
        if open_escalations:
            esc_next = waiting(_("Wait for the solver"))
        elif returned:
            esc_next = _("Answer the solver's question, then escalate again")
        else:
            esc_next = ""
    else:
        esc_status = _("needed") if needs_escalation else _("not needed")
        esc_next = _("Escalate with the hand-off package") if needs_escalation else ""
    stages.append(
        Stage(
            "escalation",
            _("Escalation"),
            bool(escalations) and not open_escalations and not returned,
            esc_status,
            esc_next,
            applies=active and (needs_escalation or bool(escalations)),
        )
    )
    fu_done = followup is not None and followup.state in (
        FollowUp.State.CONFIRMED,
        FollowUp.State.CLOSED_NO_ANSWER,
    )
    if case.status == Status.SOLVED and (followup is None or not followup.is_active):
        # Scheduled by the status hook just after the case became solved (again).
        fu_done = False
        fu_status = _("being scheduled")
        fu_next = _("The customer will be asked to confirm")
    elif followup is None:
        fu_status = _("not scheduled")
        fu_next = _("Solve the case; the follow-up is scheduled then")
    else:
        fu_status = followup.get_state_display()
        next_by_state: dict[str, str] = {
            FollowUp.State.SCHEDULED: _("The customer will be asked to confirm"),
            FollowUp.State.ASKED: waiting(_("Wait for the customer to confirm")),
            FollowUp.State.REOPENED: _("The customer says it is not solved: work it again"),
            FollowUp.State.CANCELLED: _("Solve the case again"),
        }
        fu_next = next_by_state.get(followup.state, "")
    stages.append(Stage("follow_up", _("Follow up"), fu_done, fu_status, fu_next))
    closed = case.status == Status.CLOSED
    stages.append(
        Stage(
            "lessons",
            _("Lessons learned"),
            lessons > 0,
            _("%(count)s recorded") % {"count": lessons},
            ""
            if lessons
            else (_("Record what was learned") if closed else _("At close: record it")),
        )
    )
    # Once solved, only the follow-up and the lessons are still to come.
    finished = case.status in FINISHED_STATUSES
    pending = [
        s.next
        for s in stages
        if s.applies
        and not s.done
        and s.next
        and (not finished or s.key in ("follow_up", "lessons"))
    ]
    # Something to do beats something to wait for.
    following = next((n for n in pending if n not in waits), pending[0] if pending else "")
    return stages, following
