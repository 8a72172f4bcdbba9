"""The learned priority model: the case text plus the explained signals, trained on the
priorities agents chose. Used only once the desk has taught it (see learning.model_train)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from .classifier import text_normalize


class PriorityModel(BaseEstimator, ClassifierMixin):
    """Items are (text, signal weights in priority.FEATURE_KEYS order)."""

    def fit(self, items: list[tuple[str, list[float]]], labels: list[str]) -> PriorityModel:
        texts = [text_normalize(text) for text, _ in items]
        self.n_signals_ = len(items[0][1]) if items else 0
        self.vectorizer_ = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
        matrix = hstack([self.vectorizer_.fit_transform(texts), self._signals(items)]).tocsr()
        self.model_ = LogisticRegression(C=2.0, max_iter=1000, class_weight="balanced")
        self.model_.fit(matrix, [str(label) for label in labels])
        self.classes_ = self.model_.classes_
        return self

    @staticmethod
    def _signals(items, width: int | None = None) -> csr_matrix:
        # Weights are a few units at most; scaled to sit beside unit-length TF-IDF rows.
        rows = [list(features)[:width] for _, features in items]
        return csr_matrix(np.array(rows, dtype=np.float64) / 4.0)

    @property
    def signal_width(self) -> int:
        """How many signals this model was trained on: signals added later are appended to
        the feature order, so an older model reads the first ones only."""
        width = getattr(self, "n_signals_", None)
        if width is None:  # pickled before the width was stored
            width = self.model_.coef_.shape[1] - len(self.vectorizer_.vocabulary_)
        return width

    def _matrix(self, items):
        texts = [text_normalize(text) for text, _ in items]
        signals = self._signals(items, self.signal_width)
        return hstack([self.vectorizer_.transform(texts), signals]).tocsr()

    def predict_proba(self, items) -> np.ndarray:
        return self.model_.predict_proba(self._matrix(items))

    def predict(self, items) -> np.ndarray:
        return self.model_.predict(self._matrix(items))


def priority_model_fit(items: list[tuple[str, list[float]]], labels: list[str]) -> PriorityModel:
    return PriorityModel().fit(list(items), list(labels))
