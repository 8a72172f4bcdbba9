"""The transactional outbox: every side effect that must happen is recorded with the change
that causes it, in the same transaction, and carried out at least once.

- `effect_record` (inside the caller's transaction) writes the effect; after the commit the
  dispatcher is nudged (a job, so the request only writes).
- `effects_run` claims due effects for a lease, runs each handler in a transaction with
  marking it done, and on failure retries with backoff, then gives up with the reason.
  Consecutive effects that only write to the database share one transaction; if any of
  them fails, that transaction is rolled back and each runs alone.
- `effects_sweep`, every minute and when a job consumer starts, runs whatever a dead process
  left behind (still pending, or claimed past its lease).

Handlers must be idempotent: each checks whether its effect already happened (the
acknowledgement looks for its event, delivery for a sent message…), because a process can
die after the work and before the effect is marked done.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from caseloop.lib import memo
from caseloop.lib.transactions import atomic_without_savepoints

from .models import OutboxEffect

logger = logging.getLogger(__name__)

Payload = dict[str, Any]
Handler = Callable[[Payload], None]
GiveUp = Callable[[Payload, str], None]


class EffectRetry(Exception):
    """A transient failure: run the effect again later."""


@dataclass(frozen=True)
class EffectType:
    name: str
    handler: Handler
    max_attempts: int = 6
    # Called once when the effect is abandoned, to leave the failure visible (a message
    # marked failed with its reason, say).
    give_up: GiveUp | None = None
    # Called after each failed attempt that will be retried (the attempt's own writes were
    # rolled back), to show why it is waiting.
    on_retry: GiveUp | None = None
    # Its handler only reads and writes the database (no mail, no HTTP), so rolling back
    # its transaction undoes all of it: it may share one with others of its kind.
    database_only: bool = False


_types: dict[str, EffectType] = {}
# Nudges the dispatcher after a commit; the job app sets it (a job, so the request path
# only writes). Until then, effects wait for the sweep.
_nudge: list[Callable[[list[int]], None]] = []


def effect_type_register(
    name: str,
    handler: Handler,
    *,
    max_attempts: int = 6,
    give_up: GiveUp | None = None,
    on_retry: GiveUp | None = None,
    database_only: bool = False,
) -> None:
    _types[name] = EffectType(name, handler, max_attempts, give_up, on_retry, database_only)


def dispatcher_register(nudge: Callable[[list[int]], None]) -> None:
    _nudge[:] = [nudge]


def effect_record(
    *, kind: str, payload: Payload, key: str = "", case_id: int | None = None
) -> OutboxEffect | None:
    """Record an effect in the caller's transaction; `key` makes it once-only (the same key
    twice keeps the first, and returns None). Side effects: after commit, the dispatcher is
    nudged to run it."""
    try:
        with transaction.atomic():
            effect = OutboxEffect.objects.create(
                kind=kind,
                key=key or f"{kind}:{uuid.uuid4().hex}",
                payload=payload,
                case_id=case_id,
                available_at=timezone.now(),
            )
    except IntegrityError:
        if key and OutboxEffect.objects.filter(key=key).exists():
            return None
        raise
    transaction.on_commit(lambda: dispatch_soon([effect.pk]))
    return effect


@dataclass(frozen=True)
class Effect:
    """An effect to record: what runs it, with what, once-only under `key` when given."""

    kind: str
    payload: Payload
    key: str = ""
    case_id: int | None = None


def effects_record(effects: list[Effect], *, keys_are_new: bool = False) -> None:
    """Record several effects in one statement, in the caller's transaction. When the
    keys name rows created in this same transaction (`keys_are_new`: ids are never
    reused), none can have been recorded before and the insert needs no savepoint;
    otherwise a key recorded before sends them one by one through `effect_record`, which
    keeps the first of each. Side effects: after commit, the dispatcher is nudged."""
    if not effects:
        return
    now = timezone.now()
    rows = [
        OutboxEffect(
            kind=effect.kind,
            key=effect.key or f"{effect.kind}:{uuid.uuid4().hex}",
            payload=effect.payload,
            case_id=effect.case_id,
            available_at=now,
        )
        for effect in effects
    ]
    if keys_are_new:
        created = OutboxEffect.objects.bulk_create(rows)
    else:
        try:
            with transaction.atomic():
                created = OutboxEffect.objects.bulk_create(rows)
        except IntegrityError:
            for effect in effects:
                effect_record(
                    kind=effect.kind, payload=effect.payload, key=effect.key, case_id=effect.case_id
                )
            return
    ids = [row.pk for row in created]
    transaction.on_commit(lambda: dispatch_soon(ids))


def dispatch_soon(effect_ids: list[int]) -> None:
    """Hand these effects to the dispatcher job (best effort: the sweep is the guarantee)."""
    if not effect_ids or not _nudge:
        return
    try:
        _nudge[0](effect_ids)
    except Exception:  # noqa: BLE001 - a failed nudge only delays the effect to the sweep
        logger.exception("could not hand effects %s to the job queue", effect_ids)


def pending_for_case(*, case_id: int) -> list[int]:
    return list(
        OutboxEffect.objects.filter(case_id=case_id, state=OutboxEffect.State.PENDING)
        .order_by("id")
        .values_list("id", flat=True)
    )


def _lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def _due(now: datetime) -> Q:
    return Q(state=OutboxEffect.State.PENDING, available_at__lte=now) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )


def _execute(effect: OutboxEffect) -> None:
    """Run a claimed effect's handler and mark it done in one transaction, or keep why it
    failed."""
    effect_type = _types.get(effect.kind)
    try:
        if effect_type is None:
            raise LookupError(f"no handler for effect kind {effect.kind!r}")
        with transaction.atomic():
            effect_type.handler(effect.payload)
            OutboxEffect.objects.filter(pk=effect.pk).update(
                state=OutboxEffect.State.DONE,
                done_at=timezone.now(),
                claimed_until=None,
                attempts=effect.attempts + 1,
            )
    except Exception as exc:  # noqa: BLE001 - every failure is kept with its reason
        _failed(effect, effect_type, exc)


def _execute_together(effects: list[OutboxEffect]) -> None:
    """Run effects that only touch the database in one transaction, marking them all done
    in one statement. If one fails, the transaction is rolled back (none of them happened)
    and each runs alone, so the failure is kept with its own effect."""
    try:
        # All or nothing by design (a failure reruns each alone), so the handlers' own
        # atomic blocks need no savepoints.
        with atomic_without_savepoints():
            for effect in effects:
                _types[effect.kind].handler(effect.payload)
            OutboxEffect.objects.filter(pk__in=[effect.pk for effect in effects]).update(
                state=OutboxEffect.State.DONE,
                done_at=timezone.now(),
                claimed_until=None,
                attempts=F("attempts") + 1,
            )
    except Exception:  # noqa: BLE001 - each is run again alone, which keeps its failure
        logger.info("a batch of %s effects failed together; running them one by one", len(effects))
        for effect in effects:
            _execute(effect)


def _shares_transactions(effect: OutboxEffect) -> bool:
    effect_type = _types.get(effect.kind)
    return effect_type is not None and effect_type.database_only


def _groups(effects: list[OutboxEffect]) -> Iterator[list[OutboxEffect]]:
    """The effects in order: each run of consecutive database-only effects together, every
    other effect alone."""
    group: list[OutboxEffect] = []
    for effect in effects:
        if _shares_transactions(effect):
            group.append(effect)
            continue
        if group:
            yield group
            group = []
        yield [effect]
    if group:
        yield group


def _failed(effect: OutboxEffect, effect_type: EffectType | None, exc: Exception) -> None:
    attempts = effect.attempts + 1
    error = f"{type(exc).__name__}: {exc}"[:2000]
    max_attempts = effect_type.max_attempts if effect_type else 1
    if isinstance(exc, EffectRetry):
        logger.info("effect %s (%s) will be retried: %s", effect.pk, effect.kind, error)
    else:
        logger.warning("effect %s (%s) failed: %s", effect.pk, effect.kind, error, exc_info=exc)
    if attempts < max_attempts:
        OutboxEffect.objects.filter(pk=effect.pk).update(
            attempts=attempts,
            last_error=error,
            available_at=timezone.now() + _backoff(attempts),
            claimed_until=None,
        )
        _call_quietly(effect, effect_type.on_retry if effect_type else None, str(exc))
        return
    OutboxEffect.objects.filter(pk=effect.pk).update(
        state=OutboxEffect.State.FAILED,
        attempts=attempts,
        last_error=error,
        claimed_until=None,
        done_at=timezone.now(),
    )
    _call_quietly(effect, effect_type.give_up if effect_type else None, str(exc))


def _call_quietly(effect: OutboxEffect, callback: GiveUp | None, error: str) -> None:
    if callback is None:
        return
    try:
        with transaction.atomic():
            callback(effect.payload, error)
    except Exception:  # noqa: BLE001 - the effect's own failure is already recorded
        logger.exception("recording the failure of effect %s (%s) failed", effect.pk, effect.kind)


def effects_run(effect_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Run these effects in order (those due and free). They are claimed for one lease
    and read in two statements, then run: database-only ones a run at a time in one
    transaction, others each in their own. Returns how many ran."""
    ids = sorted(set(effect_ids))
    if not ids:
        return 0
    now = now or timezone.now()
    # The lease's end marks this dispatcher's claim: rows another one holds are not taken.
    claimed_until = now + _lease()
    OutboxEffect.objects.filter(_due(now), pk__in=ids).update(claimed_until=claimed_until)
    effects = list(
        OutboxEffect.objects.filter(
            pk__in=ids, state=OutboxEffect.State.PENDING, claimed_until=claimed_until
        ).order_by("id")
    )
    # The batch reads the desk's settings once (lib.memo), not once per effect.
    with memo.scope():
        for group in _groups(effects):
            if len(group) > 1:
                _execute_together(group)
            else:
                _execute(group[0])
    return len(effects)


def effects_sweep(*, limit: int = 500, now: datetime | None = None) -> int:
    """Run every due effect, oldest first: the ones whose nudge was lost, whose dispatcher
    died mid-run (lease passed) or whose retry is due. Returns how many ran."""
    now = now or timezone.now()
    ran = 0
    while True:
        batch = list(
            OutboxEffect.objects.filter(_due(now))
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        ran_now = effects_run(batch, now=now)
        ran += ran_now
        if len(batch) < limit or not ran_now:
            return ran
