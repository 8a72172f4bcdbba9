import pytest

from caseloop.automation.models import BusinessHoursInterval
from caseloop.automation.services import sla_check
from caseloop.cases.models import CaseEvent
from caseloop.cases.services import message_add
from tests.automation.support import at, sla_effects_run, step
from tests.builders import make_agent, make_case

pytestmark = pytest.mark.django_db


def test_overdue_cases_get_one_breach_event_and_answered_ones_none():
    BusinessHoursInterval.objects.all().delete()  # always open: plain clock maths
    agent = make_agent()
    with step(at(2026, 11, 24, 8)):  # normal priority: first response due 12:00
        overdue, answered = make_case(), make_case()
    with step(at(2026, 11, 24, 11)):
        message_add(case=answered, direction="outbound", text="On it", actor=agent)
    with step(at(2026, 11, 24, 12)):
        fresh = make_case()
    with step(at(2026, 11, 24, 13)):
        sla_effects_run()
        alerts = sla_check()
        assert [(a.case_id, a.kind, a.target) for a in alerts] == [
            (overdue.pk, "sla_breached", "first_response")
        ]
        event = CaseEvent.objects.get(kind="sla_breached")
        assert event.case_id == overdue.pk and event.data["due"].startswith("2026-11-24T12:00")
        assert sla_check() == []
    assert not CaseEvent.objects.filter(case__in=[answered, fresh], kind="sla_breached").exists()
