"""The category model: TF-IDF word and character n-grams under a linear SVM with calibrated
probabilities, beside a logistic regression over text vectors (static word vectors in the
default install, sentence vectors with the embeddings extra). Pure functions of texts and
labels, so the desk's retraining, `caseloop triage eval` and the benchmark share one code
path.
"""

from __future__ import annotations

import re
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from caseloop.lib.word_vectors import WORD_VECTORS_MODEL, word_vectors

from .embeddings import DEFAULT_PRECISION, embeddings_enabled, texts_embed

_CONTRACTIONS = [
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"\b(cant|cannot)\b"), "can not"),
    (re.compile(r"\b(wont)\b"), "will not"),
    (re.compile(r"\b(dont)\b"), "do not"),
    (re.compile(r"\b(didnt)\b"), "did not"),
    (re.compile(r"\b(isnt)\b"), "is not"),
    (re.compile(r"\b(hasnt)\b"), "has not"),
    (re.compile(r"\b(havent)\b"), "have not"),
]
_DIGITS = re.compile(r"\d+")


def text_normalize(text: str) -> str:
    """Lower-case, spell out contractions and fold numbers, so "can't" and "cannot", or two
    amounts, look alike to the model."""
    text = (text or "").lower().replace("\u2019", "'")
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return _DIGITS.sub("0", text)


_WORD = re.compile(r"\w+")
_PAIR_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "my",
        "me",
        "to",
        "is",
        "it",
        "of",
        "and",
        "in",
        "on",
        "for",
        "this",
        "that",
        "be",
        "was",
        "have",
        "has",
        "can",
        "do",
        "you",
        "your",
    ]
)


def word_pairs(text: str) -> list[str]:
    """Unordered pairs of the content words in a short text: "card|declined" whatever the
    words between them. They let a linear model see which words occur together."""
    words = sorted({w for w in _WORD.findall(text) if w not in _PAIR_STOP})
    return [f"{a}|{b}" for i, a in enumerate(words) for b in words[i + 1 :]]


def features_build(*, min_df: int = 2) -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    token_pattern=r"(?u)\b\w+\b",
                    dtype=np.float32,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    sublinear_tf=True,
                    min_df=min_df,
                    dtype=np.float32,
                ),
            ),
            (
                "pairs",
                TfidfVectorizer(
                    analyzer=word_pairs, sublinear_tf=True, min_df=min_df, dtype=np.float32
                ),
            ),
        ]
    )


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _decisions(model: LinearSVC, matrix) -> np.ndarray:
    scores = model.decision_function(matrix)
    return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores


