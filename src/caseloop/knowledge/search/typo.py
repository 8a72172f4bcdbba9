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


def _near_filter(word: str) -> Q:
    slack = _allowed_distance(word)
    return Q(n__gte=len(word) - slack, n__lte=len(word) + slack) & (
        Q(word__startswith=word[0]) | Q(word__endswith=word[-1])
    )


def _candidates(words: list[str]) -> dict[str, set[str]]:
    """Known words that could be each of `words` misspelt, in one query (two on
    PostgreSQL): close in length and sharing the first or the last letter, and, through
    pg_trgm, trigram-similar words whose first and last letters are both wrong."""
    found: dict[str, set[str]] = {word: set() for word in words}
    if not words:
        return found
    near = Q()
    for word in words:
        near |= _near_filter(word)
    rows = (
        Term.objects.annotate(n=Length("word"))
        .filter(near)
        .values_list("word", flat=True)[: 5000 * len(words)]
    )
    for known in rows:
        for word in words:
            slack = _allowed_distance(word)
            if abs(len(known) - len(word)) <= slack and (
                known[0] == word[0] or known[-1] == word[-1]
            ):
                found[word].add(known)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT q.w, t.word FROM unnest(%s::text[]) AS q(w) CROSS JOIN LATERAL ("
                " SELECT word FROM knowledge_term WHERE word %% q.w"
                " ORDER BY similarity(word, q.w) DESC, word LIMIT 20) AS t",
                [words],
            )
            for word, known in cursor.fetchall():
                found[word].add(known)
    return found


def _closest(word: str, candidates: set[str]) -> str | None:
    best: tuple[int, int, str] | None = None
    limit = _allowed_distance(word)
    for candidate in candidates:
        distance = edit_distance(word, candidate)
        if distance <= limit:
            key = (distance, abs(len(candidate) - len(word)), candidate)
            if best is None or key < best:
                best = key
    return best[2] if best else None


def terms_correct(words: list[str]) -> dict[str, str]:
    """For each word of `words` the knowledge base does not know, the closest known word
    within one or two edits, when there is one. A fixed number of queries, whatever the
    number of words."""
    eligible = sorted({w for w in words if len(w) >= 3 and w.isalpha()})
    if not eligible:
        return {}
    known = set(Term.objects.filter(word__in=eligible).values_list("word", flat=True))
    unknown = [w for w in eligible if w not in known]
    corrections = {}
    for word, candidates in _candidates(unknown).items():
        closest = _closest(word, candidates)
        if closest is not None:
            corrections[word] = closest
    return corrections


def term_correct(word: str) -> str | None:
    """The closest known word to `word` within one or two edits, or None when `word` is
    known or nothing is close."""
    return terms_correct([word]).get(word)


def query_correct(terms: list[str]) -> list[str] | None:
    """`terms` with misspelt words corrected, or None when nothing could be corrected."""
    corrections = terms_correct(terms)
    corrected = [corrections.get(term, term) for term in terms]
    return corrected if corrected != terms else None
