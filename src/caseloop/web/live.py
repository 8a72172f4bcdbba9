"""Pushes meant for one person's sockets rather than the whole desk."""

from __future__ import annotations

from caseloop.accounts.models import STAFF_ROLES, User
from caseloop.cases.models import Escalation, Status
from caseloop.lib.realtime import publish, user_group


def escalation_waiting_announce(case_id: int, before: str, after: str) -> None:
    """A case escalated goes to internal work: tell the person the escalation waits for (or
    each member of the team) on their own sockets, so it shows in their inbox at once.
    Runs after the commit; a push, so a repeat is harmless."""
    if after != Status.PENDING_INTERNAL:
        return
    waiting = Escalation.objects.filter(
        case_id=case_id, state=Escalation.State.OPEN
    ).select_related("case")
    for escalation in waiting:
        if escalation.to_user_id is not None:
            recipients = [escalation.to_user_id]
        elif escalation.to_team_id is None:  # the team was deleted since
            continue
        else:
            recipients = list(
                User.objects.filter(
                    teams=escalation.to_team_id, is_active=True, role__in=list(STAFF_ROLES)
                ).values_list("pk", flat=True)
            )
        case = escalation.case
        payload = {
            "kind": "escalation.waiting",
            "case_id": case.pk,
            "reference": case.reference,
            "status": case.status,
            "escalation": escalation.pk,
            "to_user": escalation.to_user_id,
            "to_team": escalation.to_team_id,
        }
        for user_id in recipients:
            publish(user_group(user_id), payload)
