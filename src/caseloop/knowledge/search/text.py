"""Query parsing and safe snippets, shared by both search backends."""

from __future__ import annotations

import re

from django.utils.html import escape

# Sentinels the databases put around matched words; replaced by <mark> after escaping.
START, STOP = "\x01", "\x02"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_MARKED = re.compile(re.escape(START) + r"(.*?)" + re.escape(STOP), re.DOTALL)

# Words that carry no meaning in a question; dropping them keeps OR-queries selective.
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "im",
        "ive",
        "id",
        "dont",
        "cant",
        "wont",
        "didnt",
        "doesnt",
        "isnt",
        "please",
        "hi",
        "hello",
        "thanks",
        "thank",
    ]
)


def strip_control(text: str) -> str:
    """`text` without control characters (they are reserved for highlight markers)."""
    return _CONTROL.sub("", text or "")


def query_terms(query: str, *, max_terms: int = 32) -> list[str]:
    """The meaningful words of a query, lower-cased, in order, without repeats."""
    seen: list[str] = []
    for token in _TOKEN.findall((query or "").lower()):
        if token in STOPWORDS or len(token) > 64 or token in seen:
            continue
        seen.append(token)
        if len(seen) >= max_terms:
            break
    return seen


def words(text: str) -> set[str]:
    """Distinct alphabetic words of 3 to 32 letters: the vocabulary typos are corrected to."""
    return {
        token
        for token in _TOKEN.findall((text or "").lower())
        if 3 <= len(token) <= 32 and token.isalpha()
    }


def snippet_safe(raw: str) -> str:
    """Escape `raw` and turn the highlight sentinels into <mark> tags: the only HTML left."""
    escaped = escape(raw or "")
    marked = _MARKED.sub(r"<mark>\1</mark>", escaped)
    return marked.replace(START, "").replace(STOP, "")
