"""The acknowledgement text's placeholders: which exist, whether a template uses only
those, and filling them in. Both the model's validation and the selectors read it."""

from __future__ import annotations

import string

from django.utils.translation import gettext, gettext_noop

ACK_PLACEHOLDERS = (
    "reference",
    "expected_response",
    "customer_name",
    "subject",
    "desk_name",
    "portal_link",
)
# Placeholders that may have no value (a customer without an email address cannot sign in
# to the portal): a line holding one of them is left out when it is empty.
ACK_OPTIONAL_PLACEHOLDERS = ("portal_link",)
# The built-in texts are written in the customer's language (the placeholders stay as they
# are); a text an admin wrote is sent as written.
DEFAULT_ACK_SUBJECT = gettext_noop("We received your request [{reference}]")
DEFAULT_ACK_TEXT = gettext_noop(
    "Hello {customer_name},\n\n"
    'Thank you for contacting {desk_name}. Your request "{subject}" is case {reference}.\n'
    "You can expect a first response {expected_response}.\n"
    "Follow your case and write to us online: {portal_link}\n\n"
    "Please keep the reference {reference} in any reply.\n\n"
    "The {desk_name} team"
)

# The text migration 0002 seeded every desk with. A desk that never edited it gets today's
# default (with the desk's name and the portal link) rather than the old words.
SEEDED_ACK_TEXT = (
    "Hello {customer_name},\n\n"
    'Thank you for contacting us. Your request "{subject}" is case {reference}.\n'
    "You can expect a first response {expected_response}.\n\n"
    "Please keep the reference {reference} in any reply."
)


def _names(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def _holds(line: str, names: set[str]) -> bool:
    try:
        return bool(names.intersection(_names(line)))
    except ValueError:
        return False


def ack_render_check(text: str) -> str:
    """Why `text` is not a usable template ('' when it is)."""
    try:
        names = _names(text)
    except ValueError as exc:
        return f"the braces do not match ({exc})"
    unknown = sorted({name for name in names if name not in ACK_PLACEHOLDERS})
    if unknown:
        return f"unknown placeholder {', '.join('{' + n + '}' for n in unknown)}"
    return ""


def ack_render(text: str, values: dict[str, str]) -> str:
    """Fill the placeholders; a broken template is shown literally rather than failing.
    Lines holding an optional placeholder without a value are left out."""
    if text == SEEDED_ACK_TEXT:
        text = DEFAULT_ACK_TEXT
    if text in (DEFAULT_ACK_SUBJECT, DEFAULT_ACK_TEXT):
        text = gettext(text)
    if ack_render_check(text):
        return text
    empty = {name for name in ACK_OPTIONAL_PLACEHOLDERS if not values.get(name)}
    if empty:
        text = "\n".join(line for line in text.split("\n") if not _holds(line, empty))
    return text.format(**{name: values.get(name, "") for name in ACK_PLACEHOLDERS})
