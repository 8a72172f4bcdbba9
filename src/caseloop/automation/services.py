"""Writes of the automation app: each case's SLA clocks, the minute check that records
warnings and breaches, and what a breach sets off (a higher priority, the managers told)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _, gettext_noop

from caseloop.accounts.models import Role, User
from caseloop.cases import outbox
from caseloop.cases.models import Case, Priority
from caseloop.cases.services import case_update, event_record
from caseloop.lib.language import language_override
from caseloop.lib.realtime import DESK_GROUP, publish

from .clocks import TARGETS, Clock, clocks_compute
from .events import SLA_BREACHED, SLA_WARNING
from .models import CaseSla, SlaTarget
from .selectors import (
    CLOCK_FIELDS,
    case_history,
    response_policy_load,
    sla_clock,
)

logger = logging.getLogger(__name__)

BREACH_NOTIFY_EFFECT = "automation.sla_breach_notify"
PRIORITY_STEPS = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]
_SLA_FIELDS = [
    "policy",
    "next_check_at",
    "attention_at",
    "attention_due_at",
    "updated_at",
    *(f"{target}_{name}" for target in TARGETS for name in CLOCK_FIELDS),
]


@dataclass(frozen=True)
class SlaAlert:
    """A warning or breach the check recorded."""

    case_id: int
    kind: str
    target: str


def _clock_write(sla: CaseSla, target: str, clock: Clock | None) -> None:
    for name in CLOCK_FIELDS:
        empty = 0 if name == "paused_seconds" else None
        setattr(sla, f"{target}_{name}", getattr(clock, name) if clock else empty)


def _next_check(sla: CaseSla) -> datetime | None:
    """The earliest warning or due time of a running clock still to be recorded."""
    moments = []
    for target in TARGETS:
        clock = sla_clock(sla=sla, target=target)
        if clock is None or not clock.running or clock.breached_at:
            continue
        if clock.due_at is not None:
            moments.append(clock.due_at)
        if clock.warn_at is not None and clock.warned_at is None:
            moments.append(clock.warn_at)
    return min(moments, default=None)


def _attention(sla: CaseSla, now: datetime) -> tuple[datetime | None, datetime | None]:
    """The near-target queue's columns. `attention_at`: the first moment a running target
    is in warning or breached (its warning or due time, or a warning or breach already
    recorded). `attention_due_at`: the due time of the most pressing running target in that
    state at `now` (while none is yet, of the first to get there). The check visits at every
    warning time and recomputes it, so the queue's order follows within a minute."""
    marks = []
    for target in TARGETS:
        clock = sla_clock(sla=sla, target=target)
        if clock is None or not clock.running or clock.due_at is None:
            continue
        moments = (clock.warn_at, clock.due_at, clock.warned_at, clock.breached_at)
        marks.append((min(m for m in moments if m is not None), clock.due_at))
    if not marks:
        return None, None
    reached = [due for since, due in marks if since <= now]
    return min(marks)[0], min(reached) if reached else min(marks)[1]


def _label(target: str) -> str:
    """The target's name as the case's log records it: in English, whoever is reading."""
    with translation.override(None):
        return str(SlaTarget(target).label)


# A target's name within a sentence ("missed its first response target").
_IN_SENTENCE = {
    SlaTarget.FIRST_RESPONSE: gettext_noop("first response"),
    SlaTarget.NEXT_REPLY: gettext_noop("next reply"),
    SlaTarget.RESOLUTION: gettext_noop("resolution"),
}


def _sla_event(*, case: Case, kind: str, clock: Clock, policy_id: int | None, reason: str) -> None:
    due = clock.due_at.isoformat() if clock.due_at else None
    event_record(
        case=case,
        kind=kind,
        data={"target": clock.target, "due": due, "policy": policy_id, "reason": reason},
    )


def _due_text(clock: Clock) -> str:
    return f"due {clock.due_at:%Y-%m-%d %H:%M} UTC" if clock.due_at else "no due time"


