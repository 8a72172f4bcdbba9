"""Reply tokens: outbound mail carries the case reference in a signed plus-address
(support+CL-000123.<signature>@example.com) and in the subject ([CL-000123]).

A signed token proves the reply answers our mail about that case, so it may thread even from
another address (a colleague answering); a bare subject tag only threads for the same
customer, so guessing a reference cannot write into someone else's case.
"""

from __future__ import annotations

import re

from django.utils.crypto import constant_time_compare, salted_hmac

_SALT = "caseloop.channels.email.reply-token"
_TOKEN_RE = re.compile(r"^(CL-\d{1,12})\.([0-9a-f]{16})$", re.IGNORECASE)
_SUBJECT_TAG_RE = re.compile(r"\[(CL-\d{1,12})\]", re.IGNORECASE)


def _signature(reference: str) -> str:
    return salted_hmac(_SALT, reference.upper(), algorithm="sha256").hexdigest()[:16]


def reply_address(*, mailbox_address: str, reference: str) -> str:
    """The plus-address that routes a reply back to the case."""
    local, _, domain = mailbox_address.partition("@")
    return f"{local}+{reference.upper()}.{_signature(reference)}@{domain}"


def reply_token_verify(address: str) -> tuple[str, bool] | None:
    """(reference, verified) when `address` carries a reply token; None when it carries none.
    Mail systems may lower-case local parts, so the token is read case-insensitively."""
    local = address.partition("@")[0]
    if "+" not in local:
        return None
    tag = local.partition("+")[2]
    match = _TOKEN_RE.match(tag)
    if match is None:
        return None
    reference = match.group(1).upper()
    return reference, constant_time_compare(match.group(2).lower(), _signature(reference))


def address_base(address: str) -> str:
    """The address without its plus tag: support+anything@x → support@x."""
    local, _, domain = address.lower().strip().partition("@")
    return f"{local.partition('+')[0]}@{domain}"


def subject_reference(subject: str) -> str:
    match = _SUBJECT_TAG_RE.search(subject or "")
    return match.group(1).upper() if match else ""


def subject_tagged(subject: str, reference: str) -> str:
    """The subject with the case tag, added once."""
    subject = (subject or "").strip()
    if f"[{reference}]".lower() in subject.lower():
        return subject
    return f"{subject} [{reference}]".strip()
