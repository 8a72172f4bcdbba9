"""API endpoints for the agents' time on a case, mounted under /api/v1/: the intervals
(tracked in the workspace, entered by hand), and time entered by an integration such as a
phone system. Agents only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Router, Schema, Status as Reply
from pydantic import field_validator

from caseloop.accounts.auth import ApiRequest, require_staff
from caseloop.accounts.models import User
from caseloop.accounts.schemas import UserRef
from caseloop.cases import selectors as case_selectors
from caseloop.cases.errors import CaseValidationError

from .models import WorkInterval
from .worktime import (
    MAX_SECONDS,
    NOTE_LENGTH,
    case_work_intervals,
    work_interval_add,
    work_interval_edit,
    work_interval_get,
)

router = Router(tags=["insights"])


class WorkIntervalOut(Schema):
    id: int
    agent: UserRef
    source: str = Field(..., description="`tracker`, `call` or `manual`.")
    started_at: datetime
    ended_at: datetime
    seconds: int = Field(..., description="The time counted (the agent may have corrected it).")
    note: str
    edited: bool
    open: bool = Field(..., description="Still being tracked in the workspace.")

    @staticmethod
    def of(interval: WorkInterval) -> WorkIntervalOut:
        return WorkIntervalOut(
            id=interval.pk,
            agent=UserRef(
                id=interval.agent.pk,
                username=interval.agent.username,
                name=interval.agent.display_name,
            ),
            source=interval.source,
            started_at=interval.started_at,
            ended_at=interval.ended_at,
            seconds=interval.seconds,
            note=interval.note,
            edited=interval.edited,
            open=interval.is_open,
        )


class WorkIntervalIn(Schema):
    seconds: int = Field(..., ge=1, le=MAX_SECONDS)
    note: str = Field("", max_length=NOTE_LENGTH)
    started_at: datetime | None = Field(
        None, description="When the work started, with a time zone; by default it ends now."
    )
    agent: str = Field(
        "",
        max_length=150,
        description="Username of the agent who worked it; by default the caller. Managers "
        "and admins may name another agent.",
    )


# The default of a PATCH field that may not be null: defaults are never validated, so a field
# left out stays unset while an explicit null is refused.
UNCHANGED: Any = None


class WorkIntervalPatchIn(Schema):
    """Fields left out stay as they are. Null clears the note; `seconds` refuses null (422)."""

    seconds: int = Field(UNCHANGED, ge=0, le=MAX_SECONDS)
    note: str | None = Field(None, max_length=NOTE_LENGTH)

    @field_validator("seconds", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null: leave the field out to keep its value")
        return value


@router.get(
    "/cases/{case_id}/work",
    response=list[WorkIntervalOut],
    summary="The time agents worked on the case",
)
def work_list(request: ApiRequest, case_id: str):
    """Every interval, oldest first; handling time is the sum of their `seconds` (plus the
    case's logged calls)."""
    require_staff(request)
    case = case_selectors.case_get_for_user(user=request.auth, case_id=case_id)
    return [WorkIntervalOut.of(interval) for interval in case_work_intervals(case=case)]


@router.post(
    "/cases/{case_id}/work",
    response={201: WorkIntervalOut},
    summary="Enter time worked on the case",
)
def work_create(request: ApiRequest, case_id: str, payload: WorkIntervalIn):
    """Time worked away from the workspace's tracker (research, a call on a line the desk
    does not log). Calls logged through `/api/v1/calls` count already: do not enter them."""
    require_staff(request)
    case = case_selectors.case_get_for_user(user=request.auth, case_id=case_id)
    agent = request.auth
    if payload.agent and payload.agent != agent.username:
        named = User.objects.filter(username=payload.agent).first()
        if named is None or not named.is_agent_like:
            raise CaseValidationError(f"no agent '{payload.agent}'", field="agent")
        agent = named
    interval = work_interval_add(
        case=case,
        agent=agent,
        seconds=payload.seconds,
        note=payload.note,
        started_at=payload.started_at,
        actor=request.auth,
    )
    return Reply(201, WorkIntervalOut.of(interval))


@router.patch(
    "/cases/{case_id}/work/{interval_id}",
    response=WorkIntervalOut,
    summary="Correct time worked on the case",
)
def work_patch(request: ApiRequest, case_id: str, interval_id: int, payload: WorkIntervalPatchIn):
    """An interval's length or note, by the agent who worked it or a manager (403 for anyone
    else). A tracked interval corrected stops being extended: tracking goes on in a new one."""
    require_staff(request)
    case = case_selectors.case_get_for_user(user=request.auth, case_id=case_id)
    interval = work_interval_get(case=case, interval_id=interval_id)
    given = payload.model_dump(exclude_unset=True)
    interval = work_interval_edit(
        interval=interval,
        agent=request.auth,
        seconds=given.get("seconds", interval.seconds),
        note=(given["note"] or "") if "note" in given else interval.note,
    )
    return WorkIntervalOut.of(interval)
