"""The coach matches a guideline by meaning, from example sentences admins can edit."""

import pytest
from django.test import override_settings

from caseloop.coach.engine import check_text
from caseloop.coach.models import Guideline, GuidelineExample
from tests.builders import make_user

pytestmark = pytest.mark.django_db

BACKENDS = [
    "words",
    pytest.param("sentences", marks=pytest.mark.embeddings),
]

DEFLECTION = (
    "Sorry, that isn't something we handle, so you'll have to take it up with them yourself."
)
NEAR_MISS = (
    "I can't move the appointment to Sunday, but I can book you in for Monday at 9am; shall I?"
)


def rules_of(text: str) -> set[str]:
    return {finding.rule_id for finding in check_text(text=text)}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_deflection_in_words_no_pattern_knows_is_held_by_meaning(backend):
    with override_settings(COACH_MEANING="off"):
        assert "no-cant-help" not in rules_of(DEFLECTION)
    with override_settings(COACH_MEANING=backend):
        [finding] = [f for f in check_text(text=DEFLECTION) if f.rule_id == "no-cant-help"]
    assert finding.blocks
    assert (finding.start, finding.end) == (0, len(DEFLECTION))


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_honest_limit_with_an_alternative_is_not_flagged(backend):
    with override_settings(COACH_MEANING=backend):
        assert rules_of(NEAR_MISS) == set()
        assert rules_of("Hi Jo, your refund of 12.99 reaches your card by Thursday.") == set()


@pytest.mark.parametrize("backend", BACKENDS)
def test_blame_and_false_hope_in_other_words_are_caught(backend):
    with override_settings(COACH_MEANING=backend):
        assert "no-blame" in rules_of("Had you read the terms, you would have known this.")
        assert "truthful" in rules_of("I'm sure it'll be fine eventually, don't worry.")


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_example_an_admin_adds_teaches_the_rule_a_new_way_of_saying_it(backend):
    draft = "Kindly direct all such enquiries to the vendor going forward."
    guideline = Guideline.objects.get(rule_id="no-cant-help")
    with override_settings(COACH_MEANING=backend):
        assert "no-cant-help" not in rules_of(draft)
        for example in [
            "Kindly direct such enquiries to the vendor.",
            "Please direct any enquiries of this kind to the vendor.",
            "All enquiries about this should go to the vendor from now on.",
            "Kindly send questions like this to the vendor instead.",
            "Such enquiries should be directed to the vendor going forward.",
        ]:
            GuidelineExample.objects.create(guideline=guideline, text=example)
        assert "no-cant-help" in rules_of(draft)
        # And a near miss an admin marks as fine stops a false alarm.
        GuidelineExample.objects.filter(guideline=guideline).delete()
        assert "no-cant-help" not in rules_of(DEFLECTION)


def test_a_phrase_the_patterns_flag_is_flagged_once_not_again_by_meaning():
    text = "Sorry, I can't help you with that."
    with override_settings(COACH_MEANING="words"):
        findings = [f for f in check_text(text=text) if f.rule_id == "no-cant-help"]
    assert len(findings) == 1
    assert text[findings[0].start : findings[0].end] == "I can't help you"


def test_admins_edit_a_rules_examples_on_its_admin_page(client):
    client.force_login(make_user(role="admin"))
    guideline = Guideline.objects.get(rule_id="no-blame")
    page = client.get(f"/admin/coach/guideline/{guideline.pk}/change/")
    assert page.status_code == 200
    assert "Had you read the terms, you would have known." in page.content.decode()
    assert guideline.examples.filter(breach=True).count() >= 20
    assert guideline.examples.filter(breach=False).count() >= 20


@pytest.mark.parametrize("backend", BACKENDS)
def test_never_and_always_count_only_when_the_sentence_means_a_promise(backend):
    fact = "We never ask for your PIN by phone or email."
    with override_settings(COACH_MEANING="off"):
        assert "truthful" in rules_of(fact)  # the phrase alone cannot tell
    with override_settings(COACH_MEANING=backend):
        assert "truthful" not in rules_of(fact)
        [finding] = [
            f
            for f in check_text(text="Don't worry, this never happens, it won't happen again.")
            if f.rule_id == "truthful"
        ]
        assert finding.excerpt == "never"
