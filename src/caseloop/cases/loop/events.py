"""Kinds of case events the loop writes, registered with the case-event registry."""

from __future__ import annotations

from caseloop.cases.events import event_kind


class LoopEvent:
    PROBLEM_RECORDED = event_kind("problem_recorded")
    PARAPHRASE_SET = event_kind("paraphrase_set")
    PROBLEM_SENT = event_kind("problem_sent_for_confirmation")
    PROBLEM_ANSWERED = event_kind("problem_answered")
    POLICY_CHECKED = event_kind("policy_checked")
    NEEDS_DECIDED = event_kind("needs_decided")
    AUTHORITY_CHECKED = event_kind("authority_checked")
    FACT_RECORDED = event_kind("fact_recorded")
    LINK_ADDED = event_kind("link_added")
    ALTERNATIVE_ADDED = event_kind("alternative_added")
    ALTERNATIVE_WEIGHED = event_kind("alternative_weighed")
    ALTERNATIVE_PREFERENCE = event_kind("alternative_preference")
    ALTERNATIVE_CHOSEN = event_kind("alternative_chosen")
    PLAN_CREATED = event_kind("plan_created")
    PLAN_SHARED = event_kind("plan_shared")
    PLAN_CONSENT = event_kind("plan_consent")
    PLAN_STEP_CHANGED = event_kind("plan_step_changed")
    PLAN_UPDATE_SENT = event_kind("plan_update_sent")
    ESCALATED = event_kind("escalated")
    HANDOFF_REFUSED = event_kind("handoff_refused")
    ESCALATION_ACCEPTED = event_kind("escalation_accepted")
    ESCALATION_RETURNED = event_kind("escalation_returned")
    ESCALATION_SOLVED = event_kind("escalation_solved")
    REMINDER_SENT = event_kind("owner_reminded")
    REMINDERS_STOPPED = event_kind("reminders_stopped")
    FOLLOWUP_SCHEDULED = event_kind("followup_scheduled")
    FOLLOWUP_ASKED = event_kind("followup_asked")
    FOLLOWUP_ANSWERED = event_kind("followup_answered")
    FOLLOWUP_NO_ANSWER = event_kind("followup_closed_no_answer")
    FOLLOWUP_CANCELLED = event_kind("followup_cancelled")
    REPEAT_COMPLAINT = event_kind("repeat_complaint")
    LESSON_RECORDED = event_kind("lesson_recorded")
    LESSON_REVIEWED = event_kind("lesson_reviewed")
