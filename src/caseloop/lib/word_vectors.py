"""Static word vectors in the default install: WordLlama's `l2_supercat` model (256
dimensions), whose weights and tokenizer ship inside the `wordllama` wheel and run on numpy
alone. A text's vector is the mean of its tokens' vectors, so encoding is a table lookup:
tens of thousands of short texts a second on one core, with no PyTorch.

Nothing is downloaded at run time. WordLlama's loader looks for its bundled tokenizer in a
folder that does not exist and would fetch it from the network; the package's own folder is
therefore passed as its cache and downloads are refused.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

# The model a category model records, so that it is always read with the vectors it was
# trained on.
WORD_VECTORS_MODEL = "wordllama-l2_supercat-256"
DIMENSIONS = 256
# Only the start of a text is read: a batch is padded to its longest text, so one long
# e-mail would otherwise cost memory in proportion to its length times the batch. The
# sentence encoder of the embeddings extra reads less (256 tokens).
MAX_CHARS = 4000


@lru_cache(maxsize=1)
def _model() -> Any:
    import wordllama
    from wordllama import WordLlama

    return WordLlama.load(
        config="l2_supercat",
        dim=DIMENSIONS,
        cache_dir=Path(wordllama.__file__).parent,
        disable_download=True,
    )


def word_vectors(texts: list[str]) -> np.ndarray:
    """Unit-length text vectors, one row per text (a text with no known token is all zeros)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = np.asarray(
        _model().embed([text[:MAX_CHARS] for text in texts], norm=False), dtype=np.float32
    )
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0  # a text with no known token stays all zeros
    return np.asarray(vectors / norms, dtype=np.float32)
