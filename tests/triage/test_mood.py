"""Mood per message: VADER corrected by lexical and learned complaint signals."""

from pathlib import Path

from caseloop.triage.mood import COMPLAINT_THRESHOLD, mood_read, mood_trend

FIXTURES = Path(__file__).parent / "fixtures"


def _labelled_sentences() -> list[tuple[int, str]]:
    rows = []
    for line in (FIXTURES / "complaints.tsv").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            label, _, text = line.partition("\t")
            rows.append((int(label), text))
    return rows


def test_please_help_with_exclamations_does_not_read_as_happy():
    mood = mood_read("please help!!!")
    assert mood.compound > 0.5  # VADER alone calls it happy
    assert mood.score < 0
    assert mood.label in {"distressed", "negative", "upset"}
    assert "repeated exclamation marks" in mood.cues


def test_third_time_writing_is_a_complaint_without_any_angry_word():
    mood = mood_read("This is the third time I'm writing to you about my order.")
    assert mood.complaint_probability >= COMPLAINT_THRESHOLD
    assert mood.is_complaint
    assert "repeat contact" in mood.cues
    assert mood.frustrated


def test_sarcasm_is_read_as_a_complaint_not_as_praise():
    mood = mood_read("Great, another delay. Just great.")
    assert mood.compound > 0.5
    assert mood.is_complaint
    assert mood.score < 0


def test_a_plain_question_is_neither_complaint_nor_frustrated():
    mood = mood_read("Could you tell me your opening hours on Saturday?")
    assert not mood.is_complaint
    assert not mood.frustrated
    assert not mood.wants_to_be_heard
    assert mood.label == "neutral"


def test_thanks_reads_positive():
    mood = mood_read("Thank you so much, that fixed it!")
    assert mood.label == "positive"
    assert not mood.is_complaint


def test_strong_emotion_without_a_request_wants_to_be_heard():
    venting = mood_read("I am so angry!!! Twenty years a customer and this is how you treat me!!!")
    assert venting.wants_to_be_heard
    assert venting.frustrated
    asking = mood_read("I am so angry!!! Can you refund order 55123 today?")
    assert not asking.wants_to_be_heard


def test_complaint_detection_precision_and_recall_on_the_held_out_fixture():
    rows = _labelled_sentences()
    predicted = [(label, mood_read(text).is_complaint) for label, text in rows]
    true_positive = sum(1 for label, p in predicted if label == 1 and p)
    false_positive = sum(1 for label, p in predicted if label == 0 and p)
    false_negative = sum(1 for label, p in predicted if label == 1 and not p)
    precision = true_positive / (true_positive + false_positive)
    recall = true_positive / (true_positive + false_negative)
    print(
        f"complaint detection on {len(rows)} sentences: "
        f"precision={precision:.2f} recall={recall:.2f}"
    )
    assert precision >= 0.85
    assert recall >= 0.8


def test_empty_text_is_neutral():
    mood = mood_read("   ")
    assert mood.label == "neutral" and mood.complaint_probability == 0.0


def test_trend_follows_the_direction_of_the_scores():
    assert mood_trend([0.2, -0.1, -0.6])["direction"] == "worsening"
    assert mood_trend([-0.8, -0.2, 0.5])["direction"] == "improving"
    assert mood_trend([0.1, 0.1])["direction"] == "steady"
    assert mood_trend([])["direction"] == "none"
