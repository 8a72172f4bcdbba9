"""Writes for triage: triaging a case (category, priority, mood, route), reading the mood of
new messages, and recording agents' decisions as training data."""

from __future__ import annotations

import logging

from django.db import transaction

from caseloop.cases.errors import CaseValidationError
from caseloop.cases.models import (
    PRIORITY_RANK,
    Case,
    CaseEvent,
    Category,
    Message,
    RepeatComplaint,
)
from caseloop.cases.services import case_update, event_record

from . import learning
from .events import MOOD_FLAGGED, TRIAGED
from .models import CaseTriage, MessageMood, ModelVersion, TriageLabel
from .mood import COMPLAINT_THRESHOLD, mood_read, mood_trend
from .priority import PriorityContext, PriorityResult, priority_score
from .routing import case_route
from .selectors import cases_complaint_ids, priority_apply_model

logger = logging.getLogger(__name__)

NEEDS_REVIEW_TAG = "needs-review"
COMPLAINT_TAG = "complaint"
REPEAT_LOOKBACK = 20


def _mood_values(message: Message) -> dict:
    mood = mood_read(message.text)
    return {
        "case_id": message.case_id,
        "compound": mood.compound,
        "score": mood.score,
        "label": mood.label,
        "frustrated": mood.frustrated,
        "wants_to_be_heard": mood.wants_to_be_heard,
        "complaint_probability": mood.complaint_probability,
        "cues": mood.cues,
    }


def _message_mood_store(*, message: Message) -> MessageMood:
    stored, _ = MessageMood.objects.update_or_create(
        message=message, defaults=_mood_values(message)
    )
    return stored


def _moods_store(messages: list[Message]) -> list[MessageMood]:
    """Read the mood of each message and keep it, in the messages' order: one query for
    the moods read before (they are read again), one insert for the new ones."""
    kept = {mood.message_id: mood for mood in MessageMood.objects.filter(message__in=messages)}
    moods, new, changed = [], [], []
    fields: list[str] = []
    for message in messages:
        values = _mood_values(message)
        fields = list(values)
        mood = kept.get(message.pk)
        if mood is None:
            mood = MessageMood(message=message, **values)
            new.append(mood)
        else:
            for field, value in values.items():
                setattr(mood, field, value)
            changed.append(mood)
        moods.append(mood)
    if new:
        MessageMood.objects.bulk_create(new)
    if changed:
        MessageMood.objects.bulk_update(changed, fields=fields)
    return moods


def mood_summary(moods: list[MessageMood]) -> dict:
    """The case's mood from its messages' moods, oldest first."""
    if not moods:
        return {"messages": 0, "trend": mood_trend([]), "flags": [], "complaint_probability": 0.0}
    last = moods[-1]
    flags = []
    if any(m.frustrated for m in moods[-3:]):
        flags.append("frustrated")
    if last.wants_to_be_heard:
        flags.append("wants_to_be_heard")
    complaint = max(m.complaint_probability for m in moods)
    if complaint >= COMPLAINT_THRESHOLD:
        flags.append("complaint")
    trend = mood_trend([m.score for m in moods])
    if trend["direction"] == "worsening":
        flags.append("worsening")
    return {
        "messages": len(moods),
        "last": {"label": last.label, "score": round(last.score, 4), "compound": last.compound},
        "trend": trend,
        "flags": flags,
        "complaint_probability": round(complaint, 4),
        "cues": sorted({cue for m in moods for cue in m.cues}),
    }


def _case_moods(case_id: int) -> list[MessageMood]:
    return list(MessageMood.objects.filter(case_id=case_id).order_by("message__created_at", "id"))


