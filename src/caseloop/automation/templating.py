"""The acknowledgement text's placeholders: which exist, whether a template uses only
those, and filling them in. Both the model's validation and the selectors read it."""

from __future__ import annotations

import string

ACK_PLACEHOLDERS = ("reference", "expected_response", "customer_name", "subject")
DEFAULT_ACK_SUBJECT = "We received your request [{reference}]"
DEFAULT_ACK_TEXT = (
    "Hello {customer_name},\n\n"
    'Thank you for contacting us. Your request "{subject}" is case {reference}.\n'
    "You can expect a first response {expected_response}.\n\n"
    "Please keep the reference {reference} in any reply."
)


def ack_render_check(text: str) -> str:
    """Why `text` is not a usable template ('' when it is)."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        return f"the braces do not match ({exc})"
    unknown = sorted({name for name in names if name not in ACK_PLACEHOLDERS})
    if unknown:
        return f"unknown placeholder {', '.join('{' + n + '}' for n in unknown)}"
    return ""


def ack_render(text: str, values: dict[str, str]) -> str:
    """Fill the placeholders; a broken template is shown literally rather than failing."""
    if ack_render_check(text):
        return text
    return text.format(**{name: values.get(name, "") for name in ACK_PLACEHOLDERS})
