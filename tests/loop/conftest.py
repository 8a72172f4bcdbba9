import pytest
from django.core.cache import cache

from caseloop.cases.loop.views import RATE_KEY

# Only our own key: the cache may be a Redis shared with other processes, so never clear it.
TEST_CLIENT_KEY = RATE_KEY.format(address="127.0.0.1")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Public link answers are rate-limited per client address; start each test clean."""
    cache.delete(TEST_CLIENT_KEY)
    yield
    cache.delete(TEST_CLIENT_KEY)
