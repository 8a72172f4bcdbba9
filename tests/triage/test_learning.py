"""Training from the desk's history, versioned models, cold-start rules, review threshold."""

import pytest

from caseloop.cases.models import Case
from caseloop.lib.word_vectors import word_vectors
from caseloop.triage import learning
from caseloop.triage.classifier import TextClassifier, category_model_fit, category_model_predict
from caseloop.triage.models import KeywordRule, ModelVersion, TriageLabel, TriagePolicy

from .helpers import categories, desk_history, fixture_rows

pytestmark = pytest.mark.django_db


def test_the_classifier_learns_the_fixture_and_gives_calibrated_confidences():
    rows = fixture_rows()
    model = category_model_fit([t for t, _ in rows], [c for _, c in rows])
    tests = fixture_rows("tickets_test.csv")
    predictions = category_model_predict(model, [t for t, _ in tests])
    correct = sum(p.label == c for p, (_, c) in zip(predictions, tests, strict=True))
    assert correct / len(tests) >= 0.75
    for prediction in predictions:
        assert 0 < prediction.confidence <= 1
        assert prediction.candidates[0] == (prediction.label, prediction.confidence)
        assert sum(c for _, c in prediction.candidates) <= 1.0001


# Paraphrases that share no content word with the training tickets of their category.
PARAPHRASES = [
    ("The parcel still has not turned up at my door", "delivery"),
    ("Your app keeps crashing whenever I open it", "technical"),
    ("Money was taken from my account twice", "billing"),
]


def test_the_default_model_votes_with_word_vectors_that_know_words_it_never_saw():
    rows = fixture_rows()
    model = category_model_fit([t for t, _ in rows], [c for _, c in rows], embeddings=False)
    assert model.uses_word_vectors and not model.uses_embeddings and not model.networks_
    member = model.word_vector_model_.predict(word_vectors([t for t, _ in PARAPHRASES]))
    assert list(member) == [c for _, c in PARAPHRASES]
    predictions = category_model_predict(model, [t for t, _ in PARAPHRASES])
    assert [p.label for p in predictions] == [c for _, c in PARAPHRASES]
    for prediction in predictions:
        assert sum(c for _, c in prediction.candidates) <= 1.0001


def test_a_model_saved_before_word_vectors_is_still_read():
    rows = fixture_rows()
    model = TextClassifier(word_vectors=False).fit([t for t, _ in rows], [c for _, c in rows])
    del model.word_vector_model_  # as unpickled from before
    assert not model.uses_word_vectors
    labels = [p.label for p in category_model_predict(model, [t for t, _ in PARAPHRASES])]
    assert len(labels) == len(PARAPHRASES)


def test_a_model_trained_on_other_word_vectors_asks_to_be_retrained():
    rows = fixture_rows()
    model = category_model_fit([t for t, _ in rows], [c for _, c in rows], embeddings=False)
    model.word_vectors_name_ = "another-model-64"
    with pytest.raises(ValueError, match="retrain"):
        category_model_predict(model, ["where is my parcel"])


def test_without_enough_history_nothing_is_trained_and_rules_guess():
    cats = categories()
    KeywordRule.objects.create(category=cats["billing"], keywords="invoice, refund\ncharged")
    assert learning.model_train() is None
    assert not ModelVersion.objects.exists()
    guess = learning.category_guess("I was charged twice, please refund the invoice")
    assert guess.source == "rules"
    assert guess.category_id == cats["billing"].pk
    assert guess.confidence >= 0.8
    assert set(guess.candidates[0]["keywords"]) == {"invoice", "refund", "charged"}


def test_rule_confidence_is_low_when_evidence_is_thin_or_split():
    cats = categories()
    KeywordRule.objects.create(category=cats["billing"], keywords="refund")
    KeywordRule.objects.create(category=cats["delivery"], keywords="parcel")
    one = learning.category_guess("about a refund")
    split = learning.category_guess("refund for the parcel")
    assert one.confidence == pytest.approx(0.5)
    assert split.confidence < 0.5
    assert learning.category_guess("hello there").category_id is None


def test_keywords_match_whole_words_only():
    cats = categories()
    KeywordRule.objects.create(category=cats["account"], keywords="log in")
    assert learning.category_guess("the catalog includes").category_id is None
    assert learning.category_guess("I cannot log in").category_id == cats["account"].pk


def test_training_uses_confirmed_and_agent_set_categories_and_versions_the_model(settings):
    cats = desk_history()
    # an agent's correction overrides what the case says
    data = learning.training_set_category()
    assert len(data.labels) == len(fixture_rows())
    first = learning.model_train()
    assert first.version == 1 and first.kind == "category"
    assert first.n_samples == len(fixture_rows())
    assert sorted(first.labels) == sorted(str(c.pk) for c in cats.values())
    assert (settings.DATA_DIR / first.path).is_file()
    assert "holdout_accuracy" in first.metrics
    second = learning.model_train()
    assert second.version == 2
    assert learning.model_active() == second
    guess = learning.category_guess("The courier never delivered my parcel")
    assert guess.source == "model" and guess.model_version == second
    assert guess.category_id == cats["delivery"].pk


def test_the_latest_agent_label_wins_in_training():
    cats = desk_history()
    first_billing = Case.objects.filter(category=cats["billing"]).order_by("pk").first()
    labelled = TriageLabel.objects.create(
        case=first_billing, field="category", value=str(cats["account"].pk)
    )
    data = learning.training_set_category()
    index = data.case_ids.index(labelled.case_id)
    assert data.labels[index] == str(cats["account"].pk)


def test_inactive_categories_and_ones_with_too_few_examples_are_left_out():
    cats = desk_history()
    cats["account"].is_active = False
    cats["account"].save(update_fields=["is_active"])
    data = learning.training_set_category()
    assert set(data.labels) == {str(cats[s].pk) for s in ("billing", "delivery", "technical")}
    TriagePolicy.objects.update_or_create(pk=1, defaults={"min_samples_per_category": 13})
    assert learning.training_set_category().labels == []
    assert learning.model_train(force=True) is None
