"""Typo-tolerant fallback: correct query words to the knowledge base's own vocabulary."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q
from django.db.models.functions import Length

from ..models import Term


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions, swaps."""
    if a == b:
        return 0
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _allowed_distance(word: str) -> int:
    return 1 if len(word) <= 5 else 2


def _candidates(word: str) -> set[str]:
    slack = _allowed_distance(word)
    near = (
        Term.objects.annotate(n=Length("word"))
        .filter(n__gte=len(word) - slack, n__lte=len(word) + slack)
        .filter(Q(word__startswith=word[0]) | Q(word__endswith=word[-1]))
        .values_list("word", flat=True)[:5000]
    )
    found = set(near)
    if connection.vendor == "postgresql":
        # pg_trgm finds words whose first and last letters are both wrong.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT word FROM knowledge_term WHERE word %% %s "
                "ORDER BY similarity(word, %s) DESC, word LIMIT 20",
                [word, word],
            )
            found.update(row[0] for row in cursor.fetchall())
    return found


def term_correct(word: str) -> str | None:
    """The closest known word to `word` within one or two edits, or None when `word` is
    known or nothing is close."""
    if len(word) < 3 or not word.isalpha() or Term.objects.filter(word=word).exists():
        return None
    best: tuple[int, int, str] | None = None
    limit = _allowed_distance(word)
    for candidate in _candidates(word):
        distance = edit_distance(word, candidate)
        if distance <= limit:
            key = (distance, abs(len(candidate) - len(word)), candidate)
            if best is None or key < best:
                best = key
    return best[2] if best else None


def query_correct(terms: list[str]) -> list[str] | None:
    """`terms` with misspelt words corrected, or None when nothing could be corrected."""
    corrected = [term_correct(term) or term for term in terms]
    return corrected if corrected != terms else None
