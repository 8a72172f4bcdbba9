"""The one family of domain errors.

Every refusal the domain raises is a `DomainError` with a stable machine `code` (for clients
and logs) and a `kind` (what sort of refusal it is). The domain never speaks HTTP: the edges
(the API's single DomainError handler, the few HTML views that answer with a status) turn a
kind into a status with `http_status_for`, the one table of that mapping.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class ErrorKind(StrEnum):
    INVALID = "invalid"  # the request breaks a rule of the domain
    MALFORMED = "malformed"  # the input cannot even be read
    UNAUTHENTICATED = "unauthenticated"  # the caller could not be verified (e.g. a signature)
    FORBIDDEN = "forbidden"  # the caller is known but may not do this
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # the state of things does not allow it (now)
    GONE = "gone"  # it existed once and has expired
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"


class DomainError(Exception):
    """Base of every domain error. Subclasses set `code` and `kind` as class attributes;
    they may carry a `field` (the input at fault) and a `payload` dict of further
    machine-readable facts."""

    code: ClassVar[str] = "domain_error"
    kind: ClassVar[ErrorKind] = ErrorKind.INVALID

    def summary(self) -> str:
        """One human-readable sentence for the caller."""
        return str(self)

    def facts(self) -> dict[str, Any]:
        """Machine-readable details beside the summary: the field at fault, the payload."""
        facts: dict[str, Any] = {}
        field = getattr(self, "field", None)
        if field:
            facts["field"] = field
        payload = getattr(self, "payload", None)
        if isinstance(payload, dict):
            facts.update(payload)
        return facts


_HTTP_STATUS: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 422,
    ErrorKind.MALFORMED: 400,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.GONE: 410,
    ErrorKind.TOO_LARGE: 413,
    ErrorKind.RATE_LIMITED: 429,
}


def http_status_for(error: DomainError) -> int:
    """The HTTP status an edge answers `error` with. Reads the class's kind: an instance may
    carry a data attribute of the same name (InvalidContactPoint.kind is "email", "phone"…)."""
    return _HTTP_STATUS[type(error).kind]
