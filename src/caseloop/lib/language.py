"""The language a message or page is written in.

Automatic messages to a customer (acknowledgements, survey invitations, sign-in links,
letters, notices, reminders) are written in the customer's language, whatever language the
agent or the worker happens to be using; an unknown or unsupported code falls back to the
desk's default (``LANGUAGE_CODE``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.utils import translation


def language_supported(code: str | None) -> str:
    """The supported language closest to `code` ("de-AT" → "de"), else the desk default."""
    if code:
        try:
            return translation.get_supported_language_variant(code.strip().replace("_", "-"))
        except LookupError:
            pass
    return translation.get_supported_language_variant(settings.LANGUAGE_CODE)


@contextmanager
def language_override(code: str | None) -> Iterator[str]:
    """Render what is inside in `code` (or the desk default); yields the language used."""
    language = language_supported(code)
    with translation.override(language):
        yield language


def customer_language(customer: object | None) -> str:
    """The language of messages to `customer` (anything with a `language` attribute)."""
    return language_supported(getattr(customer, "language", None))
