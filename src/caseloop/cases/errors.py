"""Typed errors of the case domain; the API maps each kind to a clear 4xx."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from caseloop.lib.errors import DomainError, ErrorKind


class CaseError(DomainError):
    code = "case_error"
    kind = ErrorKind.INVALID


class InvalidTransition(CaseError):
    code = "invalid_transition"
    kind = ErrorKind.CONFLICT

    def __init__(self, current: str, target: str, allowed: list[str]) -> None:
        self.current, self.target, self.allowed = current, target, allowed
        self.payload = {"current": current, "requested": target, "allowed": allowed}
        allowed_text = ", ".join(allowed) if allowed else _("none")
        super().__init__(
            _(
                "cannot move a case from '%(current)s' to '%(target)s'; allowed from "
                "'%(current)s': %(allowed)s"
            )
            % {"current": current, "target": target, "allowed": allowed_text}
        )


class OwnershipError(CaseError):
    code = "ownership_conflict"
    kind = ErrorKind.CONFLICT


class AttachmentTooLarge(CaseError):
    code = "attachment_too_large"
    kind = ErrorKind.TOO_LARGE

    def __init__(self, filename: str, size: int, limit: int) -> None:
        self.filename, self.size, self.limit = filename, size, limit
        super().__init__(
            _("attachment '%(name)s' is %(size)s bytes; the limit is %(limit)s bytes")
            % {"name": filename, "size": size, "limit": limit}
        )


class CaseValidationError(CaseError):
    code = "case_invalid"
    kind = ErrorKind.INVALID

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class ReplyObjection(CaseError):
    """The reply coach has findings that hold the reply (`blocks`) and the agent has not
    chosen to send anyway. `findings` holds all of them, advice included."""

    code = "coach_objection"
    kind = ErrorKind.INVALID

    def __init__(self, findings: list[Any]) -> None:
        self.findings = findings
        self.payload = {"findings": [finding.as_dict() for finding in findings]}
        super().__init__(_("the reply coach has suggestions; revise the reply or send anyway"))
