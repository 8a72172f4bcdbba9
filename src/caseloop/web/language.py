"""Which language a page is shown in.

LocaleMiddleware has already chosen from the browser's Accept-Language (else the desk
default). A signed-in agent's own choice (`User.language`, blank = follow the browser) and a
signed-in customer's `Customer.language` take precedence. Pages reached by a link that names
the customer (a survey, a plan to approve) call `language_activate_for_customer`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from caseloop.lib.language import language_supported


def _chosen(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    if user.is_customer and user.customer_id:
        return str(user.customer.language or "")
    return str(user.language or "")


def language_activate(request: HttpRequest, code: str) -> None:
    """Show the rest of this request in `code` (a supported variant of it)."""
    language = language_supported(code)
    translation.activate(language)
    request.LANGUAGE_CODE = language


def language_activate_for_customer(request: HttpRequest, customer: object | None) -> None:
    """A page reached by a link for `customer`: in their language when they have one."""
    code = getattr(customer, "language", "") if customer is not None else ""
    if code:
        language_activate(request, str(code))


class LanguageMiddleware:
    """After authentication: the signed-in person's language over the browser's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        code = _chosen(request)
        if code:
            language_activate(request, code)
        return self.get_response(request)