def _repeat_complaint(case: Case) -> tuple[bool, str]:
    """Is the customer coming back about a complaint that is still unresolved — another open
    case of theirs, or an earlier message in this one?"""
    earlier = list(
        Case.objects.filter(customer_id=case.customer_id)
        .exclude(pk=case.pk)
        .open()
        .select_related("category")
        .order_by("-id")[:REPEAT_LOOKBACK]
    )
    complaints = cases_complaint_ids(cases=earlier)
    for other in earlier:
        if other.pk in complaints:
            return True, f"open complaint {other.reference}"
    inbound = list(
        MessageMood.objects.filter(case_id=case.pk, message__direction=Message.Direction.INBOUND)
        .order_by("message__created_at", "id")
        .values_list("complaint_probability", flat=True)
    )
    # Writing again on an open case counts when either the earlier messages or this one
    # complain: the customer is back and the complaint is not resolved.
    if len(inbound) > 1 and max(inbound) >= COMPLAINT_THRESHOLD and case.is_open:
        return True, "wrote again about an unresolved complaint in this case"
    return False, ""


def _priority_for(*, case: Case, text: str, mood_score: float) -> PriorityResult:
    customer = case.customer
    organization = customer.organization
    repeat, detail = _repeat_complaint(case)
    context = PriorityContext(
        is_vip=customer.is_vip,
        service_level=organization.service_level if organization else "",
        repeat_complaint=repeat,
        repeat_detail=detail,
        mood_score=mood_score,
    )
    return priority_apply_model(priority_score(text=text, context=context), text=text)


def _agent_decided(case: Case, field_kind: str) -> bool:
    """Has a person (not triage) already set this field on the case?"""
    return CaseEvent.objects.filter(case=case, kind=field_kind, actor__isnull=False).exists()


@transaction.atomic
def case_triage_run(*, case_id: int, route: bool = True) -> CaseTriage:
    """Triage a case: read every inbound message's mood, guess the category (applied only
    when confident, else the case needs review), score priority with its factors, route.
    Fields an agent already set are left alone.
    Side effects: CaseTriage and MessageMood rows; category/priority/tag field events through
    case_update with reasons; a `triaged` event; routing's events."""
    case = Case.objects.select_related("customer__organization", "category").get(pk=case_id)
    policy = learning.policy_get()
    messages = list(
        Message.objects.filter(case=case, direction=Message.Direction.INBOUND).order_by(
            "created_at", "id"
        )
    )
    # Moods exist only for inbound messages, so these are all of the case's.
    moods = _moods_store(messages)
    text = learning.case_text(
        subject=case.subject, first_message=messages[0].text if messages else ""
    )
    guess = learning.category_guess(text)
    confident = guess.category_id is not None and guess.confidence >= policy.review_threshold
    # A case someone already categorized needs no review, whatever the guess.
    needs_review = not confident and case.category_id is None
    first_mood = moods[0].score if moods else 0.0
    priority = _priority_for(case=case, text=text, mood_score=first_mood)
    summary = mood_summary(moods)

    values = {
        "category_id": guess.category_id,
        "confidence": guess.confidence,
        "needs_review": needs_review,
        "category_source": guess.source,
        "candidates": guess.candidates,
        "model_version": guess.model_version,
        "priority": priority.priority,
        "priority_score": priority.score,
        "priority_factors": priority.factors,
        "priority_source": priority.source,
        "mood": summary,
    }
    # Usually a new case's first triage: an insert, no savepoints. A concurrent first
    # triage of the same case fails on the unique case and its effect runs again.
    triage = CaseTriage.objects.select_for_update().filter(case=case).first()
    if triage is None:
        triage = CaseTriage.objects.create(case=case, **values)
    else:
        for field, value in values.items():
            setattr(triage, field, value)
        triage.save()
    changes: dict = {}
    reasons = []
    category = (
        Category.objects.filter(pk=guess.category_id).first()  # type: ignore[misc]  # pk=None: none
        if confident
        else None
    )
    if category is not None and case.category_id is None:
        changes["category"] = category
        reasons.append(f"category {category.name} at {guess.confidence:.0%} ({guess.source})")
    if (
        priority.priority != case.priority
        and not _agent_decided(case, CaseEvent.Kind.PRIORITY_CHANGED)
        and not _created_with_priority(case)
        and not _below_repeat_complaint_floor(case, priority.priority)
    ):
        changes["priority"] = priority.priority
        reasons.append(
            f"priority {priority.priority} (score {priority.score:g}: "
            + (
                ", ".join(f"{f['label']} {f['weight']:+g}" for f in priority.factors)
                or "no signals"
            )
            + ")"
        )
    tags = set(case.tags.values_list("name", flat=True))
    wanted = set(tags)
    if not needs_review:
        wanted.discard(NEEDS_REVIEW_TAG)
    else:
        wanted.add(NEEDS_REVIEW_TAG)
        reasons.append(
            "needs review: "
            + (
                f"best guess {guess.confidence:.0%} is under the {policy.review_threshold:.0%} "
                "threshold"
                if guess.category_id
                else "no guess"
            )
        )
    if summary["complaint_probability"] >= COMPLAINT_THRESHOLD:
        wanted.add(COMPLAINT_TAG)
    if wanted != tags:
        changes["tags"] = sorted(wanted)
    if changes:
        case_update(case=case, actor=None, reason="triage: " + "; ".join(reasons), **changes)
    event_record(
        case=case,
        kind=TRIAGED,
        data={
            "category": guess.category_id,
            "confidence": round(guess.confidence, 4),
            "needs_review": needs_review,
            "source": guess.source,
            "model_version": guess.model_version.version if guess.model_version else None,
            "threshold": policy.review_threshold,
            "candidates": guess.candidates,
            "priority": priority.as_dict(),
            "mood": summary,
            "applied": sorted(changes),
            "reason": "; ".join(reasons),
        },
    )
    if route:
        decision = case_route(case=case)
        triage.routing = decision.as_dict()
        triage.save(update_fields=["routing", "updated_at"])
    return triage


