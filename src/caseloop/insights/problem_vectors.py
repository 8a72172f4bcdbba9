"""How recurring-problem detection and linking at intake see a case: its subject and first
message, as a sentence embedding when triage's embeddings extra is enabled (the same
encoder, loaded once per process) or as TF-IDF otherwise; each representation has its own
similarity thresholds. Also the graph of cases close to one another, computed in bounded
blocks of rows, and the per-process index of the cases linked to known problems that a new
case is compared with at intake."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import Count, Max, OuterRef, QuerySet, Subquery
from scipy.sparse import coo_matrix, csr_matrix, issparse
from scipy.sparse.csgraph import connected_components

from caseloop.cases.models import Case, Message
from caseloop.triage.embeddings import EmbeddingsUnavailable, embeddings_enabled, texts_embed
from caseloop.triage.learning import case_text

from .models import ProblemCase, ProblemChange

logger = logging.getLogger(__name__)

TFIDF = "tfidf"
EMBEDDINGS = "embeddings"
# Pairwise products computed at once while building the graph (about 16 MB of scores for
# dense vectors); a larger set of cases takes more blocks, never more memory.
PAIR_BUDGET = 4_000_000
# Edges held before they are folded into one edge per case towards its group's root.
EDGE_BUDGET = 2_000_000
# Sentence vectors kept per process, by text (half precision: about 77 MB when full).
VECTOR_CACHE_MAX = 100_000
# At intake, TF-IDF weights are learnt from the linked cases and this many recent cases.
INTAKE_CONTEXT_CASES = 2000
INTAKE_HASHED_TERMS = 2**20
# History rows that leave the linked cases of known problems as they were: after these,
# the intake index only adds the new links.
_KINDS_KEEPING_LINKS = frozenset(
    {"created", "case_linked", "updated", "contributor", "banner", "follower", "fix_published"}
)


def representation() -> str:
    """Sentence embeddings when triage uses them (its `TRIAGE_EMBEDDINGS` setting and the
    extra installed), TF-IDF otherwise."""
    try:
        return EMBEDDINGS if embeddings_enabled() else TFIDF
    except EmbeddingsUnavailable:
        logger.warning("embeddings are required but not installed: problems use TF-IDF")
        return TFIDF


@dataclass(frozen=True)
class CaseDoc:
    case_id: int
    customer_id: int
    category_id: int | None
    text: str


def case_docs(cases: QuerySet[Case], *, limit: int) -> list[CaseDoc]:
    """Each case's text as triage reads it (subject and first inbound message), in the
    queryset's order, at most `limit`."""
    first = Subquery(
        Message.objects.filter(case=OuterRef("pk"), direction=Message.Direction.INBOUND)
        .order_by("created_at", "id")
        .values("text")[:1]
    )
    rows = cases.annotate(first=first).values_list(
        "pk", "customer_id", "category_id", "subject", "first"
    )[:limit]
    return [
        CaseDoc(pk, customer, category, case_text(subject=subject, first_message=text or ""))
        for pk, customer, category, subject, text in rows
    ]


# --- sentence vectors ---------------------------------------------------------------------

_vectors: OrderedDict[bytes, np.ndarray] = OrderedDict()
_vectors_lock = threading.Lock()


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def texts_vectors(texts: Sequence[str]) -> np.ndarray:
    """Unit sentence vectors, one row per text; texts seen recently are not encoded again."""
    keys = [_digest(text) for text in texts]
    found: dict[bytes, np.ndarray] = {}
    with _vectors_lock:
        for key in keys:
            vector = _vectors.get(key)
            if vector is not None:
                _vectors.move_to_end(key)
                found[key] = vector
    missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in found}
    if missing:
        encoded = texts_embed(list(missing.values()))
        with _vectors_lock:
            for key, vector in zip(missing, encoded, strict=True):
                found[key] = _vectors[key] = vector.astype(np.float16)
            while len(_vectors) > VECTOR_CACHE_MAX:
                _vectors.popitem(last=False)
    if not keys:
        return np.zeros((0, 0), dtype=np.float32)
    return np.vstack([found[key] for key in keys]).astype(np.float32)


# --- the graph of close cases -------------------------------------------------------------


