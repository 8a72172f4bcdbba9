"""A token's use is recorded at most once a minute, so reading the API does not write."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caseloop.accounts.models import ApiToken
from caseloop.accounts.services import token_issue
from tests.builders import make_agent

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def token_writes(api, token: str) -> int:
    """Read the case list with `token`; the number of UPDATEs of the token table it made."""
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.content
    table = ApiToken._meta.db_table
    return sum(
        1
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith("UPDATE") and table in query["sql"]
    )


def test_two_reads_within_a_minute_record_the_tokens_use_once(api):
    token = token_issue(user=make_agent())
    with time_machine.travel(START, tick=False):
        assert token_writes(api, token) == 1
    with time_machine.travel(START + timedelta(seconds=59), tick=False):
        assert token_writes(api, token) == 0
    assert ApiToken.objects.get().last_used_at == START


def test_a_read_after_the_minute_records_the_use_again(api):
    token = token_issue(user=make_agent())
    with time_machine.travel(START, tick=False):
        assert token_writes(api, token) == 1
    later = START + timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        assert token_writes(api, token) == 1
    assert ApiToken.objects.get().last_used_at == later
