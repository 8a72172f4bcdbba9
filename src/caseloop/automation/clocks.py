"""SLA clocks worked out from a case's history. Pure: no database, no notion of "now".

The rules (the README's "SLA policies" says the same to admins):

- **First response** runs from the case's creation to the first agent reply. It is never
  paused.
- **Next reply** starts when the customer writes while no reply clock runs and the desk has
  answered before (an agent replied, or the case was solved), and stops at the next agent
  reply. Further customer messages before that reply do not move it: the oldest unanswered
  message counts.
- **Resolution** runs from the case's creation to solved. A reopened case starts a new
  resolution clock from the moment it reopened (the earlier cycle stays as it ended).
- Next reply and resolution are **paused while the case is pending_customer** and resume
  when it leaves that status; only business time counts, so time waiting on the customer
  never uses up a target.
- Solving or closing a case stops every clock: a solved case owes no reply.

A clock stopped after its due time missed its target; one stopped in time met it. Automatic
messages (acknowledgements, follow-up questions) are no agent reply, and auto-replies and
bounces are no customer message: the history handed in leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from caseloop.cases.models import FINISHED_STATUSES, Status
from caseloop.cases.transitions import is_reopen

from .business_time import Schedule, business_time_after, business_time_between

FIRST_RESPONSE, NEXT_REPLY, RESOLUTION = "first_response", "next_reply", "resolution"
TARGETS = (FIRST_RESPONSE, NEXT_REPLY, RESOLUTION)

# The kinds of moment in a case's history.
CUSTOMER, AGENT, STATUS = "customer", "agent", "status"


@dataclass(frozen=True)
class Moment:
    """Something that happened on the case: a customer message, an agent reply or a status
    change (with the statuses before and after)."""

    at: datetime
    kind: str
    before: str = ""
    after: str = ""


@dataclass(frozen=True)
class Targets:
    """Minutes of business time per target (None: no target) and the warning share."""

    first_response: int
    next_reply: int | None = None
    resolution: int | None = None
    warn_percent: int = 75


@dataclass(frozen=True)
class Clock:
    """One cycle of one target. `due_at` is empty while paused before the target ran out;
    `left_seconds` is the business time left while paused. `warned_at` and `breached_at`
    are the check's records, empty on a freshly computed clock."""

    target: str
    started_at: datetime
    due_at: datetime | None = None
    warn_at: datetime | None = None
    stopped_at: datetime | None = None
    paused_at: datetime | None = None
    paused_seconds: int = 0
    left_seconds: int | None = None
    warned_at: datetime | None = None
    breached_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.stopped_at is None and self.paused_at is None

    @property
    def missed(self) -> bool:
        """The target ran out before the clock stopped or paused."""
        end = self.stopped_at or self.paused_at
        return self.due_at is not None and end is not None and self.due_at < end


