"""Password sign-in, throttled per account and per client address.

Every password attempt (the sign-in page, the admin's) goes through
`ThrottledModelBackend`. It counts the attempt against the username and the address
before checking the password, so parallel guesses cannot all slip in under the limit, and
takes the count back when the password was right: only failures lock. While a username or
an address is locked every attempt is refused, the right password included."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from caseloop.lib.ratelimit import client_address, rate_hit, rate_hit_withdraw, rate_read

from .models import User

SIGNIN_FAILURES_PER_ACCOUNT = 10
SIGNIN_FAILURES_PER_ADDRESS = 30
SIGNIN_LOCKOUT_SECONDS = 15 * 60


class SigninThrottled(PermissionDenied):
    """Too many failed sign-ins for this username or from this address."""

    def __init__(self, seconds_left: int) -> None:
        self.seconds_left = seconds_left
        minutes = max(1, -(-seconds_left // 60))
        super().__init__(
            f"Too many failed sign-ins; try again in {minutes} minute{'s' if minutes > 1 else ''}."
        )


def _keys(*, username: str, request: HttpRequest | None) -> list[tuple[str, int]]:
    keys = [(f"signin:user:{username.casefold()}", SIGNIN_FAILURES_PER_ACCOUNT)]
    if request is not None:
        keys.insert(0, (f"signin:address:{client_address(request)}", SIGNIN_FAILURES_PER_ADDRESS))
    return keys


def signin_lockout(*, username: str, request: HttpRequest | None) -> SigninThrottled | None:
    """Why the next attempt for `username` from this request's client would be refused,
    or None when it would be checked."""
    for key, limit in _keys(username=username, request=request):
        count = rate_read(key)
        if count.hits >= limit:
            return SigninThrottled(count.seconds_left())
    return None


class ThrottledModelBackend(ModelBackend):
    """Django's username-and-password check behind the sign-in limits. It answers every
    password attempt itself, a user or PermissionDenied, so no later backend re-checks one."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        counted: list[str] = []
        for key, limit in _keys(username=str(username), request=request):
            count = rate_hit(key, window=SIGNIN_LOCKOUT_SECONDS)
            counted.append(key)
            if count.hits > limit:
                raise SigninThrottled(count.seconds_left())
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            raise PermissionDenied("wrong username or password")
        for key in counted:
            rate_hit_withdraw(key)
        return user
