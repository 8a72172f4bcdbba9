"""Writes for the coach."""

from __future__ import annotations

from django.db import transaction

from .models import CoachOverride


@transaction.atomic
def coach_override_record(*, user, case=None, message=None, rule_ids: list[str]) -> CoachOverride:
    """Count a reply sent despite the coach's findings. Side effects: none beyond the row."""
    return CoachOverride.objects.create(
        user=user, case=case, message=message, rule_ids=sorted(set(rule_ids))
    )
