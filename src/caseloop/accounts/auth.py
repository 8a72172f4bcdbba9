"""API authentication: Bearer tokens for integrations, the session (with CSRF) for the UI."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from caseloop.accounts.models import User
from caseloop.accounts.services import token_authenticate


class ApiRequest(HttpRequest):
    """The request an endpoint behind `AUTH` receives: Ninja has set `auth` to the user."""

    auth: User


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = token_authenticate(token=token)
        if user is not None:
            request.user = user
        return user


class Session(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return user if user and user.is_authenticated else None


AUTH = [BearerToken(), Session()]


def require_staff(request: ApiRequest) -> None:
    """Refuse customers: this endpoint is for agents, managers and admins."""
    if not request.auth.is_agent_like:
        raise HttpError(403, "this endpoint is for agents")


def require_role(request: ApiRequest, *roles: str) -> None:
    if request.auth.role not in roles:
        raise HttpError(403, f"this endpoint needs one of the roles: {', '.join(roles)}")
