"""Stage 9, learning: lessons recorded on a case and reviewed by a manager."""

from __future__ import annotations

from django.db import transaction

from caseloop.accounts.models import User
from caseloop.cases.models import (
    FINISHED_STATUSES,
    Case,
    Lesson,
)
from caseloop.cases.services import event_record

from .errors import LoopError, LoopStateError
from .events import LoopEvent
from .guards import case_locked as _locked, require_staff as _require_staff

# --- 11. Lessons -------------------------------------------------------------------------


@transaction.atomic
def lesson_record(
    *,
    case: Case,
    author: User,
    summary: str,
    needs_prepared_answer: bool = False,
    needs_article: bool = False,
) -> Lesson:
    """Record what the case taught, once it is solved or closed.
    Side effects: a `lesson_recorded` event."""
    _require_staff(author)
    summary = (summary or "").strip()
    if not summary:
        raise LoopError("a lesson needs a summary")
    case = _locked(case)
    if case.status not in FINISHED_STATUSES:
        raise LoopStateError("lessons are recorded when the case is solved or closed")
    lesson = Lesson.objects.create(
        case=case,
        author=author,
        summary=summary,
        needs_prepared_answer=needs_prepared_answer,
        needs_article=needs_article,
    )
    event_record(
        case=case,
        actor=author,
        kind=LoopEvent.LESSON_RECORDED,
        data={
            "lesson": lesson.pk,
            "needs_prepared_answer": needs_prepared_answer,
            "needs_article": needs_article,
        },
    )
    return lesson


@transaction.atomic
def lesson_review(*, lesson: Lesson, state: str, actor: User) -> Lesson:
    """Mark a lesson reviewed (or converted). Side effects: a `lesson_reviewed` event."""
    _require_staff(actor)
    if state not in Lesson.State.values:
        raise LoopError(f"unknown lesson state '{state}'")
    lesson = Lesson.objects.select_for_update().select_related("case").get(pk=lesson.pk)
    before = lesson.state
    lesson.state = state
    lesson.save(update_fields=["state"])
    event_record(
        case=lesson.case,
        actor=actor,
        kind=LoopEvent.LESSON_REVIEWED,
        data={"lesson": lesson.pk, "before": before, "after": state},
    )
    return lesson