def temperature_fit(scores: np.ndarray, truth: np.ndarray) -> float:
    """The temperature that makes softmax(scores * t) honest on held-out scores (lowest
    log-loss). One parameter, so the ranking — and accuracy — is untouched."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(truth))

    def log_loss(log_t: float) -> float:
        z = scores * np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-log_p[rows, truth].mean())

    return float(np.exp(minimize_scalar(log_loss, bounds=(-3, 5), method="bounded").x))


class TextClassifier(BaseEstimator, ClassifierMixin):
    """TF-IDF word, character and word-pair features under a linear SVM whose margins are
    calibrated by temperature scaling on cross-validated scores, in a weighted soft vote with
    a logistic regression over text vectors. Desks with fewer than two examples in some
    category get a logistic regression over TF-IDF instead.

    Every choice was made on inner splits of the benchmark's training portion only
    (`bench/triage_eval.py --inner`), never on its held-out split:

    - the default install's vectors are static word vectors (`lib.word_vectors`: WordLlama,
      numpy only), the regression at twice the SVM's weight: 0.9128 against 0.9063 for the
      networks below, better on all three splits, in a seventh of the training time;
    - with `embeddings` (the optional extra), sentence vectors take their place: the SVM
      plus the regression at twice its weight scored 0.928 against 0.907 for the networks;
    - with neither (`word_vectors=False`), the vote of before: on larger desks the SVM with
      `n_networks` one-layer networks over the word and character features. Short-trained
      networks (4 epochs) disagree with the SVM more usefully than longer-trained ones,
      four seeds average out their noise, and the SVM, which sees the word pairs the
      networks do not, earns twice a network's vote."""

    def __init__(
        self,
        *,
        svm_c: float = 0.5,
        folds: int = 3,
        n_networks: int = 4,
        hidden: int = 256,
        epochs: int = 4,
        svm_weight: float = 2.0,
        min_examples_for_networks: int = 1000,
        embeddings: bool = False,
        word_vectors: bool = True,
        embedding_c: float = 10.0,
        embedding_weight: float = 2.0,
        random_state: int = 0,
    ) -> None:
        self.svm_c = svm_c
        self.folds = folds
        self.n_networks = n_networks
        self.hidden = hidden
        self.epochs = epochs
        self.svm_weight = svm_weight
        self.min_examples_for_networks = min_examples_for_networks
        self.embeddings = embeddings
        self.word_vectors = word_vectors
        self.embedding_c = embedding_c
        self.embedding_weight = embedding_weight
        self.random_state = random_state

    def fit(self, texts: list[str], labels: list[str]) -> TextClassifier:
        from sklearn.model_selection import StratifiedKFold

        raw_texts = list(texts)
        texts = [text_normalize(t) for t in texts]
        label_array = np.array([str(label) for label in labels])
        self.classes_ = np.array(sorted(set(label_array)))
        if len(self.classes_) < 2:
            raise ValueError("training needs at least two categories")
        self.features_ = features_build(min_df=2 if len(texts) >= 500 else 1)
        matrix = self.features_.fit_transform(texts).tocsr()
        truth = np.searchsorted(self.classes_, label_array)
        smallest = min(Counter(label_array.tolist()).values())
        folds = min(self.folds, smallest)
        self.svm_ = None
        self.fallback_ = None
        self.networks_ = []
        self.embedding_model_ = None
        self.word_vector_model_ = None
        if folds < 2:
            self.fallback_ = LogisticRegression(C=10.0, max_iter=1000).fit(matrix, label_array)
            return self
        held_out = np.zeros((len(texts), len(self.classes_)))
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        for train_index, test_index in splitter.split(matrix, label_array):
            fold = LinearSVC(C=self.svm_c).fit(matrix[train_index], label_array[train_index])
            held_out[test_index] = _decisions(fold, matrix[test_index])
        self.temperature_ = temperature_fit(held_out, truth)
        self.svm_ = LinearSVC(C=self.svm_c).fit(matrix, label_array)
        if self.embeddings:
            self.embedding_precision_ = DEFAULT_PRECISION
            self.embedding_model_ = LogisticRegression(C=self.embedding_c, max_iter=2000).fit(
                texts_embed(raw_texts, precision=self.embedding_precision_), label_array
            )
            return self
        if self.word_vectors:
            # The same regression and weight as the sentence vectors', not tuned apart.
            self.word_vectors_name_ = WORD_VECTORS_MODEL
            self.word_vector_model_ = LogisticRegression(C=self.embedding_c, max_iter=2000).fit(
                word_vectors(raw_texts), label_array
            )
            return self
        if len(texts) >= self.min_examples_for_networks and self.n_networks > 0:
            dense_part = self._network_columns(matrix)
            with warnings.catch_warnings():
                # A fixed, small number of epochs is deliberate: longer training fits the
                # training set better but makes the networks agree with the SVM more, and
                # the vote less accurate.
                warnings.simplefilter("ignore", ConvergenceWarning)
                for seed in range(self.n_networks):
                    network = MLPClassifier(
                        hidden_layer_sizes=(self.hidden,),
                        alpha=1e-4,
                        batch_size=128,
                        learning_rate_init=2e-3,
                        max_iter=self.epochs,
                        random_state=self.random_state + seed,
                    )
                    self.networks_.append(network.fit(dense_part, label_array))
        return self

    def _network_columns(self, matrix):
        """The word and character columns: word pairs add little to a network, which finds
        interactions itself, and would multiply its cost."""
        width = sum(
            len(transformer.vocabulary_)
            for name, transformer in self.features_.transformer_list
            if name != "pairs"
        )
        return matrix[:, :width]

    @property
    def uses_embeddings(self) -> bool:
        return getattr(self, "embedding_model_", None) is not None

    @property
    def uses_word_vectors(self) -> bool:
        # Models saved before word vectors have no such attribute.
        return getattr(self, "word_vector_model_", None) is not None

    def _vote(self, total: np.ndarray, model: Any, vectors: np.ndarray) -> np.ndarray:
        proba = model.predict_proba(vectors)
        proba = proba[:, np.searchsorted(model.classes_, self.classes_)]
        return (total + self.embedding_weight * proba) / (1 + self.embedding_weight)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        matrix = self.features_.transform([text_normalize(t) for t in texts]).tocsr()
        if self.fallback_ is not None:
            proba = self.fallback_.predict_proba(matrix)
            return proba[:, np.searchsorted(self.fallback_.classes_, self.classes_)]
        total = _softmax(_decisions(self.svm_, matrix) * self.temperature_)
        if self.uses_embeddings:
            # Read with the encoder it was trained with (models from before 8-bit: full).
            precision = getattr(self, "embedding_precision_", "fp32")
            vectors = texts_embed(texts, precision=precision)
            return self._vote(total, self.embedding_model_, vectors)
        if self.uses_word_vectors:
            if self.word_vectors_name_ != WORD_VECTORS_MODEL:
                raise ValueError(
                    f"this category model was trained on {self.word_vectors_name_} vectors, "
                    f"this install has {WORD_VECTORS_MODEL}: retrain it"
                )
            return self._vote(total, self.word_vector_model_, word_vectors(texts))
        if self.networks_:
            # A weighted mean of probabilities stays a probability: rows still sum to 1.
            part = self._network_columns(matrix)
            # Models pickled before `svm_weight` existed voted with equal weights.
            svm_weight = getattr(self, "svm_weight", 1.0)
            total = total * svm_weight
            for network in self.networks_:
                total = total + network.predict_proba(part)
            total = total / (svm_weight + len(self.networks_))
        return total

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    candidates: list[tuple[str, float]]


