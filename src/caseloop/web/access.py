"""Who may use a desk page: the checks every view starts with (403 for anyone else)."""

from __future__ import annotations

from typing import cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from caseloop.accounts.models import Role, User

MANAGER_ROLES = (Role.MANAGER, Role.ADMIN)


def agent_required(request: HttpRequest) -> User:
    """The signed-in member of staff (agent, manager or admin)."""
    user = cast(User, request.user)
    if not user.is_agent_like:
        raise PermissionDenied("agents only")
    return user


def manager_required(request: HttpRequest) -> User:
    """The signed-in manager or admin."""
    user = cast(User, request.user)
    if user.role not in MANAGER_ROLES:
        raise PermissionDenied("managers only")
    return user
