"""Alternatives: candidate solutions typed by the agent, proposed by policies or by similar
solved cases; weighed, ranked, the customer's preference recorded, one chosen."""

from __future__ import annotations

from decimal import Decimal
from types import EllipsisType

from django.db import transaction
from django.utils import timezone

from caseloop.accounts.models import User
from caseloop.cases.extensions import cases_similar
from caseloop.cases.loop.models import SCALES
from caseloop.cases.models import Alternative, Case
from caseloop.cases.services import event_record

from . import selectors
from .errors import LoopError, LoopStateError
from .events import LoopEvent
from .guards import case_locked as _locked, is_staff as _staff, require_staff as _require_staff


@transaction.atomic
def alternative_add(
    *,
    case: Case,
    title: str,
    actor: User | None,
    description: str = "",
    source: str = Alternative.Source.AGENT,
    source_ref: str = "",
) -> Alternative:
    """Add a candidate solution. Side effects: an `alternative_added` event."""
    title = (title or "").strip()
    if not title:
        raise LoopError("an alternative needs a title")
    case = _locked(case)
    alternative = Alternative.objects.create(
        case=case,
        title=title[:300],
        description=description or "",
        source=source,
        source_ref=source_ref[:100],
        created_by=actor if _staff(actor) else None,
    )
    event_record(
        case=case,
        actor=actor,
        kind=LoopEvent.ALTERNATIVE_ADDED,
        data={"alternative": alternative.pk, "title": alternative.title, "source": source},
    )
    return alternative


SCORES = tuple(SCALES)


@transaction.atomic
def alternative_weigh(
    *,
    alternative: Alternative,
    actor: User,
    scores: dict[str, int | None],
    cost_amount: Decimal | None | EllipsisType = ...,
    currency: str | None | EllipsisType = ...,
    state: str | EllipsisType = ...,
) -> Alternative:
    """Weigh an alternative (scores 1–5, 5 the better end; see SCALES) or mark it
    tried/rejected. The customer's preference is theirs: weighing never changes it.
    Side effects: an `alternative_weighed` event with the new score."""
    alternative = Alternative.objects.select_for_update().get(pk=alternative.pk)
    before = {name: getattr(alternative, name) for name in SCORES}
    for name, value in scores.items():
        if name not in SCORES:
            raise LoopError(f"unknown criterion '{name}'")
        if value is not None and not (1 <= int(value) <= 5):
            raise LoopError(f"{name} is scored 1 to 5")
        setattr(alternative, name, value)
    if cost_amount is not ...:
        if cost_amount is not None and Decimal(cost_amount) < 0:
            raise LoopError("the cost cannot be negative")
        alternative.cost_amount = cost_amount
    if currency is not ...:
        alternative.currency = (currency or "").upper()[:3]
    if state is not ...:
        if state not in (Alternative.State.CONSIDERED, Alternative.State.TRIED, "rejected"):
            raise LoopError("set state to considered, tried or rejected; choose to pick one")
        alternative.state = state
    alternative.save()
    event_record(
        case=alternative.case,
        actor=actor,
        kind=LoopEvent.ALTERNATIVE_WEIGHED,
        data={
            "alternative": alternative.pk,
            "before": before,
            "after": {name: getattr(alternative, name) for name in SCORES},
            "score": selectors.alternative_score(alternative),
            "state": alternative.state,
        },
    )
    return alternative


@transaction.atomic
def alternative_prefer(
    *, alternative: Alternative, preference: str, actor: User, note: str = ""
) -> Alternative:
    """Record what the customer thinks of an alternative; the same answer again (without a
    new note) changes nothing. A chosen alternative the customer rejects is no longer
    chosen. Side effects: an `alternative_preference` event."""
    if preference not in Alternative.Preference.values:
        raise LoopError(f"unknown preference '{preference}'")
    alternative = Alternative.objects.select_for_update().get(pk=alternative.pk)
    before = alternative.customer_preference
    note = (note or "").strip()
    if preference == before and (not note or note == alternative.preference_note):
        return alternative
    alternative.customer_preference = preference
    if note or preference != before:
        alternative.preference_note = note
    fields = ["customer_preference", "preference_note"]
    unchosen = (
        preference == Alternative.Preference.REJECTED
        and alternative.state == Alternative.State.CHOSEN
    )
    if unchosen:
        alternative.state = Alternative.State.CONSIDERED
        fields.append("state")
    alternative.save(update_fields=fields)
    data: dict[str, object] = {
        "alternative": alternative.pk,
        "before": before,
        "after": preference,
        "note": note,
    }
    if unchosen:
        data["unchosen"] = True
    event_record(
        case=alternative.case, actor=actor, kind=LoopEvent.ALTERNATIVE_PREFERENCE, data=data
    )
    return alternative


@transaction.atomic
def alternative_choose(*, alternative: Alternative, reason: str, actor: User) -> Alternative:
    """Choose one alternative, with the reason; any earlier choice goes back to considered.
    Refused (LoopStateError) for one the agent marked rejected or the customer rejected.
    Side effects: an `alternative_chosen` event."""
    _require_staff(actor)
    reason = (reason or "").strip()
    if not reason:
        raise LoopError("say why this alternative is chosen")
    case = _locked(alternative.case)
    alternative = Alternative.objects.select_for_update().get(pk=alternative.pk)
    if alternative.state == Alternative.State.REJECTED:
        raise LoopStateError("this alternative was rejected")
    if alternative.customer_preference == Alternative.Preference.REJECTED:
        raise LoopStateError(
            f"the customer rejected '{alternative.title}': choose another alternative, or "
            "record their new preference first if they changed their mind"
        )
    previous = list(
        Alternative.objects.filter(case=case, state=Alternative.State.CHOSEN)
        .exclude(pk=alternative.pk)
        .values_list("pk", flat=True)
    )
    Alternative.objects.filter(pk__in=previous).update(state=Alternative.State.CONSIDERED)
    alternative.state = Alternative.State.CHOSEN
    alternative.chosen_reason = reason
    alternative.chosen_by = actor
    alternative.chosen_at = timezone.now()
    alternative.save()
    event_record(
        case=case,
        actor=actor,
        kind=LoopEvent.ALTERNATIVE_CHOSEN,
        data={
            "alternative": alternative.pk,
            "title": alternative.title,
            "reason": reason,
            "replaces": previous,
            "score": selectors.alternative_score(alternative),
            "customer_preference": alternative.customer_preference,
        },
    )
    return alternative


def _similar_cases(case: Case, k: int) -> list[Case]:
    """Similar solved cases, as the registered similarity finder ranks them."""
    return [item.case for item in cases_similar(case=case, k=k, solved_only=True)]


def alternatives_propose_similar(*, case: Case, actor: User, k: int = 5) -> list[Alternative]:
    """Propose how similar solved cases were solved. Without triage, proposes nothing.
    Side effects: an `alternative_added` event per proposal."""
    existing_refs = set(
        Alternative.objects.filter(case=case, source=Alternative.Source.SIMILAR_CASE).values_list(
            "source_ref", flat=True
        )
    )
    added = []
    for similar in _similar_cases(case, k):
        resolution = selectors.case_resolution_text(case=similar).strip()
        if not resolution or similar.reference in existing_refs:
            continue
        title = resolution.splitlines()[0][:200]
        added.append(
            alternative_add(
                case=case,
                title=f"As in {similar.reference}: {title}",
                description=resolution,
                actor=actor,
                source=Alternative.Source.SIMILAR_CASE,
                source_ref=similar.reference or str(similar.pk),
            )
        )
    return added
