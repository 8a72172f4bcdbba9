"""What a search finds: an article hit or a message hit, whatever the backend."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Hit:
    article_id: int
    score: float
    title: str
    snippet_html: str
    kind: str = ""
    category_id: int | None = None
    audience: str = ""
    corrected_query: str = ""


@dataclass(frozen=True)
class MessageHit:
    message_id: int
    case_id: int
    score: float
    snippet_html: str
    case_reference: str = ""
    case_subject: str = ""
    case_status: str = ""
    direction: str = ""
    created_at: object = None
    extra: dict = field(default_factory=dict)
