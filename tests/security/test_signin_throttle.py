"""Staff sign-in is throttled per account and per address: failures lock for a window,
the right password included, and successful sign-ins do not count."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from caseloop.accounts.models import Role
from caseloop.accounts.signin import (
    SIGNIN_FAILURES_PER_ACCOUNT,
    SIGNIN_FAILURES_PER_ADDRESS,
    SIGNIN_LOCKOUT_SECONDS,
)
from tests.builders import fresh_address, make_user

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-ins; try again in 15 minutes."


def staff(role: str = Role.AGENT):
    # Usernames of their own: counters may live in a Redis shared with earlier runs.
    return make_user(role=role, username=f"staff-{uuid.uuid4().hex[:10]}", password="right-pw")


def sign_in(browser: Client, username: str, password: str, path: str = "/login/"):
    return browser.post(path, {"username": username, "password": password})


def signed_in(browser: Client) -> bool:
    return "_auth_user_id" in browser.session


def test_thirty_wrong_passwords_lock_the_account_until_the_window_ends(monkeypatch):
    user = staff()
    browser = Client(REMOTE_ADDR=fresh_address())
    first = sign_in(browser, user.username, "wrong")
    assert first.status_code == 200 and "didn&#x27;t match" in first.content.decode()
    for _ in range(29):
        sign_in(browser, user.username, "wrong")

    refused = sign_in(browser, user.username, "right-pw")
    assert refused.status_code == 200 and LOCKED in refused.content.decode()
    assert not signed_in(browser)
    # The account is locked, whichever address asks.
    elsewhere = Client(REMOTE_ADDR=fresh_address())
    assert LOCKED in sign_in(elsewhere, user.username, "right-pw").content.decode()

    later = timezone.now() + timedelta(seconds=SIGNIN_LOCKOUT_SECONDS + 1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert sign_in(browser, user.username, "right-pw").status_code == 302
    assert signed_in(browser)


def test_the_account_locks_after_the_limit_of_failures_and_not_before():
    user = staff()
    browser = Client(REMOTE_ADDR=fresh_address())
    for _ in range(SIGNIN_FAILURES_PER_ACCOUNT - 1):
        sign_in(browser, user.username, "wrong")
    assert sign_in(browser, user.username, "right-pw").status_code == 302
    browser.post("/logout/")
    sign_in(browser, user.username, "wrong")
    assert LOCKED in sign_in(browser, user.username, "right-pw").content.decode()


def test_many_failures_from_one_address_lock_that_address():
    user = staff()
    address = fresh_address()
    guesser = Client(REMOTE_ADDR=address)
    # Spread over many usernames, so no account reaches its own limit.
    for n in range(SIGNIN_FAILURES_PER_ADDRESS):
        sign_in(guesser, f"nobody-{uuid.uuid4().hex[:6]}-{n % 10}", "guess")

    same_address = Client(REMOTE_ADDR=address)
    refused = sign_in(same_address, user.username, "right-pw")
    assert LOCKED in refused.content.decode() and not signed_in(same_address)
    other_address = Client(REMOTE_ADDR=fresh_address())
    assert sign_in(other_address, user.username, "right-pw").status_code == 302


def test_successful_sign_ins_do_not_count():
    user = staff()
    address = fresh_address()
    for _ in range(SIGNIN_FAILURES_PER_ADDRESS + SIGNIN_FAILURES_PER_ACCOUNT):
        browser = Client(REMOTE_ADDR=address)
        assert sign_in(browser, user.username, "right-pw").status_code == 302


def test_the_admin_sign_in_counts_against_the_same_limits():
    admin = staff(role=Role.ADMIN)
    browser = Client(REMOTE_ADDR=fresh_address())
    for _ in range(SIGNIN_FAILURES_PER_ACCOUNT):
        sign_in(browser, admin.username, "wrong", path="/admin/login/")
    assert sign_in(browser, admin.username, "right-pw", path="/admin/login/").status_code == 200
    assert not signed_in(browser)
    assert LOCKED in sign_in(browser, admin.username, "right-pw").content.decode()
