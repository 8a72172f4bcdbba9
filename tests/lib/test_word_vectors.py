"""Static word vectors in the default install: from the files inside the package, never the
network."""

import importlib.metadata
import socket
import warnings

import numpy as np
import pytest
from packaging.requirements import Requirement

from caseloop.lib import word_vectors as module
from caseloop.lib.word_vectors import DIMENSIONS, word_vectors


def test_word_vectors_place_paraphrases_near_each_other():
    vectors = word_vectors(
        ["my card was declined at the shop", "the store refused my card", "where is my parcel"]
    )
    assert vectors.shape == (3, DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose((vectors**2).sum(axis=1), 1, atol=1e-4)
    same, different = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert same > different + 0.3


def test_the_model_loads_from_the_package_without_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("word vectors reached for the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    module._model.cache_clear()
    try:
        assert word_vectors(["where is my parcel"]).shape == (1, DIMENSIONS)
    finally:
        module._model.cache_clear()


def test_a_text_with_nothing_to_read_is_a_zero_vector_and_long_texts_are_cut():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vectors = word_vectors(["", "refund " * 10_000])
    assert not vectors[0].any()
    assert abs(float(vectors[1] @ vectors[1]) - 1) < 1e-4
    assert word_vectors([]).shape == (0, DIMENSIONS)


def test_word_vectors_need_no_torch():
    requirements = [Requirement(r) for r in importlib.metadata.requires("wordllama") or []]
    needs = {
        r.name.lower()
        for r in requirements
        if r.marker is None or r.marker.evaluate({"extra": ""})  # not its training extras
    }
    assert "numpy" in needs
    assert not needs & {"torch", "transformers", "sentence-transformers"}


@pytest.mark.parametrize("text", ["Où est mon colis ?", "😀", "\x00"])
def test_any_text_gives_a_finite_vector(text):
    assert np.isfinite(word_vectors([text])).all()
