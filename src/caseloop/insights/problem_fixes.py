"""Fix once, tell everyone: publishing a problem's permanent fix sends each linked case
still open a coach-checked notice on its own channel, solves the case and starts its
follow-up — one outbox effect per case, run at least once and sent once (the link keeps
the message it sent). Customers who followed the known issue from its banner are mailed
too, each once (`problem_notices`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from caseloop.accounts.models import User
from caseloop.cases import outbox
from caseloop.cases.errors import CaseError
from caseloop.cases.loop.followups import followup_schedule
from caseloop.cases.models import FINISHED_STATUSES, Status
from caseloop.cases.services import case_transition, event_record, reply_send
from caseloop.coach.selectors import coach_check

from .events import PROBLEM_FIX_SENT
from .models import Problem, ProblemCase, ProblemContributor, ProblemStatus as S
from .problem_notices import follower_fix_findings, followers_fix_record
from .problems import (
    ProblemConflict,
    ProblemError,
    ProblemTransitionRefused,
    clean_text,
    contributor_credit,
    fix_notice_check_placeholders,
    fix_notice_render,
    problem_change_record,
    problem_lock,
    problem_move,
    require_editor,
)

FIX_NOTIFY_EFFECT = "insights.problem_fix_notify"


class FixNoticeObjection(ProblemError):
    """The reply coach holds the fix notice: it is not published."""

    code = "fix_notice_objection"

    def __init__(self, findings: list[Any]) -> None:
        self.findings = findings
        self.field = "fix_notice"
        self.payload = {"findings": [f.as_dict() for f in findings]}
        super().__init__(
            "the reply coach holds the fix notice: "
            + "; ".join(f.message for f in findings if f.blocks)
        )


def _open_links(problem: Problem) -> list[ProblemCase]:
    return list(
        ProblemCase.objects.filter(problem=problem, fix_message__isnull=True)
        .exclude(case__status__in=FINISHED_STATUSES)
        .select_related("case", "case__customer")
        .order_by("id")
    )


@dataclass(frozen=True)
class FixPublication:
    problem: Problem
    cases_notified: int
    followers_notified: int = 0


@transaction.atomic
def problem_fix_publish(*, problem: Problem, actor: User, notice: str = "") -> FixPublication:
    """Publish the permanent fix (managers and the owner): the problem becomes fixed, and
    each linked case still open is sent the notice on its own channel, solved, and its
    follow-up started. The notice (the problem's, or the default) is checked by the reply
    coach for every such case first; findings that hold a reply refuse the publication.
    Side effects: a `fix_published` history row and case events; one outbox effect per case
    to notify (see `problem_fix_notify`) and per follower not yet told (see
    `problem_notices.problem_follower_fix_mail`); the followers' notice is coach-checked
    too."""
    require_editor(problem, actor)
    problem = problem_lock(problem)
    if not problem.permanent_fix:
        raise ProblemConflict("write the permanent fix before publishing it")
    if problem.status not in (S.INVESTIGATING, S.KNOWN_ERROR, S.FIXED):
        raise ProblemTransitionRefused(problem.status, S.FIXED)
    notice = clean_text(notice, field="fix_notice")
    if notice and notice != problem.fix_notice:
        fix_notice_check_placeholders(notice)
        problem.fix_notice = notice
        problem.save(update_fields=["fix_notice", "updated_at"])
    links = _open_links(problem)
    for link in links:
        text = fix_notice_render(problem=problem, case=link.case)
        holding = [f for f in coach_check(text=text, case=link.case) if f.blocks]
        if holding:
            raise FixNoticeObjection(holding)
    holding = follower_fix_findings(problem=problem)
    if holding:
        raise FixNoticeObjection(holding)
    if problem.status != S.FIXED:
        problem_move(problem=problem, to=S.FIXED, actor=actor, reason="permanent fix published")
    now = timezone.now()
    problem.fix_published_at = now
    problem.fix_published_by = actor
    problem.save(update_fields=["fix_published_at", "fix_published_by", "updated_at"])
    contributor_credit(problem=problem, user=actor, part=ProblemContributor.Part.FIX)
    problem_change_record(
        problem=problem,
        actor=actor,
        change="fix_published",
        data={"cases": [link.case_id for link in links]},
    )
    stamp = int(now.timestamp())
    for link in links:
        outbox.effect_record(
            kind=FIX_NOTIFY_EFFECT,
            payload={"link": link.pk, "actor": actor.pk},
            key=f"{FIX_NOTIFY_EFFECT}:{link.pk}:{stamp}",
            case_id=link.case_id,
        )
    followers = followers_fix_record(problem=problem, stamp=stamp)
    return FixPublication(problem=problem, cases_notified=len(links), followers_notified=followers)


def problem_fix_notify(payload: dict[str, Any]) -> None:
    """Outbox effect: send one linked case's customer the fix notice, solve the case and
    start its follow-up. Runs in the effect's transaction; a link that already has its
    message is skipped, so running it again sends nothing twice. A case the desk may not
    solve yet (a check before solving refuses) gets the notice and stays open, with why.
    Side effects: the reply (delivered through the outbox), a `problem_fix_sent` event, the
    status change and a follow-up."""
    link = (
        ProblemCase.objects.select_for_update(of=("self",))
        .select_related("problem", "case", "case__customer")
        .filter(pk=payload["link"])
        .first()
    )
    if link is None or link.fix_message_id is not None:
        return
    case, problem = link.case, link.problem
    if case.status in FINISHED_STATUSES:
        return
    actor = User.objects.filter(pk=int(payload.get("actor") or 0), is_active=True).first()
    if actor is None or not actor.is_agent_like:
        actor = case.owner if case.owner_id else None
    if actor is None:
        raise ProblemError("nobody is left to send the fix notice")
    text = fix_notice_render(problem=problem, case=case)
    # The coach checked this notice when the fix was published.
    message = reply_send(case=case, actor=actor, text=text, send_anyway=True)
    link.fix_message = message
    link.save(update_fields=["fix_message"])
    solved, reason = True, ""
    try:
        with transaction.atomic():
            solved_case = case_transition(
                case=case, to=Status.SOLVED, actor=actor, reason=f"fixed: {problem.number}"
            )
            followup_schedule(case=solved_case)
    except CaseError as exc:
        solved, reason = False, str(exc)
    data: dict[str, Any] = {
        "problem": problem.pk,
        "title": problem.title,
        "message": message.pk,
        "solved": solved,
    }
    if reason:
        data["reason"] = reason[:500]
    event_record(case=case, actor=actor, kind=PROBLEM_FIX_SENT, data=data)
