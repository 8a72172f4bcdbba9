"""Kinds of case events the loop writes, registered with the case-event registry."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from caseloop.cases.events import event_kind


class LoopEvent:
    PROBLEM_RECORDED = event_kind("problem_recorded", _("Problem recorded"))
    PARAPHRASE_SET = event_kind("paraphrase_set", _("Paraphrase set"))
    PROBLEM_SENT = event_kind("problem_sent_for_confirmation", _("Problem sent for confirmation"))
    PROBLEM_ANSWERED = event_kind("problem_answered", _("Problem answered"))
    POLICY_CHECKED = event_kind("policy_checked", _("Policy checked"))
    NEEDS_DECIDED = event_kind("needs_decided", _("Needs decided"))
    AUTHORITY_CHECKED = event_kind("authority_checked", _("Authority checked"))
    FACT_RECORDED = event_kind("fact_recorded", _("Fact recorded"))
    LINK_ADDED = event_kind("link_added", _("Link added"))
    ALTERNATIVE_ADDED = event_kind("alternative_added", _("Alternative added"))
    ALTERNATIVE_WEIGHED = event_kind("alternative_weighed", _("Alternative weighed"))
    ALTERNATIVE_PREFERENCE = event_kind("alternative_preference", _("Alternative preference"))
    ALTERNATIVE_CHOSEN = event_kind("alternative_chosen", _("Alternative chosen"))
    PLAN_CREATED = event_kind("plan_created", _("Plan created"))
    PLAN_SHARED = event_kind("plan_shared", _("Plan shared"))
    PLAN_CONSENT = event_kind("plan_consent", _("Plan consent"))
    PLAN_STEP_CHANGED = event_kind("plan_step_changed", _("Plan step changed"))
    PLAN_UPDATE_SENT = event_kind("plan_update_sent", _("Plan update sent"))
    ESCALATED = event_kind("escalated", _("Escalated"))
    HANDOFF_REFUSED = event_kind("handoff_refused", _("Handoff refused"))
    ESCALATION_ACCEPTED = event_kind("escalation_accepted", _("Escalation accepted"))
    ESCALATION_RETURNED = event_kind("escalation_returned", _("Escalation returned"))
    ESCALATION_SOLVED = event_kind("escalation_solved", _("Escalation solved"))
    REMINDER_SENT = event_kind("owner_reminded", _("Owner reminded"))
    REMINDERS_STOPPED = event_kind("reminders_stopped", _("Reminders stopped"))
    FOLLOWUP_SCHEDULED = event_kind("followup_scheduled", _("Followup scheduled"))
    FOLLOWUP_ASKED = event_kind("followup_asked", _("Followup asked"))
    FOLLOWUP_ANSWERED = event_kind("followup_answered", _("Followup answered"))
    FOLLOWUP_NO_ANSWER = event_kind("followup_closed_no_answer", _("Followup closed no answer"))
    FOLLOWUP_CANCELLED = event_kind("followup_cancelled", _("Followup cancelled"))
    REPEAT_COMPLAINT = event_kind("repeat_complaint", _("Repeat complaint"))
    LESSON_RECORDED = event_kind("lesson_recorded", _("Lesson recorded"))
    LESSON_REVIEWED = event_kind("lesson_reviewed", _("Lesson reviewed"))
