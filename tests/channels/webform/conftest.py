import itertools
import uuid

import pytest
from django.test import Client

_addresses = itertools.count(1)


def fresh_address() -> str:
    """A client address no other test used, so per-address rate limits kept in a shared
    cache (Redis in the PostgreSQL run) never leak between tests or runs."""
    return f"fd00::{uuid.uuid4().hex[:4]}:{next(_addresses):x}"


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True, REMOTE_ADDR=fresh_address())


@pytest.fixture
def client():
    return Client(REMOTE_ADDR=fresh_address())