def _below_repeat_complaint_floor(case: Case, priority: str) -> bool:
    """A repeat complaint's priority was raised on purpose; triage may not lower it."""
    floors = RepeatComplaint.objects.filter(case=case).values_list("priority_after", flat=True)
    return any(PRIORITY_RANK[priority] < PRIORITY_RANK.get(floor, 1) for floor in floors)


def _created_with_priority(case: Case) -> bool:
    """The case was opened with an explicit priority (not the default)."""
    created = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.CREATED).first()
    if created is None:
        return False
    return (created.data.get("after") or {}).get("priority", "normal") != "normal"


@transaction.atomic
def message_mood_record(*, message_id: int) -> MessageMood | None:
    """Read the mood of a new inbound message and refresh the case's mood summary; a case
    that turns into a complaint or a frustrated customer is re-prioritized upwards (never
    downwards, and never over an agent's choice).
    Side effects: a MessageMood row; the CaseTriage mood; a `mood_flagged` event when a flag
    appears; priority field event through case_update."""
    message = Message.objects.select_related("case").filter(pk=message_id).first()
    if message is None or message.direction != Message.Direction.INBOUND:
        return None
    mood = _message_mood_store(message=message)
    triage = CaseTriage.objects.select_for_update().filter(case_id=message.case_id).first()
    if triage is None:
        return mood  # the case's own triage will read it
    before = set(triage.mood.get("flags", []))
    summary = mood_summary(_case_moods(message.case_id))
    triage.mood = summary
    triage.save(update_fields=["mood", "updated_at"])
    new_flags = sorted(set(summary["flags"]) - before)
    case = Case.objects.select_related("customer__organization").get(pk=message.case_id)
    if new_flags:
        event_record(
            case=case,
            kind=MOOD_FLAGGED,
            data={"message": message.pk, "flags": new_flags, "mood": mood_as_dict(mood)},
        )
        text = learning.case_text(subject=case.subject, first_message=message.text)
        priority = _priority_for(case=case, text=text, mood_score=mood.score)
        if PRIORITY_RANK[priority.priority] > PRIORITY_RANK[case.priority] and not (
            _agent_decided(case, CaseEvent.Kind.PRIORITY_CHANGED)
        ):
            triage.priority = priority.priority
            triage.priority_score = priority.score
            triage.priority_factors = priority.factors
            triage.priority_source = priority.source
            triage.save(
                update_fields=[
                    "priority",
                    "priority_score",
                    "priority_factors",
                    "priority_source",
                    "updated_at",
                ]
            )
            case_update(
                case=case,
                actor=None,
                priority=priority.priority,
                reason=f"triage: customer wrote again ({', '.join(new_flags)}); priority "
                f"{priority.priority} (score {priority.score:g})",
            )
    return mood


