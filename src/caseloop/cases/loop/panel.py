"""The loop's panel on the case page: each stage with what is done and what is next, and
plain forms for the main actions (they post to `caseloop.web.loop_views`)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser

from caseloop.accounts.models import STAFF_ROLES, Team, User
from caseloop.cases.models import Alternative, Case, Consent, Escalation, Lesson, RemedyType
from caseloop.lib.money import desk_currency

from . import selectors
from .models import SCALES

# Each stage keeps its number whether or not it applies to the case, so the stepper, the
# sections and "Next" always agree.
STAGE_NUMBERS = {
    "problem": 1,
    "needs": 2,
    "authority": 3,
    "facts": 4,
    "alternatives": 5,
    "plan": 6,
    "implement": 7,
    "escalation": 8,
    "follow_up": 9,
    "lessons": 10,
}
# The plan and its implementation are worked in one section.
SECTION_OF = {"implement": "plan"}


def loop_panel_context(*, case: Case, user: User | AnonymousUser | None) -> dict[str, Any] | None:
    if user is None or not getattr(user, "is_agent_like", False):
        return None
    stages, following = selectors.case_stages(case=case)
    # The stage the "Next" step belongs to is the one open; the others stay folded.
    current = selectors.stage_current(stages, following)
    plan = selectors.plan_current(case=case)
    decision = selectors.needs_decision_latest(case=case)
    return {
        "case": case,
        "stages": [{**s.as_dict(), "number": STAGE_NUMBERS[s.key]} for s in stages],
        "next": following,
        "next_number": STAGE_NUMBERS.get(current),
        "open": SECTION_OF.get(current, current) or "problem",
        "statement": selectors.problem_statement_of(case=case),
        "decision": decision,
        "checks": list(decision.checks.all()) if decision else [],
        "authority": list(
            case.authority_checks.select_related("agent", "remedy").order_by("-id")[:3]
        ),
        "checklist": [item.as_dict() for item in selectors.fact_checklist(case=case)],
        "links": [
            {"kind": link.get_kind_display(), "ref": selectors.link_ref(link), "note": link.note}
            for link in case.links.select_related("purchase", "linked_case", "attachment")
        ],
        "alternatives": selectors.alternatives_ranked(case=case),
        "scales": [
            {"name": name, "label": label, "meaning": meaning}
            for name, (label, meaning) in SCALES.items()
        ],
        "scale_help": {name: meaning for name, (_label, meaning) in SCALES.items()},
        "preferences": Alternative.Preference.choices,
        "currency": desk_currency(),
        "plan": plan,
        "steps": list(plan.steps.all()) if plan else [],
        "consents": list(plan.consents.all()) if plan else [],
        "escalations": list(selectors.escalations_of(case=case)),
        "followup": selectors.followup_latest(case=case),
        "repeats": selectors.repeat_history(case=case),
        "lessons": list(Lesson.objects.filter(case=case).select_related("author")),
        "remedies": list(RemedyType.objects.filter(is_active=True)),
        "teams": list(Team.objects.all()),
        "agents": list(
            User.objects.filter(role__in=list(STAFF_ROLES), is_active=True).order_by("username")[
                :200
            ]
        ),
        "escalation_states": Escalation.State,
        "consent_decisions": Consent.Decision.choices,
        "is_owner": case.owner_id == user.pk,
    }
