import pytest
from django.test import Client

from tests.builders import fresh_address


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True, REMOTE_ADDR=fresh_address())


@pytest.fixture
def client():
    return Client(REMOTE_ADDR=fresh_address())
