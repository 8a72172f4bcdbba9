"""Typed errors of the knowledge base; the API turns each kind into a clear 4xx."""

from __future__ import annotations

from caseloop.cases.errors import CaseError
from caseloop.lib.errors import ErrorKind


class KnowledgeError(CaseError):
    code = "knowledge_error"
    kind = ErrorKind.INVALID


class ArticleInvalid(KnowledgeError):
    code = "article_invalid"

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class WorkflowError(KnowledgeError):
    """An article moved where its workflow does not go."""

    code = "invalid_article_transition"
    kind = ErrorKind.CONFLICT

    def __init__(self, current: str, target: str, allowed: list[str]) -> None:
        self.payload = {"current": current, "requested": target, "allowed": allowed}
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"an article cannot move from '{current}' to '{target}'; allowed from "
            f"'{current}': {allowed_text}"
        )


class ArticleLocked(KnowledgeError):
    code = "article_locked"
    kind = ErrorKind.CONFLICT


class MacroInvalid(KnowledgeError):
    code = "macro_invalid"

    def __init__(self, message: str, field: str = "body", unknown: list[str] | None = None):
        self.field = field
        self.payload = {"unknown_placeholders": unknown} if unknown else {}
        super().__init__(message)


class MacroNotAllowed(KnowledgeError):
    code = "macro_not_allowed"
    kind = ErrorKind.FORBIDDEN
