"""Template context for every page: the desk as customers know it.

`desk` is read lazily, once per request, and only by pages that show it, so the agent pages
(which name the product, not the desk) run no query for it.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from caseloop.accounts.models import DeskIdentity


def desk(request: HttpRequest) -> dict[str, object]:
    return {"desk": SimpleLazyObject(DeskIdentity.current)}