class _Run:
    """A clock being followed through the history: business time used in the active
    periods so far, and the warning and due moments once they are known."""

    def __init__(
        self,
        target: str,
        start: datetime,
        *,
        minutes: int,
        warn_percent: int,
        schedule: Schedule,
        paused: bool = False,
    ) -> None:
        self.target = target
        self.start = start
        self.schedule = schedule
        self.total = timedelta(minutes=minutes)
        self.warn_after = self.total * warn_percent / 100
        self.used = timedelta(0)
        self.paused = timedelta(0)
        self.active_since: datetime | None = None if paused else start
        self.paused_at: datetime | None = start if paused else None
        self.due: datetime | None = None
        self.warn: datetime | None = None
        self.stopped: datetime | None = None

    def _reach(self, limit: timedelta) -> datetime:
        """When `limit` of business time will have been used, running on from now."""
        assert self.active_since is not None
        return business_time_after(
            start=self.active_since, span=limit - self.used, schedule=self.schedule
        )

    def _close(self, at: datetime) -> None:
        """End the active period at `at`, keeping the warning and due moments it reached."""
        if self.active_since is None:
            return
        if self.warn is None and (reached := self._reach(self.warn_after)) <= at:
            self.warn = reached
        if self.due is None and (reached := self._reach(self.total)) <= at:
            self.due = reached
        self.used += business_time_between(start=self.active_since, end=at, schedule=self.schedule)
        self.active_since = None

    def pause(self, at: datetime) -> None:
        if self.stopped is None and self.paused_at is None:
            self._close(at)
            self.paused_at = at

    def resume(self, at: datetime) -> None:
        if self.stopped is None and self.paused_at is not None:
            self.paused += business_time_between(
                start=self.paused_at, end=at, schedule=self.schedule
            )
            self.paused_at = None
            self.active_since = at

    def stop(self, at: datetime) -> None:
        if self.stopped is not None:
            return
        if self.paused_at is not None:
            self.paused += business_time_between(
                start=self.paused_at, end=at, schedule=self.schedule
            )
            self.paused_at = None
        elif self.active_since is not None:
            # A clock stopped in time keeps the due time it was running towards.
            projected = self._reach(self.total) if self.due is None else None
            self._close(at)
            self.due = self.due or projected
        self.stopped = at

    def clock(self) -> Clock:
        due, warn, left = self.due, self.warn, None
        if self.stopped is None and self.paused_at is None:
            due = due or self._reach(self.total)
            warn = warn or self._reach(self.warn_after)
        elif self.paused_at is not None and due is None:
            left = int((self.total - self.used).total_seconds())
        return Clock(
            target=self.target,
            started_at=self.start,
            due_at=due,
            warn_at=warn,
            stopped_at=self.stopped,
            paused_at=self.paused_at,
            paused_seconds=int(self.paused.total_seconds()),
            left_seconds=left,
        )


def clocks_compute(
    *, created_at: datetime, history: Iterable[Moment], targets: Targets, schedule: Schedule
) -> dict[str, list[Clock]]:
    """Every cycle of every target with a target set, oldest first, as the history leaves
    them (the last cycle of a target is its current one)."""
    runs: dict[str, list[_Run]] = {}

    def start(target: str, at: datetime, minutes: int, *, paused: bool = False) -> _Run:
        run = _Run(
            target,
            at,
            minutes=minutes,
            warn_percent=targets.warn_percent,
            schedule=schedule,
            paused=paused,
        )
        runs.setdefault(target, []).append(run)
        return run

    first = start(FIRST_RESPONSE, created_at, targets.first_response)
    resolution = (
        start(RESOLUTION, created_at, targets.resolution)
        if targets.resolution is not None
        else None
    )
    reply: _Run | None = None
    answered = False
    status: str = Status.NEW
    # At the same instant a message comes before the status change it caused.
    for moment in sorted(history, key=lambda m: (m.at, m.kind == STATUS)):
        if moment.kind == AGENT:
            first.stop(moment.at)
            if reply is not None:
                reply.stop(moment.at)
            answered = True
        elif moment.kind == CUSTOMER:
            idle = reply is None or reply.stopped is not None
            if answered and idle and targets.next_reply is not None:
                waiting = status == Status.PENDING_CUSTOMER
                reply = start(NEXT_REPLY, moment.at, targets.next_reply, paused=waiting)
        elif moment.kind == STATUS:
            pausable = [run for run in (reply, resolution) if run is not None]
            if moment.after == Status.PENDING_CUSTOMER:
                for run in pausable:
                    run.pause(moment.at)
            elif moment.before == Status.PENDING_CUSTOMER:
                for run in pausable:
                    run.resume(moment.at)
            if moment.after in FINISHED_STATUSES:
                for run in (first, *pausable):
                    run.stop(moment.at)
                answered = True
            elif is_reopen(moment.before, moment.after) and targets.resolution is not None:
                resolution = start(RESOLUTION, moment.at, targets.resolution)
            status = moment.after
    return {target: [run.clock() for run in target_runs] for target, target_runs in runs.items()}
