"""Typed errors of the case domain; the API maps each to a clear 4xx."""

from __future__ import annotations


class CaseError(Exception):
    status_code = 422


class InvalidTransition(CaseError):
    status_code = 409

    def __init__(self, current: str, target: str, allowed: list[str]) -> None:
        self.current, self.target, self.allowed = current, target, allowed
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"cannot move a case from '{current}' to '{target}'; allowed from '{current}': "
            f"{allowed_text}"
        )


class OwnershipError(CaseError):
    status_code = 409


class AttachmentTooLarge(CaseError):
    status_code = 413

    def __init__(self, filename: str, size: int, limit: int) -> None:
        self.filename, self.size, self.limit = filename, size, limit
        super().__init__(f"attachment '{filename}' is {size} bytes; the limit is {limit} bytes")


class CaseValidationError(CaseError):
    status_code = 422

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)