@transaction.atomic
def case_sla_refresh(*, case_id: int) -> CaseSla | None:
    """Bring the case's SLA clocks up to date with its history and with the policy that now
    matches it (its priority, organization and service level). Idempotent: it is the
    reaction to every change of the case, run at least once after each.

    A cycle that ended or paused after its due time without a recorded breach (the reply
    came before the minute check saw it) gets its `sla_breached` event here; it sets off no
    escalation, as nobody waits on it any more. Warnings and breaches already recorded for a
    cycle stay recorded, even when a new priority moves its due time.
    Side effects: those `sla_breached` events."""
    case = Case.objects.select_for_update().filter(pk=case_id).first()
    if case is None:
        return None
    policy = response_policy_load()
    targets = policy.targets_for_case(case)
    cycles = clocks_compute(
        created_at=case.created_at,
        history=case_history(case_id=case.pk),
        targets=targets.targets,
        schedule=policy.schedule_of(targets),
    )
    sla = CaseSla.objects.filter(case=case).first()
    is_new = sla is None
    sla = sla or CaseSla(case=case)
    now = timezone.now()
    for target in TARGETS:
        known = sla_clock(sla=sla, target=target)
        computed = cycles.get(target, [])
        # Without stored state (a new case, or one older than the SLA policies) only the
        # current cycle counts: old cycles are history, not news.
        fresh = [c for c in computed if known is None or c.started_at >= known.started_at]
        if known is None:
            fresh = fresh[-1:]
        current = computed[-1] if computed else None
        for clock in fresh:
            if known is not None and clock.started_at == known.started_at:
                clock = replace(clock, warned_at=known.warned_at, breached_at=known.breached_at)
            if clock.breached_at is None and not clock.running and clock.missed:
                name = targets.name if targets.policy_id else "default targets"
                reason = f"{_label(target)} target missed, {_due_text(clock)} ({name})"
                _sla_event(
                    case=case,
                    kind=SLA_BREACHED,
                    clock=clock,
                    policy_id=targets.policy_id,
                    reason=reason,
                )
                clock = replace(clock, breached_at=now)
            current = clock
        _clock_write(sla, target, current)
    sla.policy_id = targets.policy_id
    sla.next_check_at = _next_check(sla)
    sla.attention_at, sla.attention_due_at = _attention(sla, now)
    if is_new:
        sla.save(force_insert=True)
    else:
        sla.save(update_fields=_SLA_FIELDS)
    return sla


def sla_check(*, now: datetime | None = None, limit: int = 500) -> list[SlaAlert]:
    """Record, once per target and clock cycle, a `sla_warning` when a running clock has
    used its policy's warning share and a `sla_breached` when it ran out (only the breach
    when both are due at once). A breach raises the case's priority one step and tells the
    managers. Returns what was recorded, oldest due first.
    Side effects: those events; on breach a `priority_changed` event naming the SLA and an
    email to managers and admins (through the outbox); after commit, a realtime push to
    the desk per case."""
    now = now or timezone.now()
    case_ids = list(
        CaseSla.objects.filter(next_check_at__lte=now)
        .order_by("next_check_at", "case_id")
        .values_list("case_id", flat=True)[:limit]
    )
    alerts: list[SlaAlert] = []
    for case_id in case_ids:
        try:
            alerts += _case_sla_check(case_id=case_id, now=now)
        except Exception:  # noqa: BLE001 - one broken case must not stop the others' checks
            logger.exception("the SLA check of case %s failed", case_id)
    return alerts


@transaction.atomic
def _case_sla_check(*, case_id: int, now: datetime) -> list[SlaAlert]:
    case = Case.objects.select_for_update().get(pk=case_id)
    sla = CaseSla.objects.select_related("policy").filter(case=case).first()
    if sla is None:
        return []
    policy_name = sla.policy.name if sla.policy else "default targets"
    recorded: list[tuple[SlaAlert, Clock]] = []
    for target in TARGETS:
        clock = sla_clock(sla=sla, target=target)
        if clock is None or not clock.running or clock.breached_at is not None:
            continue
        if clock.due_at is not None and clock.due_at <= now:
            kind, flag, what = SLA_BREACHED, "breached_at", "missed"
        elif clock.warn_at is not None and clock.warn_at <= now and clock.warned_at is None:
            kind, flag, what = SLA_WARNING, "warned_at", "close"
        else:
            continue
        reason = f"{_label(target)} target {what}, {_due_text(clock)} ({policy_name})"
        _sla_event(case=case, kind=kind, clock=clock, policy_id=sla.policy_id, reason=reason)
        setattr(sla, f"{target}_{flag}", now)
        recorded.append((SlaAlert(case.pk, kind, target), clock))
    sla.next_check_at = _next_check(sla)
    sla.attention_at, sla.attention_due_at = _attention(sla, now)
    sla.save(
        update_fields=[
            "next_check_at",
            "attention_at",
            "attention_due_at",
            "updated_at",
            *_flag_fields(),
        ]
    )
    missed = [clock for alert, clock in recorded if alert.kind == SLA_BREACHED]
    if missed:
        _breach_escalate(case=case, sla=sla, missed=missed, policy_name=policy_name)
    for alert, clock in recorded:
        payload = {
            "kind": "case.updated",
            "case_id": case.pk,
            "reference": case.reference,
            "status": case.status,
            "fields": ["sla"],
            "sla": {
                "state": "breached" if alert.kind == SLA_BREACHED else "warning",
                "target": alert.target,
                "due": clock.due_at.isoformat() if clock.due_at else None,
            },
        }
        transaction.on_commit(partial(publish, DESK_GROUP, payload))
    return [alert for alert, _clock in recorded]