def category_model_fit(
    texts: list[str], labels: list[str], *, embeddings: bool | None = None
) -> TextClassifier:
    """Train the category model the desk uses in production. `embeddings` defaults to the
    desk's setting (on when the embeddings extra is installed, unless turned off)."""
    if embeddings is None:
        embeddings = embeddings_enabled()
    model = TextClassifier(embeddings=embeddings)
    return model.fit(list(texts), [str(label) for label in labels])


def category_model_predict(
    model: TextClassifier, texts: list[str], top: int = 3
) -> list[Prediction]:
    proba = model.predict_proba(list(texts))
    predictions = []
    for row in proba:
        order = np.argsort(row)[::-1][:top]
        candidates = [(str(model.classes_[i]), float(row[i])) for i in order]
        predictions.append(Prediction(candidates[0][0], candidates[0][1], candidates))
    return predictions


def category_model_evaluate(
    *, train_texts: list[str], train_labels: list[str], test_texts: list[str], test_labels: list
) -> dict:
    """Train on one set, measure on another: accuracy, macro-F1, training seconds and
    predictions per second (batched, as the desk scores a backlog)."""
    started = time.perf_counter()
    model = category_model_fit(train_texts, train_labels)
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    predicted = [p.label for p in category_model_predict(model, test_texts)]
    predict_seconds = max(time.perf_counter() - started, 1e-9)
    truth = [str(label) for label in test_labels]
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro", zero_division=0)), 4),
        "train_seconds": round(train_seconds, 2),
        "predictions_per_second": round(len(test_texts) / predict_seconds, 1),
        "n_train": len(train_texts),
        "n_test": len(test_texts),
        "n_labels": len(set(str(label) for label in train_labels)),
    }
