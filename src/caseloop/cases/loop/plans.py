"""Plan and consent, and implementing it: the plan is shared on the customer's channel,
consent is recorded with time and channel, steps are worked, the customer kept informed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from caseloop.accounts.models import User
from caseloop.cases.models import Alternative, Case, Consent, Message, Plan, PlanStep
from caseloop.cases.services import _ensure_owner, event_record, message_add

from .errors import LoopError, LoopStateError
from .events import LoopEvent
from .guards import case_locked as _locked, is_staff as _staff, require_staff as _require_staff
from .letters import letter_compose, letter_language
from .tokens import link_url


@transaction.atomic
def plan_create(
    *,
    case: Case,
    summary: str,
    actor: User,
    steps: Sequence[str] = (),
    expected_timeline: str = "",
    expected_by: datetime | None = None,
    alternative: Alternative | None = None,
) -> Plan:
    """Write the plan (by default for the chosen alternative).
    Side effects: a `plan_created` event."""
    _require_staff(actor)
    summary = (summary or "").strip()
    if not summary:
        raise LoopError("a plan needs a summary")
    case = _locked(case)
    if alternative is None:
        alternative = Alternative.objects.filter(case=case, state=Alternative.State.CHOSEN).last()
    elif alternative.case_id != case.pk:
        raise LoopError("that alternative belongs to another case")
    plan = Plan.objects.create(
        case=case,
        alternative=alternative,
        summary=summary,
        expected_timeline=(expected_timeline or "")[:300],
        expected_by=expected_by,
        created_by=actor,
    )
    PlanStep.objects.bulk_create(
        [
            PlanStep(plan=plan, position=i, text=text.strip()[:500])
            for i, text in enumerate(steps)
            if text and text.strip()
        ]
    )
    _ensure_owner(case=case, actor=actor)
    event_record(
        case=case,
        actor=actor,
        kind=LoopEvent.PLAN_CREATED,
        data={
            "plan": plan.pk,
            "alternative": alternative.pk if alternative else None,
            "steps": plan.steps.count(),
        },
    )
    return plan


def _timeline(plan: Plan) -> str:
    parts = []
    if plan.expected_timeline:
        parts.append(plan.expected_timeline)
    if plan.expected_by:
        when = timezone.localtime(plan.expected_by).strftime("%Y-%m-%d %H:%M")
        parts.append(gettext("by %(when)s") % {"when": when})
    return ", ".join(parts) or gettext("as soon as we can")


def plan_consent_text(*, plan: Plan, agent: User | None) -> str:
    """The plan as a letter from `agent`, asking permission to proceed with signed approve /
    decline / suggest-something-else links."""
    steps = "".join(f"  {i}. {s.text}\n" for i, s in enumerate(plan.steps.all(), start=1))
    links = {
        answer: link_url(purpose="plan", object_id=plan.pk, answer=answer)
        for answer in ("approved", "declined", "counter")
    }
    with letter_language(case=plan.case):
        body = (
            gettext("Here is what we propose:")
            + f"\n\n{plan.summary}\n\n"
            + (gettext("Steps:") + f"\n{steps}\n" if steps else "")
            + gettext("Expected: %(when)s.") % {"when": _timeline(plan)}
            + "\n\n"
            + gettext(
                "May we go ahead?\n"
                "Yes, go ahead: %(approved)s\n"
                "No: %(declined)s\n"
                "I would suggest something else: %(counter)s\n"
                "You can also simply reply to this message."
            )
            % links
        )
    return letter_compose(case=plan.case, agent=agent, body=body)


@transaction.atomic
def plan_share(*, plan: Plan, actor: User) -> Message:
    """Share the plan with the customer on their channel and ask permission to proceed,
    with signed approve / decline / suggest-something-else links.
    Side effects: an outbound message (delivered after commit); a `plan_shared` event."""
    _require_staff(actor)
    plan = Plan.objects.select_for_update().select_related("case").get(pk=plan.pk)
    if plan.state in (Plan.State.APPROVED, Plan.State.DONE):
        raise LoopStateError(f"the plan is already {plan.state}")
    text = plan_consent_text(plan=plan, agent=actor)
    message = message_add(
        case=plan.case,
        direction=Message.Direction.OUTBOUND,
        text=text,
        actor=actor,
        metadata={"loop": "plan_consent", "plan": plan.pk},
    )
    plan.state = Plan.State.SHARED
    plan.shared_at = timezone.now()
    plan.shared_message = message
    plan.save(update_fields=["state", "shared_at", "shared_message"])
    event_record(
        case=plan.case,
        actor=actor,
        kind=LoopEvent.PLAN_SHARED,
        data={"plan": plan.pk, "message": message.pk, "channel": message.channel},
    )
    return message


CONSENT_STATE: dict[str, str] = {
    Consent.Decision.APPROVED: Plan.State.APPROVED,
    Consent.Decision.DECLINED: Plan.State.DECLINED,
    Consent.Decision.COUNTER: Plan.State.COUNTERED,
}


@transaction.atomic
def plan_consent_record(
    *,
    plan: Plan,
    decision: str,
    channel: str,
    note: str = "",
    actor: User | None = None,
) -> Consent:
    """Record the customer's answer to a plan — approved, declined or a counter-proposal
    (which needs the customer's words in `note`) — with its channel and time. A verbal yes
    is recorded by the agent with channel "phone". Only the case's newest plan can be
    answered. Side effects: a Consent; the plan's state; a `plan_consent` event."""
    if decision not in Consent.Decision.values:
        raise LoopError(f"unknown decision '{decision}'; use approved, declined or counter")
    if channel not in Consent.Channel.values:
        raise LoopError(f"unknown channel '{channel}'")
    note = (note or "").strip()
    if decision == Consent.Decision.COUNTER and not note:
        raise LoopError("a counter-proposal needs the customer's suggestion")
    plan = Plan.objects.select_for_update().select_related("case").get(pk=plan.pk)
    newest = Plan.objects.filter(case=plan.case).order_by("-id").values_list("pk", flat=True)[0]
    if newest != plan.pk:
        raise LoopStateError("this plan has been replaced by a newer one")
    if plan.state == Plan.State.DONE:
        raise LoopStateError("this plan has already been carried out")
    if plan.state == Plan.State.DRAFT and channel != Consent.Channel.PHONE:
        raise LoopStateError("the plan has not been shared with the customer yet")
    if channel == Consent.Channel.PHONE and not _staff(actor):
        raise LoopError("a verbal answer is recorded by the agent who heard it")
    consent = Consent.objects.create(
        plan=plan,
        decision=decision,
        channel=channel,
        note=note[:5000],
        recorded_by=actor if actor is not None and actor.is_authenticated else None,
    )
    before = plan.state
    plan.state = CONSENT_STATE[decision]
    plan.save(update_fields=["state"])
    event_record(
        case=plan.case,
        actor=actor if actor is not None and actor.is_authenticated else None,
        kind=LoopEvent.PLAN_CONSENT,
        data={
            "plan": plan.pk,
            "consent": consent.pk,
            "decision": decision,
            "channel": channel,
            "note": consent.note,
            "before": before,
            "after": plan.state,
        },
    )
    return consent


@transaction.atomic
def plan_step_add(*, plan: Plan, text: str, actor: User) -> PlanStep:
    """Side effects: a `plan_step_changed` event."""
    _require_staff(actor)
    text = (text or "").strip()
    if not text:
        raise LoopError("a step needs text")
    plan = Plan.objects.select_for_update().select_related("case").get(pk=plan.pk)
    position = plan.steps.order_by("-position").values_list("position", flat=True).first() or 0
    step = PlanStep.objects.create(plan=plan, position=position + 1, text=text[:500])
    event_record(
        case=plan.case,
        actor=actor,
        kind=LoopEvent.PLAN_STEP_CHANGED,
        data={"plan": plan.pk, "step": step.pk, "text": step.text, "before": None, "after": "todo"},
    )
    return step


@transaction.atomic
def plan_step_update(*, step: PlanStep, status: str, actor: User, note: str = "") -> PlanStep:
    """Move a step along todo/doing/done/blocked; the plan is done when every step is.
    Side effects: a `plan_step_changed` event."""
    _require_staff(actor)
    if status not in PlanStep.Status.values:
        raise LoopError(f"unknown step status '{status}'")
    step = PlanStep.objects.select_for_update().select_related("plan__case").get(pk=step.pk)
    plan = step.plan
    if plan.state not in (Plan.State.APPROVED, Plan.State.DONE) and status != PlanStep.Status.TODO:
        raise LoopStateError("work starts once the customer has approved the plan")
    before = step.status
    step.status = status
    if note:
        step.note = note
    step.save()
    all_done = not plan.steps.exclude(status=PlanStep.Status.DONE).exists()
    plan_after = plan.state
    if all_done and plan.state == Plan.State.APPROVED:
        plan_after = Plan.State.DONE
    elif not all_done and plan.state == Plan.State.DONE:
        plan_after = Plan.State.APPROVED
    if plan_after != plan.state:
        plan.state = plan_after
        plan.save(update_fields=["state"])
    event_record(
        case=plan.case,
        actor=actor,
        kind=LoopEvent.PLAN_STEP_CHANGED,
        data={
            "plan": plan.pk,
            "step": step.pk,
            "text": step.text,
            "before": before,
            "after": status,
            "note": note,
            "plan_state": plan.state,
        },
    )
    return step


def plan_update_text(*, plan: Plan) -> str:
    with letter_language(case=plan.case):
        return _plan_update_text(plan)


def _plan_update_text(plan: Plan) -> str:
    steps = list(plan.steps.all())
    done = [s for s in steps if s.status == PlanStep.Status.DONE]
    lines = [gettext("An update on your case %(ref)s:") % {"ref": plan.case.reference}, ""]
    if steps:
        lines.append(
            ngettext(
                "%(done)s of %(total)s step is done.",
                "%(done)s of %(total)s steps are done.",
                len(steps),
            )
            % {"done": len(done), "total": len(steps)}
        )
        for step in steps:
            lines.append(f"  [{step.get_status_display()}] {step.text}")
        lines.append("")
    lines.append(
        gettext("Everything is done.")
        if plan.state == Plan.State.DONE
        else gettext("We expect to finish %(when)s.") % {"when": _timeline(plan)}
    )
    return "\n".join(lines)


def plan_update_letter(*, plan: Plan, agent: User | None, note: str = "") -> str:
    """Where the plan stands, after the agent's own `note` when there is one, as a letter
    from `agent`."""
    body = plan_update_text(plan=plan)
    if note.strip():
        body = note.strip() + "\n\n" + body
    return letter_compose(case=plan.case, agent=agent, body=body)


@transaction.atomic
def plan_update_send(*, plan: Plan, actor: User, text: str = "") -> Message:
    """Tell the customer where the plan stands and when it is expected to finish.
    Side effects: an outbound message; a `plan_update_sent` event."""
    _require_staff(actor)
    plan = Plan.objects.select_related("case").get(pk=plan.pk)
    body = plan_update_letter(plan=plan, agent=actor, note=text)
    message = message_add(
        case=plan.case,
        direction=Message.Direction.OUTBOUND,
        text=body,
        actor=actor,
        metadata={"loop": "plan_update", "plan": plan.pk},
    )
    event_record(
        case=plan.case,
        actor=actor,
        kind=LoopEvent.PLAN_UPDATE_SENT,
        data={"plan": plan.pk, "message": message.pk, "timeline": _timeline(plan)},
    )
    return message
