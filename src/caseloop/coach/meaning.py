"""Matching a guideline by meaning: each sentence of a draft is compared with the rule's
example sentences (`GuidelineExample`), so "that's just how it works, I can't do
anything" is caught by the rule whose patterns only know "I can't help you".

Per rule, a small logistic model is trained on the examples: the rule's breaches
against everything else (its near misses, "I can't change the date, but I can refund it",
and the other rules' examples), and a sentence breaches the rule when the model is sure
enough. Two representations, chosen by `COACH_MEANING`:

- `sentences`: all-MiniLM-L6-v2 sentence vectors from the embeddings extra;
- `words`: TF-IDF over words and character n-grams, fitted on the examples (the default
  install, which has no sentence encoder);
- `auto` (default): `sentences` when the extra is installed, else `words`; `off`: none.
"""

from __future__ import annotations

import hashlib
import threading

import numpy as np
from django.conf import settings
from sklearn.linear_model import LogisticRegression

from caseloop.lib.sentences import sentence_vectors, sentence_vectors_available

# How sure the model must be before a sentence is flagged, per representation. Chosen on
# the coach's tuning drafts (tests/coach/drafts.json and the tuning half of the drafts
# written apart from the rules); see bench/README.md.
THRESHOLDS = {"sentences": 0.8, "words": 0.7}
# A word that is only sometimes a breach ("never", "always": "we never ask for your PIN"
# is true) counts when the sentence also leans towards the rule at least this much.
CONFIRM = {"sentences": 0.3, "words": 0.3}

Examples = tuple[tuple[str, str, bool], ...]  # (rule id, text, breach)


def backend() -> str:
    mode = str(getattr(settings, "COACH_MEANING", "auto")).strip().lower()
    if mode == "auto":
        return "sentences" if sentence_vectors_available() else "words"
    if mode == "sentences" and not sentence_vectors_available():
        return "words"
    return mode if mode in THRESHOLDS else "off"


class _Index:
    """Example vectors for every rule that has examples, and a model per rule."""

    def __init__(self, examples: Examples, kind: str) -> None:
        self.kind = kind
        self.rule_ids = [rule_id for rule_id, _text, _breach in examples]
        self.breach = np.array([breach for _rule, _text, breach in examples], dtype=bool)
        texts = [text for _rule, text, _breach in examples]
        self.vectorizer = None
        if kind == "words":
            from sklearn.feature_extraction.text import TfidfVectorizer
            from sklearn.pipeline import FeatureUnion

            self.vectorizer = FeatureUnion(
                [
                    ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                    (
                        "chars",
                        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True),
                    ),
                ]
            )
            self.vectorizer.fit(texts)
        self.vectors = self.embed(texts)
        # The rule's breaches against everything else: its near misses and the other
        # rules' examples.
        rule_ids = np.array(self.rule_ids)
        self.models: dict[str, LogisticRegression] = {}
        for rule_id in dict.fromkeys(self.rule_ids):
            target = (rule_ids == rule_id) & self.breach
            if target.any() and not target.all():
                self.models[rule_id] = LogisticRegression(
                    C=1.0, class_weight="balanced", max_iter=1000
                ).fit(self.vectors, target)

    def embed(self, texts: list[str]) -> np.ndarray:
        if self.vectorizer is None:
            # Full precision: a draft is a few sentences, and the thresholds were chosen on it.
            return sentence_vectors(texts, precision="fp32")
        matrix = self.vectorizer.transform(texts).toarray().astype(np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.maximum(norms, 1e-9)

    def probabilities(self, sentences: list[str]) -> dict[str, np.ndarray]:
        """Per rule, for each sentence, how likely it breaches the rule."""
        vectors = self.embed(sentences)
        return {
            rule_id: model.predict_proba(vectors)[:, 1] for rule_id, model in self.models.items()
        }


_indexes: dict[tuple[str, str], _Index] = {}
_lock = threading.Lock()


def _index(examples: Examples, kind: str) -> _Index:
    digest = hashlib.sha256(repr(examples).encode()).hexdigest()
    key = (kind, digest)
    with _lock:
        index = _indexes.get(key)
        if index is None:
            index = _Index(examples, kind)
            _indexes.clear()  # examples changed: the old index is no use
            _indexes[key] = index
    return index


def likelihoods(
    sentences: list[str], examples: Examples, *, kind: str | None = None
) -> list[dict[str, float]] | None:
    """For each sentence, how likely it breaches each rule that has examples; None when
    meaning is off (or no rule has a breach example)."""
    kind = kind or backend()
    if kind == "off" or not examples or not sentences:
        return None
    if not any(breach for _rule, _text, breach in examples):
        return None
    index = _index(examples, kind)
    found: list[dict[str, float]] = [{} for _ in sentences]
    for rule_id, values in index.probabilities(sentences).items():
        for position, value in enumerate(values):
            found[position][rule_id] = float(value)
    return found


def breaches(
    sentences: list[str], examples: Examples, *, kind: str | None = None
) -> list[set[str]]:
    """For each sentence, the rules it breaches by meaning."""
    kind = kind or backend()
    found = likelihoods(sentences, examples, kind=kind)
    if found is None:
        return [set() for _ in sentences]
    return [
        {rule_id for rule_id, value in row.items() if value >= THRESHOLDS[kind]} for row in found
    ]