def _edges_fold(n: int, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same connectivity with at most n edges: each case to the first case of its group."""
    _, labels = _components(n, rows, cols)
    roots = np.full(labels.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(roots, labels, np.arange(n))
    linked = roots[labels] != np.arange(n)
    return np.flatnonzero(linked), roots[labels][linked]


def _components(n: int, rows: np.ndarray, cols: np.ndarray) -> tuple[int, np.ndarray]:
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    return int(count), np.asarray(labels)


def similarity_groups(
    matrix: Any,
    threshold: float,
    *,
    pair_budget: int = PAIR_BUDGET,
    edge_budget: int = EDGE_BUDGET,
) -> list[list[int]]:
    """Connected groups of the rows of `matrix` (unit vectors, sparse or dense) whose cosine
    similarity reaches `threshold`, each in row order, the groups by their first row.
    The similarities are computed a block of rows at a time, each block within
    `pair_budget` products, and only the pairs that reach the threshold are kept."""
    n = int(matrix.shape[0])
    if n == 0:
        return []
    sparse = issparse(matrix)
    if sparse:
        matrix = csr_matrix(matrix)
        present = matrix.copy()
        present.data = np.ones_like(present.data)
        # A row's products: for each of its terms, every row having that term.
        spent = np.cumsum(present @ np.asarray(present.sum(axis=0)).ravel())
    else:
        matrix = np.asarray(matrix, dtype=np.float32)
    kept_rows: list[np.ndarray] = []
    kept_cols: list[np.ndarray] = []
    held = 0
    start = 0
    while start < n:
        if sparse:
            before = spent[start - 1] if start else 0.0
            stop = int(np.searchsorted(spent, before + pair_budget, side="right"))
        else:
            stop = start + pair_budget // (n - start)
        stop = min(n, max(stop, start + 1))
        # Only the pairs (i, j) with i < j: this block against itself and the rows after it.
        scores = matrix[start:stop] @ matrix[start:].T
        if sparse:
            scores = scores.tocoo()
            keep = scores.data >= threshold
            rows, cols = scores.row[keep], scores.col[keep]
        else:
            rows, cols = np.nonzero(scores >= threshold)
        upper = cols > rows
        kept_rows.append(rows[upper].astype(np.int64) + start)
        kept_cols.append(cols[upper].astype(np.int64) + start)
        held += int(upper.sum())
        if held > edge_budget:
            folded = _edges_fold(n, np.concatenate(kept_rows), np.concatenate(kept_cols))
            kept_rows, kept_cols = [folded[0]], [folded[1]]
            held = len(folded[0])
        start = stop
    _, labels = _components(n, np.concatenate(kept_rows), np.concatenate(kept_cols))
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    groups = [part.tolist() for part in np.split(order, bounds)]
    groups.sort(key=lambda group: group[0])
    return groups


def dense(scores: Any) -> np.ndarray:
    return np.asarray(scores.toarray() if issparse(scores) else scores)


def closest(rows: Any, others: Any, *, pair_budget: int = PAIR_BUDGET) -> tuple[Any, Any]:
    """For each of `rows`, the index of the closest of `others` and its similarity, computed
    in blocks within `pair_budget` products."""
    n, m = int(rows.shape[0]), int(others.shape[0])
    if n == 0 or m == 0:
        return np.zeros(n, dtype=np.int64), np.full(n, -1.0)
    step = max(1, pair_budget // m)
    where, best = [], []
    for start in range(0, n, step):
        scores = dense(rows[start : start + step] @ others.T)
        where.append(scores.argmax(axis=1))
        best.append(scores.max(axis=1))
    return np.concatenate(where), np.concatenate(best)


# --- the cases of known problems, for intake ----------------------------------------------


@dataclass
class _LinkedState:
    last_link: tuple[int, Any] | None  # the newest link's id and time
    last_change: tuple[int, Any] | None  # the newest history row's id and time
    links: int


class _LinkedIndex:
    """The vectors of the cases linked to problems in given statuses, with their problems.
    Rebuilt when a problem changes status or a case is unlinked; new links are added."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.kind = ""
        self.statuses: tuple[str, ...] = ()
        self.state: _LinkedState | None = None
        self.vectorizer: Any = None
        self.matrix: Any = None
        self.problems = np.zeros(0, dtype=np.int64)

    def vectors(self, texts: list[str]) -> Any:
        if self.kind == EMBEDDINGS:
            return texts_vectors(texts)
        return self.vectorizer.transform(texts)

    def rebuild(self, *, kind: str, statuses: tuple[str, ...], state: _LinkedState) -> None:
        links = list(
            ProblemCase.objects.filter(problem__status__in=statuses).values_list(
                "case_id", "problem_id"
            )
        )
        docs = {
            d.case_id: d
            for d in case_docs(Case.objects.filter(pk__in=[c for c, _ in links]), limit=len(links))
        }
        links = [(c, p) for c, p in links if c in docs]
        texts = [docs[c].text for c, _ in links]
        self.kind, self.statuses, self.state = kind, statuses, state
        self.vectorizer = None
        if kind == TFIDF:
            from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
            from sklearn.pipeline import make_pipeline

            context = [
                d.text for d in case_docs(Case.objects.order_by("-id"), limit=INTAKE_CONTEXT_CASES)
            ]
            # Hashed terms: a case linked later is weighed by the words it has even when no
            # case the weights were learnt from had them (those count as the rarest).
            self.vectorizer = make_pipeline(
                HashingVectorizer(
                    ngram_range=(1, 2),
                    stop_words="english",
                    alternate_sign=False,
                    norm=None,
                    n_features=INTAKE_HASHED_TERMS,
                ),
                TfidfTransformer(sublinear_tf=True),
            ).fit(texts + context)
        self.matrix = self.vectors(texts)
        self.problems = np.array([p for _, p in links], dtype=np.int64)

    def extend(self, links: list[tuple[int, int]]) -> None:
        docs = {
            d.case_id: d
            for d in case_docs(Case.objects.filter(pk__in=[c for c, _ in links]), limit=len(links))
        }
        links = [(c, p) for c, p in links if c in docs]
        if not links:
            return
        added = self.vectors([docs[c].text for c, _ in links])
        if issparse(self.matrix):
            from scipy.sparse import vstack

            self.matrix = vstack([self.matrix, added]).tocsr()
        else:
            self.matrix = np.vstack([self.matrix, added]) if len(self.problems) else added
        self.problems = np.concatenate([self.problems, np.array([p for _, p in links])])


_linked = _LinkedIndex()


def _linked_state() -> _LinkedState:
    counted = ProblemCase.objects.aggregate(links=Count("id"), last=Max("id"))
    link = (
        ProblemCase.objects.filter(pk=counted["last"]).values_list("id", "linked_at").first()
        if counted["last"] is not None
        else None
    )
    change = ProblemChange.objects.order_by("-id").values_list("id", "created_at").first()
    return _LinkedState(last_link=link, last_change=change, links=counted["links"])


def _linked_catch_up(index: _LinkedIndex, state: _LinkedState) -> bool:
    """Bring the index up to `state` by adding the links made since it was built; False
    when only a rebuild can (a status changed, a case was unlinked, a row it saw is gone)."""
    old = index.state
    if old is None:
        return False
    if old.last_change is not None:
        changes = list(
            ProblemChange.objects.filter(pk__gte=old.last_change[0])
            .order_by("id")
            .values_list("id", "created_at", "kind")
        )
        if not changes or changes[0][:2] != old.last_change:
            return False
        if any(kind not in _KINDS_KEEPING_LINKS for _, _, kind in changes[1:]):
            return False
    elif ProblemChange.objects.exclude(kind__in=_KINDS_KEEPING_LINKS).exists():
        return False
    since = old.last_link[0] if old.last_link is not None else 0
    new = list(
        ProblemCase.objects.filter(pk__gte=since)
        .order_by("id")
        .values_list("id", "linked_at", "case_id", "problem_id", "problem__status")
    )
    if old.last_link is not None:
        if not new or new[0][:2] != old.last_link:
            return False
        new = new[1:]
    if old.links + len(new) != state.links:
        return False
    index.extend(
        [(case, problem) for _, _, case, problem, status in new if status in index.statuses]
    )
    index.state = state
    return True


def linked_match(
    *, text: str, statuses: tuple[str, ...], min_score: dict[str, float]
) -> tuple[int, float] | None:
    """The problem (in `statuses`) one of whose linked cases is closest to `text`, with that
    similarity, when it reaches `min_score` for the representation in use; on a tie, the
    most recent problem."""
    kind = representation()
    with _linked.lock:
        state = _linked_state()
        same_kind = _linked.kind == kind and _linked.statuses == statuses
        if not same_kind or (_linked.state != state and not _linked_catch_up(_linked, state)):
            _linked.rebuild(kind=kind, statuses=statuses, state=state)
        if not len(_linked.problems):
            return None
        query = _linked.vectors([text])
        scores = dense(_linked.matrix @ query.T).ravel()
        problems = _linked.problems
    top = float(scores.max())
    if top < min_score[kind]:
        return None
    return int(problems[scores >= top - 1e-9].max()), top
