"""Writes for accounts: users, teams, API tokens and the desk's identity."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import ApiToken, DeskIdentity, Role, Team, User

TOKEN_PREFIX = "cl_"
# A token's use is recorded at most this often, so reads do not each write.
TOKEN_USE_INTERVAL = timedelta(seconds=60)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def user_create(
    *,
    username: str,
    email: str = "",
    role: str = Role.AGENT,
    password: str | None = None,
    tier: int = 1,
    first_name: str = "",
    last_name: str = "",
    customer=None,
) -> User:
    """Create a user with a role. Staff roles may use the admin; admins are superusers."""
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(Role.values)}")
    user = User(
        username=username,
        email=email,
        role=role,
        tier=tier,
        first_name=first_name,
        last_name=last_name,
        customer=customer,
        is_staff=role in (Role.MANAGER, Role.ADMIN),
        is_superuser=role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


def token_issue(*, user: User, name: str = "") -> str:
    """Create an API token for `user` and return it. It is never retrievable again."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, prefix=token[:10], digest=_token_digest(token))
    return token


# Stands for the digest in the owner query compiled once (`_token_owner_query`).
_DIGEST_SLOT = "\x00digest"


@functools.cache
def _token_owner_query() -> tuple[str, tuple[Any, ...]]:
    """The SQL that finds a token's active owner with the token's id and last use, compiled
    by the ORM once per process: it runs on every API request, and compiling it took longer
    than the database takes to answer it."""
    owners = User.objects.filter(
        is_active=True, api_tokens__digest=_DIGEST_SLOT, api_tokens__revoked_at__isnull=True
    ).annotate(token_id=F("api_tokens__id"), token_last_used_at=F("api_tokens__last_used_at"))
    return owners[:1].query.sql_with_params()


def _aware(value: datetime | str | None) -> datetime | None:
    # A raw query's extra columns skip the backend's conversion: SQLite gives text in UTC.
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None or timezone.is_aware(value):
        return value
    return value.replace(tzinfo=UTC)


def token_authenticate(*, token: str) -> User | None:
    """The active user owning `token`, or None. Side effects: records the token's use
    (`last_used_at`) at most once a minute."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    sql, slots = _token_owner_query()
    digest = _token_digest(token)
    params = [digest if slot == _DIGEST_SLOT else slot for slot in slots]
    user = next(iter(User.objects.raw(sql, params)), None)
    if user is None:
        return None
    now = timezone.now()
    stale = now - TOKEN_USE_INTERVAL
    last_used_at = _aware(user.token_last_used_at)  # type: ignore[attr-defined]
    if last_used_at is None or last_used_at < stale:
        # The condition is repeated in the UPDATE so that of concurrent requests that all
        # read a stale time, one writes.
        ApiToken.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale),
            pk=user.token_id,  # type: ignore[attr-defined]
        ).update(last_used_at=now)
    return user


def token_revoke(*, user: User, prefix: str) -> int:
    """Revoke the user's tokens starting with `prefix`; returns how many were revoked."""
    return ApiToken.objects.filter(user=user, prefix=prefix, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def team_add_member(*, team: Team, user: User) -> None:
    team.members.add(user)


@transaction.atomic
def desk_identity_set(*, name: str) -> DeskIdentity:
    """Name the desk as customers see it. Side effects: the one identity row is written."""
    name = (name or "").strip()
    if not name:
        raise ValueError("the desk needs a name")
    identity = DeskIdentity.objects.select_for_update().order_by("pk").first() or DeskIdentity()
    identity.name = name[:100]
    identity.full_clean()
    identity.save()
    return identity


def user_language_set(*, user: User, language: str) -> User:
    """The language of the workspace for `user`: a code from LANGUAGES, or '' to follow the
    browser. Raises ValueError for any other code."""
    language = (language or "").strip()
    if language and language not in dict(settings.LANGUAGES):
        raise ValueError(f"unknown language {language!r}")
    user.language = language
    user.save(update_fields=["language"])
    return user


def user_signature_set(*, user: User, signature: str) -> User:
    """The signature under `user`'s replies (trailing blank lines dropped; at most 1,000
    characters)."""
    user.signature = "\n".join(line.rstrip() for line in signature.strip().splitlines())[:1000]
    user.save(update_fields=["signature"])
    return user
