"""Small text helpers shared by several apps."""

from __future__ import annotations


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with an ellipsis when cut."""
    text = text or ""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"
