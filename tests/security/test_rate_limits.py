"""Rate limits hold under parallel attempts, on the configured counter (Redis with
REDIS_URL, else the database) and on the database's own: exactly the limit gets through.

These tests need threads on connections of their own to the test database. SQLite's test
database lives in memory, where parallel writers are refused ("table is locked") and the
live server's threads share one connection; on SQLite, `test_client_address` floods a real
`caseloop serve` (SQLite file, two processes) instead."""

from __future__ import annotations

import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
import requests
from django.contrib.auth import authenticate
from django.contrib.auth.backends import ModelBackend
from django.core import mail
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, connections

from caseloop.accounts.signin import SIGNIN_FAILURES_PER_ACCOUNT
from caseloop.cases.models import Case
from caseloop.channels.webform.models import WebForm
from caseloop.lib.ratelimit import RateCount, rate_hit, rate_limit_hit
from caseloop.web.models import MagicLink
from caseloop.web.portal import RATE_LIMIT as PORTAL_LIMIT
from tests.builders import fresh_address, make_customer, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _parallel_connections():
    if connection.vendor == "sqlite":
        # Parallel writers lock SQLite's in-memory test database ("table is locked"). On
        # SQLite the limit is proven against a real `caseloop serve` on a file database, in
        # test_client_address.py.
        pytest.skip("SQLite's in-memory test database cannot take parallel writers")


PARALLEL = 20
T = TypeVar("T")


def in_parallel(attempt: Callable[[int], T], n: int = PARALLEL) -> list[T]:
    """Run `attempt(i)` in `n` threads released together, each on its own DB connection."""
    start = threading.Barrier(n)

    def run(i: int) -> T:
        start.wait()
        try:
            return attempt(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


@pytest.fixture
def database_counter(settings):
    """The database's counter, whatever the run's cache: a cache that is not Redis."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"rate-{uuid.uuid4().hex}",
        }
    }


def test_parallel_hits_on_the_configured_counter_let_exactly_the_limit_through():
    key = f"test:{uuid.uuid4().hex}"
    refused = in_parallel(lambda _: rate_limit_hit(key, limit=5, window=60))
    assert refused.count(False) == 5 and refused.count(True) == PARALLEL - 5


def test_parallel_hits_on_the_database_counter_let_exactly_the_limit_through(database_counter):
    assert not isinstance(caches["default"], RedisCache)  # so the database counts
    key = f"test:{uuid.uuid4().hex}"
    counts: list[RateCount] = in_parallel(lambda _: rate_hit(key, window=60))
    assert sorted(count.hits for count in counts) == list(range(1, PARALLEL + 1))
    assert len({count.resets_at_ms for count in counts}) == 1


def test_parallel_wrong_passwords_are_checked_only_up_to_the_account_limit(monkeypatch):
    user = make_user(username=f"staff-{uuid.uuid4().hex[:10]}", password="right-pw")
    checked: list[str] = []
    check = ModelBackend.authenticate

    def counted_check(self, request, username=None, password=None, **kwargs):
        checked.append(password)
        return check(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counted_check)
    users = in_parallel(lambda _: authenticate(None, username=user.username, password="wrong"))
    assert users == [None] * PARALLEL
    assert len(checked) == SIGNIN_FAILURES_PER_ACCOUNT
    assert authenticate(None, username=user.username, password="right-pw") is None
    assert len(checked) == SIGNIN_FAILURES_PER_ACCOUNT


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=10).text
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_parallel_posts_to_the_web_form_open_exactly_the_limit(live_server, settings):
    # Each run comes from an address of its own through a trusted proxy, so counters left
    # in a shared Redis by an earlier run do not count here.
    settings.TRUSTED_PROXIES = ["127.0.0.1/32", "::1/128"]
    address = fresh_address()
    form = WebForm.objects.create(key=f"t{uuid.uuid4().hex[:12]}", rate_limit=5)
    url = f"{live_server.url}/channels/form/{form.key}/"
    session = requests.Session()
    pages = [session.get(url, timeout=10).text for _ in range(PARALLEL)]
    tokens = [re.search(r'name="form_token" value="([^"]+)"', page).group(1) for page in pages]
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', pages[0]).group(1)
    cookies = session.cookies.get_dict()

    def post(i: int) -> int:
        data = {
            "csrfmiddlewaretoken": csrf,
            "form_token": tokens[i],
            "name": "Ann Lee",
            "email": f"ann{i}@example.com",
            "subject": f"Flood {i}",
            "message": "The kettle leaks.",
            "website": "",
        }
        response = requests.post(
            url,
            data=data,
            cookies=cookies,
            headers={"X-Forwarded-For": address, "Referer": url},
            allow_redirects=False,
            timeout=30,
        )
        return response.status_code

    statuses = Counter(in_parallel(post))
    assert statuses == {302: 5, 429: PARALLEL - 5}
    assert Case.objects.count() == 5


def test_parallel_portal_sign_ins_send_exactly_the_limit_of_links(live_server, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1/32", "::1/128"]
    email = f"dana-{uuid.uuid4().hex[:8]}@example.com"
    make_customer(email=email)
    url = f"{live_server.url}/portal/sign-in/"
    session = requests.Session()
    csrf = _csrf(session, url)
    cookies = session.cookies.get_dict()

    def post(i: int) -> int:
        # Every request from an address of its own: the customer's limit alone holds.
        response = requests.post(
            url,
            data={"csrfmiddlewaretoken": csrf, "email": email},
            cookies=cookies,
            headers={"X-Forwarded-For": fresh_address(), "Referer": url},
            timeout=30,
        )
        return response.status_code

    statuses = Counter(in_parallel(post))
    assert statuses == {200: PORTAL_LIMIT, 429: PARALLEL - PORTAL_LIMIT}
    assert len([m for m in mail.outbox if m.to == [email]]) == PORTAL_LIMIT
    assert MagicLink.objects.filter(email=email).count() == PORTAL_LIMIT
