"""Two rankers beside full-text search, learned from the knowledge base and the desk's history.

- Meaning: every article as a vector (TF-IDF words and character 4-grams reduced by LSA in
  the default install; sentence vectors of its passages with the embeddings extra), so a
  question finds an article that says the same thing in other words.
- History: a linear model over the questions each article has answered before (resolved
  cases an agent solved with it, questions a customer said it answered), so an article is
  found by questions like those.

An index is built by a job from the database and read by every search; a query encodes only
itself. Which articles a search may return is never decided here: the caller filters the
ranked ids against the database.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

ENCODER_WORDS = "words"
ENCODER_SENTENCES = "sentences"

# LSA dimensions: enough to keep distinct topics apart, small enough that 10,000 articles
# score in about a millisecond. With fewer texts than LSA_MIN_TEXTS the reduction has too
# little to learn from and the TF-IDF vectors are compared as they are.
LSA_DIMENSIONS = 192
LSA_MIN_TEXTS = 400
# Vocabulary caps keep the stored projection small (dimensions x features floats).
WORD_FEATURES = 20_000
CHAR_FEATURES = 30_000
# An article is split into passages of about this many words for sentence vectors, which
# read only the start of a long text.
PASSAGE_WORDS = 60
# Texts of articles no one has linked yet, taught to the history model as "none of these":
# a question unlike every answered one is then not forced onto the nearest learned article.
BACKGROUND_TEXTS = 300
# Below these a ranker's candidate is noise, not a match.
MEANING_MIN = {ENCODER_WORDS: 0.35, ENCODER_SENTENCES: 0.35}
TFIDF_MIN = 0.12
HISTORY_MIN = -0.6
BACKGROUND = -1


@dataclass(frozen=True)
class Example:
    """A question an article answered: a resolved case's text or a customer's search."""

    article_id: int
    text: str


@lru_cache(maxsize=1)
def _threadpools():
    from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

    return ThreadpoolController()


def one_thread():
    """Matrix products of one query on one thread: at this size, handing the work to the
    BLAS threads costs several times the arithmetic, more on busy cores."""
    return _threadpools().limit(limits=1, user_api="blas")


def text_digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def passages_split(title: str, body: str) -> list[str]:
    """The article as passages of about PASSAGE_WORDS words, each led by the title."""
    lines = [line.strip() for line in re.split(r"\n+", body or "") if line.strip()]
    passages: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        words = len(line.split())
        if current and size + words > PASSAGE_WORDS:
            passages.append(" ".join(current))
            current, size = [], 0
        current.append(line)
        size += words
    if current:
        passages.append(" ".join(current))
    return [f"{title}. {passage}" for passage in passages] or [title]


def article_text(title: str, body: str) -> str:
    # The title twice: it says what the article is about more surely than any body line.
    return f"{title}. {title}.\n{body}"


def _words_features(*, min_df: int):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    sublinear_tf=True,
                    ngram_range=(1, 2),
                    max_features=WORD_FEATURES,
                    dtype=np.float32,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    sublinear_tf=True,
                    analyzer="char_wb",
                    ngram_range=(4, 4),
                    min_df=min_df,
                    max_features=CHAR_FEATURES,
                    dtype=np.float32,
                ),
            ),
        ]
    )


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32)


@dataclass
class RetrievalIndex:
    encoder: str
    features: object  # TF-IDF words and character n-grams, fitted on articles and examples
    projection: np.ndarray | None  # LSA over `features`, features x dimensions (words)
    article_ids: np.ndarray  # one row per article (words) or per passage (sentences)
    article_vectors: object  # dense rows; sparse TF-IDF rows when there is no projection
    # A linear model as (weights: features x classes, bias, classes): classes are article
    # ids and BACKGROUND. Stored as plain arrays so a query costs one sparse product.
    history: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    n_articles: int = 0
    n_examples: int = 0
    # Sentence vectors by text digest, reused by the next build for unchanged texts.
    sentence_cache: dict[str, np.ndarray] = field(default_factory=dict)

    def query_encode(self, query: str) -> dict:
        encoded: dict = {"features": features_one(self.features, query)}
        if self.encoder == ENCODER_SENTENCES:
            from caseloop.lib.sentences import sentence_vectors

            encoded["sentences"] = sentence_vectors([query])
        return encoded

    def meaning_ranked(self, encoded: dict, *, limit: int) -> list[tuple[int, float]]:
        """Articles closest in meaning to the query, best first, above the noise floor."""
        if not len(self.article_ids):
            return []
        if self.encoder == ENCODER_WORDS and not encoded["features"].nnz:
            return []
        floor = MEANING_MIN[self.encoder]
        if self.encoder == ENCODER_SENTENCES:
            scores = self.article_vectors @ encoded["sentences"][0]
        elif self.projection is None:
            from sklearn.preprocessing import normalize

            query = normalize(encoded["features"])
            scores = (self.article_vectors @ query.T).toarray().ravel()
            floor = TFIDF_MIN
        else:
            vector = _unit(np.asarray(encoded["features"] @ self.projection))[0]
            scores = self.article_vectors @ vector
        return _best_per_article(self.article_ids, np.asarray(scores), limit, floor)

    def history_ranked(self, encoded: dict, *, limit: int) -> list[tuple[int, float]]:
        """Articles that answered questions like the query before, best first."""
        if self.history is None or not encoded["features"].nnz:
            return []
        matrix = encoded["features"]
        if self.encoder == ENCODER_SENTENCES:
            from scipy.sparse import csr_matrix, hstack

            matrix = hstack([matrix, csr_matrix(encoded["sentences"])]).tocsr()
        weights, bias, classes = self.history
        scores = np.asarray(matrix @ weights).ravel() + bias
        keep = classes != BACKGROUND
        floor = HISTORY_MIN
        if not keep.all():
            # An article must look likelier than "none of the learned ones".
            floor = max(floor, float(scores[~keep][0]))
        return _best_per_article(classes[keep], scores[keep], limit, floor)


def features_one(features, text: str):
    """`features.transform([text])` for one short text, without the library's per-call
    overhead (validation, parallel dispatch), which costs more than the arithmetic."""
    from scipy.sparse import csr_matrix

    columns: list[int] = []
    values: list[float] = []
    offset = 0
    for _, vectorizer in features.transformer_list:
        analyzer = vectorizer.build_analyzer()
        vocabulary = vectorizer.vocabulary_
        counts: dict[int, int] = {}
        for token in analyzer(text):
            column = vocabulary.get(token)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        if counts:
            idf = vectorizer.idf_
            weights = {c: (1.0 + np.log(n)) * idf[c] for c, n in counts.items()}
            norm = float(np.sqrt(sum(w * w for w in weights.values()))) or 1.0
            for column in sorted(weights):
                columns.append(offset + column)
                values.append(weights[column] / norm)
        offset += len(vocabulary)
    return csr_matrix(
        (np.asarray(values, dtype=np.float32), (np.zeros(len(columns), dtype=np.int32), columns)),
        shape=(1, offset),
    )


def _best_per_article(
    ids: np.ndarray, scores: np.ndarray, limit: int, floor: float
) -> list[tuple[int, float]]:
    depth = min(len(scores), limit * 8)
    top = np.argpartition(-scores, depth - 1)[:depth] if depth < len(scores) else np.arange(depth)
    order = top[np.argsort(-scores[top], kind="stable")]
    ranked: dict[int, float] = {}
    for position in order:
        score = float(scores[position])
        if score < floor or len(ranked) >= limit:
            break
        ranked.setdefault(int(ids[position]), score)
    return list(ranked.items())


def _sentence_vectors(texts: list[str], cache: dict[str, np.ndarray]) -> np.ndarray:
    """Sentence vectors of `texts`, encoding only those `cache` does not hold (it learns them)."""
    from caseloop.lib.sentences import sentence_vectors

    digests = [text_digest(text) for text in texts]
    missing = list(dict.fromkeys(d for d in digests if d not in cache))
    if missing:
        by_digest = {d: t for d, t in zip(digests, texts, strict=True)}
        encoded = sentence_vectors([by_digest[d] for d in missing])
        cache.update(zip(missing, encoded, strict=True))
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.vstack([cache[d] for d in digests]).astype(np.float32)


def index_build(
    *,
    articles: list[tuple[int, str, str]],
    examples: list[Example],
    encoder: str = ENCODER_WORDS,
    previous: RetrievalIndex | None = None,
) -> RetrievalIndex:
    """An index over `articles` (id, title, plain-text body) and the questions they answered.
    With the sentences encoder, vectors of texts `previous` already encoded are reused."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.svm import LinearSVC

    texts = [article_text(title, body) for _, title, body in articles]
    example_texts = [example.text for example in examples]
    corpus = texts + example_texts
    features = _words_features(min_df=2 if len(corpus) >= 50 else 1)
    matrix = features.fit_transform(corpus) if corpus else None
    cache: dict[str, np.ndarray] = {}
    if encoder == ENCODER_SENTENCES and previous is not None:
        cache = dict(previous.sentence_cache)
    fresh_cache: dict[str, np.ndarray] = {}

    projection = None
    if encoder == ENCODER_SENTENCES:
        passage_ids, passage_texts = [], []
        for pk, title, body in articles:
            for passage in passages_split(title, body):
                passage_ids.append(pk)
                passage_texts.append(passage)
        article_ids = np.asarray(passage_ids, dtype=np.int64)
        article_vectors = _sentence_vectors(passage_texts, cache)
        fresh_cache.update({text_digest(t): cache[text_digest(t)] for t in passage_texts})
    elif matrix is not None and len(corpus) < LSA_MIN_TEXTS:
        article_ids = np.asarray([pk for pk, _, _ in articles], dtype=np.int64)
        from sklearn.preprocessing import normalize

        article_vectors = normalize(matrix[: len(articles)]).astype(np.float32)
    elif matrix is not None and matrix.shape[1] > 1:
        dimensions = max(1, min(LSA_DIMENSIONS, matrix.shape[0] - 1, matrix.shape[1] - 1))
        svd = TruncatedSVD(n_components=dimensions, random_state=7).fit(matrix)
        # Stored as features x dimensions, so a query projects without a transposed copy.
        projection = np.ascontiguousarray(svd.components_.T, dtype=np.float32)
        article_ids = np.asarray([pk for pk, _, _ in articles], dtype=np.int64)
        article_vectors = _unit(np.asarray(matrix[: len(articles)] @ projection))
    else:
        article_ids = np.zeros(0, dtype=np.int64)
        article_vectors = np.zeros((0, 1), dtype=np.float32)

    history = None
    learned = {example.article_id for example in examples}
    if examples and matrix is not None:
        # Each learned article's own text is one more example of it; texts of the others
        # form the background class.
        position = {pk: i for i, (pk, _, _) in enumerate(articles)}
        rows = list(range(len(articles), len(corpus)))
        labels = [example.article_id for example in examples]
        for pk in sorted(learned):
            if pk in position:
                rows.append(position[pk])
                labels.append(pk)
        others = [i for i, (pk, _, _) in enumerate(articles) if pk not in learned]
        step = max(1, len(others) // BACKGROUND_TEXTS)
        background = others[::step][:BACKGROUND_TEXTS]
        rows += background
        labels += [BACKGROUND] * len(background)
        training = matrix[rows]
        if encoder == ENCODER_SENTENCES:
            from scipy.sparse import csr_matrix, hstack

            row_texts = [corpus[i] for i in rows]
            vectors = _sentence_vectors(row_texts, cache)
            fresh_cache.update({text_digest(t): cache[text_digest(t)] for t in row_texts})
            training = hstack([training, csr_matrix(vectors)]).tocsr()
        if len(set(labels)) >= 2:
            model = LinearSVC(C=0.5).fit(training, np.asarray(labels, dtype=np.int64))
            weights, bias = model.coef_, model.intercept_
            if len(model.classes_) == 2:  # one margin, positive for the second class
                weights, bias = np.vstack([-weights, weights]), np.concatenate([-bias, bias])
            history = (
                np.ascontiguousarray(weights.T, dtype=np.float32),
                bias.astype(np.float32),
                np.asarray(model.classes_, dtype=np.int64),
            )
    return RetrievalIndex(
        encoder=encoder,
        features=features,
        projection=projection,
        article_ids=article_ids,
        article_vectors=article_vectors,
        history=history,
        n_articles=len(articles),
        n_examples=len(examples),
        sentence_cache=fresh_cache,
    )
