"""The desk's settings are read once per process and read again as soon as they change:
in this process at once, in others when the shared generation moves; a rolled-back change
is never kept."""

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from caseloop.accounts.models import DeskIdentity
from caseloop.automation.models import SlaPolicy
from caseloop.automation.selectors import response_policy_load
from caseloop.lib import settings_cache
from caseloop.triage import learning
from caseloop.triage.models import KeywordRule
from tests.builders import make_category

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _urgent_policy():
    SlaPolicy.objects.get_or_create(
        name="Urgent", defaults={"priority": "urgent", "first_response_minutes": 60}
    )


def _first_response_minutes(priority="urgent"):
    from caseloop.automation.selectors import CaseKeys

    return response_policy_load().targets_for(CaseKeys(priority=priority)).targets.first_response


def test_a_setting_is_read_once_and_again_right_after_it_changes():
    before = _first_response_minutes()
    with CaptureQueriesContext(connection) as reads:
        assert _first_response_minutes() == before
    assert not reads.captured_queries
    policy = SlaPolicy.objects.filter(priority="urgent").first()
    policy.first_response_minutes = before + 7
    policy.save()
    assert _first_response_minutes() == before + 7


def test_a_change_rolled_back_is_not_kept():
    before = _first_response_minutes()
    with pytest.raises(RuntimeError), transaction.atomic():
        policy = SlaPolicy.objects.filter(priority="urgent").first()
        policy.first_response_minutes = before + 30
        policy.save()
        assert _first_response_minutes() == before + 30  # the transaction sees its change
        raise RuntimeError("the change is abandoned")
    assert _first_response_minutes() == before


def test_another_process_change_is_seen_once_the_shared_generation_moves(monkeypatch):
    monkeypatch.setattr(settings_cache, "CHECK_SECONDS", 0)
    before = _first_response_minutes()
    # Another process saves: this one gets no signal, only the new generation.
    SlaPolicy.objects.filter(priority="urgent").update(first_response_minutes=before + 5)
    assert _first_response_minutes() == before  # still the kept value
    cache.set(settings_cache._KEY.format("automation.response_policy"), "elsewhere", None)
    assert _first_response_minutes() == before + 5


def test_keyword_rules_and_the_desk_name_follow_their_changes():
    category = make_category(name="Billing")
    assert learning._rules_guess("a double charge").category_id is None
    KeywordRule.objects.create(category=category, keywords="double charge")
    assert learning._rules_guess("a double charge").category_id == category.pk
    category.is_active = False
    category.save()
    assert learning._rules_guess("a double charge").category_id is None

    desk = DeskIdentity.current()
    desk.name = "Edited, not saved"
    assert DeskIdentity.current().name != "Edited, not saved"  # callers get copies
    DeskIdentity.objects.update_or_create(pk=desk.pk or 1, defaults={"name": "Kettles Inc"})
    assert DeskIdentity.current().name == "Kettles Inc"
