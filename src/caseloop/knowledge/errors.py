"""Typed errors of the knowledge base; the API turns each into a clear 4xx."""

from __future__ import annotations

from caseloop.cases.errors import CaseError


class KnowledgeError(CaseError):
    status_code = 422


class ArticleInvalid(KnowledgeError):
    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class WorkflowError(KnowledgeError):
    """An article moved where its workflow does not go."""

    status_code = 409

    def __init__(self, current: str, target: str, allowed: list[str]) -> None:
        self.payload = {"current": current, "requested": target, "allowed": allowed}
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"an article cannot move from '{current}' to '{target}'; allowed from "
            f"'{current}': {allowed_text}"
        )


class ArticleLocked(KnowledgeError):
    status_code = 409


class MacroInvalid(KnowledgeError):
    def __init__(self, message: str, field: str = "body", unknown: list[str] | None = None):
        self.field = field
        self.payload = {"unknown_placeholders": unknown} if unknown else {}
        super().__init__(message)


class MacroNotAllowed(KnowledgeError):
    status_code = 403
