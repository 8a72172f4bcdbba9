"""The rate counters' windows: opened by the first attempt, counted, taken back, closed by
the clock; the database's expired rows pruned."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from caseloop.accounts.models import RateCounter
from caseloop.accounts.ratecounters import rate_counters_prune
from caseloop.lib.ratelimit import rate_hit, rate_hit_withdraw, rate_read

pytestmark = pytest.mark.django_db


def database_counter(settings) -> None:
    """Count in the database, whatever the run's cache: a cache that is not Redis."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"rate-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture(params=["configured", "database"])
def counter(request, settings):
    """The run's counter (Redis with REDIS_URL), and the database's in every run."""
    if request.param == "database":
        database_counter(settings)
    return request.param


def test_a_window_counts_from_its_first_attempt_until_the_clock_passes_it(counter, monkeypatch):
    key = f"test:{uuid.uuid4().hex}"
    assert rate_read(key).hits == 0
    first = rate_hit(key, window=60)
    assert first.hits == 1 and rate_hit(key, window=60) == type(first)(2, first.resets_at_ms)
    assert rate_read(key).hits == 2 and 59 <= rate_read(key).seconds_left() <= 60

    rate_hit_withdraw(key)
    assert rate_read(key).hits == 1

    later = timezone.now() + timedelta(seconds=61)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert rate_read(key).hits == 0
    rate_hit_withdraw(key)  # nothing open: nothing to take back
    again = rate_hit(key, window=60)
    assert again.hits == 1 and again.resets_at_ms > first.resets_at_ms


def test_pruning_forgets_only_the_database_windows_that_have_ended(settings, monkeypatch):
    database_counter(settings)
    short, long = f"test:{uuid.uuid4().hex}", f"test:{uuid.uuid4().hex}"
    rate_hit(short, window=10)
    rate_hit(long, window=600)
    later = timezone.now() + timedelta(seconds=11)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert rate_counters_prune() == 1
    assert RateCounter.objects.count() == 1 and rate_read(long).hits == 1
