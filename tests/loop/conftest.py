import pytest
from django.test import Client

from tests.builders import fresh_address


@pytest.fixture
def client():
    """Public link answers are rate-limited per client address, in a cache that may be
    shared with other runs: each test comes from an address of its own."""
    return Client(REMOTE_ADDR=fresh_address())
