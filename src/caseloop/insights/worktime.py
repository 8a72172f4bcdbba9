"""The agents' time on cases, behind Average Handling Time: tracked in the workspace by
heartbeats, added by hand, corrected by the agent.

How the tracker counts (`work_heartbeat`):

- The workspace beats every 30 s while the case page is visible and the agent has used
  mouse, keys or scroll in the last few minutes; it sends one last `active=False` when the
  tab is hidden, the page is left, or the agent went idle. A reply or note on the case is a
  beat too, at the message's time (`work_message_added`, a message hook).
- The first beat starts an interval; each later beat extends the agent's open interval on
  that case by the time since its last beat. No beat for more than `IDLE_GAP` means the
  agent was away: that interval ended at its last beat and the next beat starts a new one,
  so a gap never counts. `active=False` extends the interval to that moment and closes it.
- One open interval per agent and case (a partial unique constraint): two tabs on the same
  case extend the same interval.

The case-event log (which the reports recompute from) gets one `work_time_logged` event per
interval when it closes, not one per beat: on `active=False`, when a beat finds it idle,
or when the agent starts tracking elsewhere (`work_intervals_close_idle`, which a periodic
job may also call). An interval that closes without ever growing is dropped, unannounced.
Adding an interval by hand records the event at once, and so does each correction (with
the length `before`). The event's `seconds` is the interval's whole length, not a delta.

Logged phone calls (`channels.phone`) count towards handling time through the reports, not
as intervals here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from caseloop.accounts.models import Role
from caseloop.cases.errors import CaseError, CaseValidationError
from caseloop.cases.hooks import MessageFacts
from caseloop.cases.models import Case, Message
from caseloop.cases.selectors import MAX_ID
from caseloop.cases.services import event_record
from caseloop.lib.errors import ErrorKind

from .events import WORK_TIME_LOGGED
from .models import WorkInterval

if TYPE_CHECKING:
    from caseloop.accounts.models import User

# No heartbeat for longer than this and the agent is away: the interval ends at its last beat.
IDLE_GAP = timedelta(minutes=2)
# What the workspace sends: a beat every BEAT_SECONDS while the agent has used mouse, keys or
# scroll within IDLE_SECONDS (reading a long message counts as work).
BEAT_SECONDS = 30
IDLE_SECONDS = 300
# The longest single interval an agent may enter or correct to.
MAX_SECONDS = 24 * 3600
NOTE_LENGTH = 200
EDITORS = frozenset({Role.MANAGER, Role.ADMIN})

Source = WorkInterval.Source


class WorkTimeForbidden(CaseError):
    code = "work_time_forbidden"
    kind = ErrorKind.FORBIDDEN


def _is_staff(user: object) -> bool:
    return user is not None and bool(getattr(user, "is_agent_like", False))


def _require_staff(user: object) -> None:
    if not _is_staff(user):
        raise WorkTimeForbidden("only agents keep time on cases")


def _seconds_check(seconds: object, *, least: int) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise CaseValidationError("the time is a whole number of seconds", field="seconds")
    if not least <= seconds <= MAX_SECONDS:
        raise CaseValidationError(
            f"the time must be from {least} seconds to {MAX_SECONDS // 3600} hours",
            field="seconds",
        )
    return seconds


def _note_clean(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_LENGTH:
        raise CaseValidationError(f"a note has at most {NOTE_LENGTH} characters", field="note")
    return note


def _logged(interval: WorkInterval, *, actor: User, before: int | None = None) -> None:
    data: dict[str, int | str] = {
        "interval": interval.pk,
        "agent": interval.agent_id,
        "seconds": interval.seconds,
        "source": interval.source,
    }
    if before is not None:
        data["before"] = before
    event_record(case=interval.case, actor=actor, kind=WORK_TIME_LOGGED, data=data)


def _close(interval: WorkInterval, *, fields: tuple[str, ...] = ()) -> bool:
    """End an open interval where it stands (saving `fields` changed by the caller too);
    one that never grew is dropped. Returns whether it was kept. Caller holds its row lock."""
    if interval.seconds == 0 and not interval.edited:
        interval.delete()
        return False
    interval.is_open = False
    interval.save(update_fields=["is_open", *fields])
    _logged(interval, actor=interval.agent)
    return True


def _extend(interval: WorkInterval, *, now: datetime) -> None:
    """Count the time since the interval's last beat, rounded (so the parts of a second
    even out over many beats). A late beat, e.g. a reply's hook that ran after newer beats,
    adds nothing."""
    if now > interval.ended_at:
        elapsed = round((now - interval.ended_at).total_seconds())
        interval.seconds = min(interval.seconds + elapsed, MAX_SECONDS)
        interval.ended_at = now


@transaction.atomic
def work_heartbeat(
    *, case: Case, agent: User, active: bool, now: datetime | None = None
) -> WorkInterval | None:
    """The agent is working on the case (`active`), or has just stopped (hidden tab, left
    the page, idle). Returns the agent's interval on the case, None when nothing is tracked.
    Two statements for a beat that extends the open interval (read it locked, update it).
    Side effects: a `work_time_logged` event when an interval closes (see the module)."""
    _require_staff(agent)
    now = now or timezone.now()
    interval = (
        WorkInterval.objects.select_for_update(of=("self",))
        .filter(case=case, agent=agent, is_open=True)
        .first()
    )
    if interval is not None:
        interval.case, interval.agent = case, agent
        if now - interval.ended_at > IDLE_GAP:
            _close(interval)
        else:
            _extend(interval, now=now)
            if not active:
                return interval if _close(interval, fields=("seconds", "ended_at")) else None
            interval.save(update_fields=["seconds", "ended_at"])
            return interval
    if not active:
        return None
    _close_idle(agent=agent, now=now)
    try:
        with transaction.atomic():
            return WorkInterval.objects.create(
                case=case,
                agent=agent,
                source=Source.TRACKER,
                started_at=now,
                ended_at=now,
                seconds=0,
                is_open=True,
            )
    except IntegrityError:
        # Another tab of the same agent started it a moment ago: that one counts.
        return WorkInterval.objects.filter(case=case, agent=agent, is_open=True).first()


@transaction.atomic
def work_intervals_close_idle(*, agent: User | None = None, now: datetime | None = None) -> int:
    """Close the open intervals (of `agent`, or everyone's) with no beat for longer than
    IDLE_GAP: each ended at its last beat. Returns how many closed.
    Side effects: a `work_time_logged` event for each that is kept."""
    return _close_idle(agent=agent, now=now or timezone.now())


def _close_idle(*, agent: User | None, now: datetime) -> int:
    idle = WorkInterval.objects.select_for_update(of=("self",)).filter(
        is_open=True, ended_at__lt=now - IDLE_GAP
    )
    if agent is not None:
        idle = idle.filter(agent=agent)
    closed = 0
    for interval in idle.select_related("case", "agent").order_by("id"):
        _close(interval)
        closed += 1
    return closed


def message_is_work(facts: MessageFacts) -> bool:
    """An agent's own reply or note (not an automatic message)."""
    return facts.by_staff and not facts.automatic and facts.direction != Message.Direction.INBOUND


def work_message_added(message_id: int) -> None:
    """Message hook: an agent's reply or note is activity on its case, at the message's time.
    Rerun safely: a beat at a time already counted adds nothing, and a message older than
    the idle gap (a hook run late) extends an open interval but never starts one."""
    message = (
        Message.objects.select_related("case", "author_user")
        .filter(pk=message_id)
        .exclude(direction=Message.Direction.INBOUND)
        .first()
    )
    agent = message.author_user if message is not None else None
    if message is None or agent is None or not _is_staff(agent) or message.metadata.get("system"):
        return
    if timezone.now() - message.created_at > IDLE_GAP:
        open_now = WorkInterval.objects.filter(case_id=message.case_id, agent=agent, is_open=True)
        if not open_now.exists():
            return
    work_heartbeat(case=message.case, agent=agent, active=True, now=message.created_at)


@transaction.atomic
def work_interval_add(
    *,
    case: Case,
    agent: User,
    seconds: int,
    note: str = "",
    started_at: datetime | None = None,
    actor: User | None = None,
) -> WorkInterval:
    """Time the agent worked on the case away from the tracker (a call on another line,
    research), entered by hand: it started at `started_at` (by default, it ends now).
    `actor` (by default the agent) may enter time for another agent only as a manager.
    Side effects: a `work_time_logged` event."""
    actor = actor or agent
    _require_staff(agent)
    _require_staff(actor)
    if actor.pk != agent.pk and actor.role not in EDITORS:
        raise WorkTimeForbidden("only a manager enters time for another agent")
    seconds = _seconds_check(seconds, least=1)
    note = _note_clean(note)
    now = timezone.now()
    if started_at is None:
        started_at = now - timedelta(seconds=seconds)
    elif timezone.is_naive(started_at):
        raise CaseValidationError("the start needs a time zone", field="started_at")
    elif started_at > now:
        raise CaseValidationError("the start cannot be in the future", field="started_at")
    interval = WorkInterval.objects.create(
        case=case,
        agent=agent,
        source=Source.MANUAL,
        started_at=started_at,
        ended_at=started_at + timedelta(seconds=seconds),
        seconds=seconds,
        note=note,
    )
    _logged(interval, actor=actor)
    return interval


@transaction.atomic
def work_interval_edit(
    *, interval: WorkInterval, agent: User, seconds: int, note: str
) -> WorkInterval:
    """Correct an interval's length and note: `agent` (who is editing) must be the
    interval's own agent, or a manager. A tracked interval being corrected stops being
    extended (the next beat starts a new one), so the correction stands.
    Side effects: a `work_time_logged` event with the length `before`, when anything changed."""
    _require_staff(agent)
    if interval.agent_id != agent.pk and agent.role not in EDITORS:
        raise WorkTimeForbidden("only the agent who worked it, or a manager, corrects this time")
    seconds = _seconds_check(seconds, least=0)
    note = _note_clean(note)
    locked = (
        WorkInterval.objects.select_for_update(of=("self",))
        .select_related("case", "agent")
        .get(pk=interval.pk)
    )
    if locked.seconds == seconds and locked.note == note:
        return locked
    before = locked.seconds
    locked.seconds, locked.note = seconds, note
    locked.edited, locked.is_open = True, False
    locked.save(update_fields=["seconds", "note", "edited", "is_open"])
    _logged(locked, actor=agent, before=before)
    return locked


# --- Reads ---------------------------------------------------------------------------------


def case_work_intervals(*, case: Case, agent: User | None = None) -> QuerySet[WorkInterval]:
    """The case's intervals (only `agent`'s, when given), oldest first, with their agents."""
    intervals = WorkInterval.objects.filter(case=case).select_related("agent")
    if agent is not None:
        intervals = intervals.filter(agent=agent)
    return intervals.order_by("started_at", "id")


def case_handling_seconds(*, case: Case) -> int:
    """The time agents worked the case: tracked, entered and corrected intervals (logged
    calls are added by the reports)."""
    return int(WorkInterval.objects.filter(case=case).aggregate(total=Sum("seconds"))["total"] or 0)


def work_interval_get(*, case: Case, interval_id: int) -> WorkInterval:
    """One of the case's intervals; 404 when the case has no such interval."""
    interval = (
        WorkInterval.objects.select_related("case", "agent")
        .filter(case=case, pk=interval_id)
        .first()
        if 0 < interval_id <= MAX_ID
        else None
    )
    if interval is None:
        raise Http404("No such interval on this case.")
    return interval
