"""Writes for the coach."""

from __future__ import annotations

from django.db import transaction

from caseloop.accounts.models import User
from caseloop.cases.models import Case, Message

from .engine import Finding
from .models import CoachOverride
from .selectors import coach_check


@transaction.atomic
def coach_override_record(*, user, case=None, message=None, rule_ids: list[str]) -> CoachOverride:
    """Count a reply sent despite the coach's findings. Side effects: none beyond the row."""
    return CoachOverride.objects.create(
        user=user, case=case, message=message, rule_ids=sorted(set(rule_ids))
    )


class ReplyCoach:
    """The coach as the case core's reply reviewer: every reply, from the workspace or the
    API, is checked by the same rules."""

    def findings(self, *, text: str, case: Case) -> list[Finding]:
        return coach_check(text=text, case=case)

    def override_record(
        self, *, user: User, case: Case, message: Message, rule_ids: list[str]
    ) -> CoachOverride:
        return coach_override_record(user=user, case=case, message=message, rule_ids=rule_ids)
