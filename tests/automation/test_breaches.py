from datetime import UTC, datetime

import pytest

from caseloop.automation.models import BusinessHoursInterval
from caseloop.automation.services import first_response_breaches_record
from caseloop.cases.models import Case, CaseEvent
from caseloop.cases.services import message_add
from tests.builders import make_agent, make_case

pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_overdue_cases_get_one_breach_event_and_answered_ones_none():
    BusinessHoursInterval.objects.all().delete()  # always open: plain clock maths
    overdue, answered, fresh = make_case(), make_case(), make_case()
    Case.objects.filter(pk__in=[overdue.pk, answered.pk]).update(created_at=at(2026, 11, 24, 8))
    Case.objects.filter(pk=fresh.pk).update(created_at=at(2026, 11, 24, 12))
    message_add(case=answered, direction="outbound", text="On it", actor=make_agent())
    now = at(2026, 11, 24, 13)
    assert first_response_breaches_record(now=now) == [overdue.pk]
    event = CaseEvent.objects.get(kind="first_response_breached")
    assert event.case_id == overdue.pk and event.data["due"].startswith("2026-11-24T12:00")
    assert first_response_breaches_record(now=now) == []
