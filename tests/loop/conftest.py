import pytest
from django.test import Client

from tests.builders import fresh_address


@pytest.fixture
def client():
    """Public link answers are rate-limited per client address, in a cache that may be
    shared with other runs: each test comes from an address of its own."""
    return Client(REMOTE_ADDR=fresh_address())


@pytest.fixture(autouse=True)
def _desk_in_pounds(settings):
    """Amounts read as the desk shows them: in pounds, whatever the environment says."""
    settings.DESK_CURRENCY = "GBP"