def _flag_fields() -> list[str]:
    return [f"{target}_{name}" for target in TARGETS for name in ("warned_at", "breached_at")]


def _priority_raised(priority: str) -> str | None:
    """One step up (None for urgent, the top)."""
    step = PRIORITY_STEPS.index(Priority(priority)) if priority in PRIORITY_STEPS else 1
    return PRIORITY_STEPS[step + 1] if step + 1 < len(PRIORITY_STEPS) else None


def _breach_escalate(*, case: Case, sla: CaseSla, missed: list[Clock], policy_name: str) -> None:
    """Raise the priority one step (once, however many targets were missed together) and
    record one email to the managers per missed target."""
    raised = _priority_raised(case.priority)
    if raised is not None:
        labels = " and ".join(_label(clock.target).lower() for clock in missed)
        case_update(
            case=case,
            actor=None,
            priority=raised,
            reason=f"SLA {labels} target missed ({policy_name})",
        )
    for clock in missed:
        outbox.effect_record(
            kind=BREACH_NOTIFY_EFFECT,
            payload={
                "case": case.pk,
                "target": clock.target,
                "due": clock.due_at.isoformat() if clock.due_at else None,
                "policy": sla.policy_id,
                "policy_name": policy_name,
                "raised_to": raised or "",
            },
            key=f"{BREACH_NOTIFY_EFFECT}:{case.pk}:{clock.target}:{clock.started_at.isoformat()}",
            case_id=case.pk,
        )


def _breach_email(*, case: Case, payload: dict[str, Any], address: str) -> EmailMessage:
    """The missed-target email to `address`, in the active language."""
    target = payload["target"]
    label = str(SlaTarget(target).label)
    words = _(_IN_SENTENCE[target]) if target in _IN_SENTENCE else label.lower()
    due = datetime.fromisoformat(payload["due"]) if payload.get("due") else None
    values = {"reference": case.reference, "subject": case.subject, "target": words}
    if due:
        values["due"] = f"{due.astimezone(UTC):%Y-%m-%d %H:%M}"
        first = _("Case %(reference)s (%(subject)s) missed its %(target)s target, due %(due)s UTC.")
    else:
        first = _("Case %(reference)s (%(subject)s) missed its %(target)s target.")
    lines = [
        first % values,
        _("Policy: %(policy)s.") % {"policy": payload.get("policy_name") or _("default targets")},
    ]
    if payload.get("raised_to"):
        lines.append(
            _("Its priority was raised to %(priority)s.")
            % {"priority": Priority(payload["raised_to"]).label}
        )
    owner = case.owner.display_name if case.owner else _("none yet")
    lines.append(_("Owner: %(name)s.") % {"name": owner})
    lines.append(settings.SITE_URL + reverse("web:case", args=[case.pk]))
    return EmailMessage(
        subject=_("[%(reference)s] %(target)s target missed")
        % {"reference": case.reference, "target": label},
        body="\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
    )


def sla_breach_notify(payload: dict[str, Any]) -> None:
    """Outbox handler: email every active manager and admin with an address that a case
    missed an SLA target. Carried out at least once (a retry after a crash between sending
    and marking it done sends again). Side effects: the emails."""
    case = Case.objects.select_related("owner").filter(pk=payload["case"]).first()
    if case is None:
        return
    # Each address once, in its person's language (the first one listed when shared).
    languages: dict[str, str] = {}
    for address, language in (
        User.objects.filter(role__in=[Role.MANAGER, Role.ADMIN], is_active=True)
        .exclude(email="")
        .order_by("email", "id")
        .values_list("email", "language")
    ):
        languages.setdefault(address, language)
    if not languages:
        return
    messages = []
    for address in sorted(languages):
        with language_override(languages[address]):
            messages.append(_breach_email(case=case, payload=payload, address=address))
    get_connection(fail_silently=False).send_messages(messages)
