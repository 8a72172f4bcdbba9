"""Reads for the coach: checking a draft in the context of its case, and override counts."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count

from caseloop.cases.extensions import case_is_complaint

from .engine import Finding, check_text
from .models import CoachOverride


def coach_check(*, text: str, case=None) -> list[Finding]:
    """Findings for a draft reply; with a case, the complaint rules apply when it is one."""
    complaint = case_is_complaint(case=case) if case is not None else False
    return check_text(text=text, complaint=complaint)


def coach_override_counts(*, since: datetime | None = None) -> dict:
    """How often agents sent despite findings: in total, per rule and per agent."""
    overrides = CoachOverride.objects.all()
    if since is not None:
        overrides = overrides.filter(created_at__gte=since)
    per_rule: dict[str, int] = {}
    for rule_ids in overrides.values_list("rule_ids", flat=True):
        for rule_id in set(rule_ids or []):
            per_rule[rule_id] = per_rule.get(rule_id, 0) + 1
    per_agent = list(overrides.values("user__username").annotate(n=Count("id")).order_by("-n")[:20])
    return {
        "total": overrides.count(),
        "per_rule": dict(sorted(per_rule.items(), key=lambda item: -item[1])),
        "per_agent": per_agent,
    }


def coach_overrides_for_agent(*, agent, start: datetime, end: datetime, limit: int = 50) -> dict:
    """One agent's replies sent despite findings from `start` up to `end`: how many, per
    rule, and the latest with their cases."""
    overrides = CoachOverride.objects.filter(user=agent, created_at__gte=start, created_at__lt=end)
    total = 0
    per_rule: dict[str, int] = {}
    for rule_ids in overrides.values_list("rule_ids", flat=True):
        total += 1
        for rule_id in set(rule_ids or []):
            per_rule[rule_id] = per_rule.get(rule_id, 0) + 1
    latest = list(overrides.select_related("case").order_by("-created_at", "-id")[:limit])
    return {
        "total": total,
        "per_rule": dict(sorted(per_rule.items(), key=lambda item: -item[1])),
        "latest": latest,
    }