def mood_as_dict(mood: MessageMood) -> dict:
    return {
        "label": mood.label,
        "score": round(mood.score, 4),
        "compound": mood.compound,
        "frustrated": mood.frustrated,
        "wants_to_be_heard": mood.wants_to_be_heard,
        "complaint_probability": round(mood.complaint_probability, 4),
        "cues": mood.cues,
    }


@transaction.atomic
def triage_feedback_record(*, case_id: int, fields: list[str]) -> list[TriageLabel]:
    """When an agent changed a case's category or priority, keep the decision as training
    data, beside what triage predicted. Changes made by triage itself (no actor) are not
    feedback. Side effects: TriageLabel rows."""
    kinds = {
        "category": CaseEvent.Kind.CATEGORY_CHANGED,
        "priority": CaseEvent.Kind.PRIORITY_CHANGED,
    }
    recorded = []
    triage = CaseTriage.objects.filter(case_id=case_id).first()
    for name in fields:
        kind = kinds.get(name)
        if kind is None:
            continue
        event = (
            CaseEvent.objects.filter(case_id=case_id, kind=kind)
            .select_related("actor")
            .order_by("-id")
            .first()
        )
        if event is None or event.actor is None or not event.actor.is_agent_like:
            continue
        after = event.data.get("after")
        if after is None:
            continue
        if name == "category":
            predicted = str(triage.category_id) if triage and triage.category_id else ""
            confidence = triage.confidence if triage else None
            version = triage.model_version if triage else None
        else:
            predicted = triage.priority if triage else ""
            confidence = None
            version = learning.model_active(ModelVersion.Kind.PRIORITY)
        recorded.append(
            TriageLabel.objects.create(
                case_id=case_id,
                field=name,
                value=str(after),
                predicted=predicted,
                predicted_confidence=confidence,
                model_version=version,
                source=TriageLabel.Source.AGENT_SET,
                actor=event.actor,
            )
        )
    if any(r.field == "category" for r in recorded):
        review_end(case_id=case_id)
    return recorded


def review_end(*, case_id: int) -> None:
    """An agent decided the category: the case leaves review. Side effects: the triage's
    flag cleared and, when the case carries it, the needs-review tag removed (an event)."""
    triage = CaseTriage.objects.filter(case_id=case_id, needs_review=True).first()
    if triage is None:
        return
    triage.needs_review = False
    triage.save(update_fields=["needs_review", "updated_at"])
    case = Case.objects.get(pk=case_id)
    names = set(case.tags.values_list("name", flat=True))
    if NEEDS_REVIEW_TAG in names:
        case_update(
            case=case,
            actor=None,
            tags=sorted(names - {NEEDS_REVIEW_TAG}),
            reason="triage: an agent set the category",
        )


DECISION_REASON = "set by an agent on the triage panel"


@transaction.atomic
def case_decide(*, case: Case, actor, category_id: str = "", priority: str = "") -> bool:
    """An agent's category and priority for a case, from the triage panel. Goes through
    `case_update`: one event per change, and the case-updated hook keeps it as training
    data. Blank leaves a field as it is. Returns whether anything changed; raises
    CaseValidationError for an unknown or inactive category or an unknown priority. Setting
    the category takes the case out of review in the same transaction."""
    changes: dict = {}
    category_id = (category_id or "").strip()
    if category_id:
        category = (
            Category.objects.filter(pk=int(category_id), is_active=True).first()
            if category_id.isdigit()
            else None
        )
        if category is None:
            raise CaseValidationError("That category does not exist.", field="category")
        changes["category"] = category
    if priority:
        changes["priority"] = priority
    before = (case.category_id, case.priority)
    case = case_update(case=case, actor=actor, reason=DECISION_REASON, **changes)
    if "category" in changes:
        # At once, so the page the agent returns to no longer shows the case in review.
        review_end(case_id=case.pk)
    return (case.category_id, case.priority) != before
