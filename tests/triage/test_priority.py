"""Priority is an explained score: every signal moves it and is listed with its weight."""

import pytest

from caseloop.triage.priority import PriorityContext, priority_for_score, priority_score

PLAIN = "I would like to know the status of my order."


def _signals(result) -> dict:
    return {f["signal"]: f["weight"] for f in result.factors}


def test_a_plain_message_has_no_factors_and_normal_priority():
    result = priority_score(text=PLAIN, context=PriorityContext())
    assert result.factors == []
    assert result.score == 0
    assert result.priority == "normal"


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("I need this fixed urgently, as soon as possible.", "urgency"),
        ("The heater caught fire and my son was burned.", "harm"),
        ("If this is not sorted I will contact my lawyer.", "legal"),
        ("Your website is down and nobody can log in.", "outage"),
        ("You charged me twice and my rent payment bounced.", "hardship"),
        ("My husband passed away and the account was in his name.", "hardship"),
    ],
)
def test_each_text_signal_raises_the_score_and_is_listed(text, signal):
    base = priority_score(text=PLAIN, context=PriorityContext())
    result = priority_score(text=text, context=PriorityContext())
    assert signal in _signals(result)
    assert result.score > base.score
    factor = next(f for f in result.factors if f["signal"] == signal)
    assert factor["detail"] and factor["label"]


def test_harm_alone_makes_a_case_high_and_harm_with_urgency_urgent():
    assert (
        priority_score(text="The charger started smoking.", context=PriorityContext()).priority
        == "high"
    )
    both = priority_score(text="Urgent: the charger started a fire!", context=PriorityContext())
    assert both.priority == "urgent"


def test_saying_it_can_wait_lowers_the_priority():
    result = priority_score(
        text="No rush, just a suggestion for the app.", context=PriorityContext()
    )
    assert _signals(result)["low_urgency"] < 0
    assert result.priority == "low"


@pytest.mark.parametrize(
    ("context", "signal"),
    [
        (PriorityContext(is_vip=True), "vip"),
        (PriorityContext(service_level="Enterprise"), "service_level"),
        (
            PriorityContext(repeat_complaint=True, repeat_detail="open complaint CL-000001"),
            "repeat_complaint",
        ),
        (PriorityContext(mood_score=-0.8), "negative_sentiment"),
    ],
)
def test_each_context_signal_raises_the_score_and_is_listed(context, signal):
    result = priority_score(text=PLAIN, context=context)
    assert result.score > 0
    assert signal in _signals(result)


def test_negative_sentiment_weighs_more_the_more_negative():
    mild = _signals(priority_score(text=PLAIN, context=PriorityContext(mood_score=-0.2)))
    strong = _signals(priority_score(text=PLAIN, context=PriorityContext(mood_score=-0.9)))
    assert strong["negative_sentiment"] > mild["negative_sentiment"] > 0


def test_an_unknown_service_level_is_not_a_factor():
    result = priority_score(text=PLAIN, context=PriorityContext(service_level="standard"))
    assert "service_level" not in _signals(result)


def test_score_bands():
    assert priority_for_score(7) == "urgent"
    assert priority_for_score(3) == "high"
    assert priority_for_score(0) == "normal"
    assert priority_for_score(-1.5) == "low"


def test_features_follow_the_factors_for_the_learned_model():
    result = priority_score(text="urgent!", context=PriorityContext(is_vip=True))
    features = result.features()
    assert features[0] == 2.0  # urgency
    assert features[5] == 2.0  # vip


@pytest.mark.parametrize(
    "text",
    [
        "This is the third time I am writing about this.",
        "Second time I've contacted you about the same fault.",
        "I'm writing for the third time about the same broken heater.",
        "This is my 3rd email about the refund.",
        "I have already emailed you about it.",
        "I've written to you twice now.",
        "I still haven't heard back from anyone.",
        "Nobody has replied to my emails.",
        "Following up on my previous email about the box.",
        "I called you last week and was promised a call back.",
    ],
)
def test_a_customer_saying_they_wrote_before_counts_as_a_repeat_contact(text):
    result = priority_score(text=text, context=PriorityContext())
    factor = next(f for f in result.factors if f["signal"] == "repeat_complaint")
    assert factor["weight"] == 2.0
    assert factor["detail"].startswith("says so: ")
    # Alone it raises the score but not the band: with a complaint's other signals it tips.
    assert result.score == 2.0
    assert result.priority == "normal"


@pytest.mark.parametrize(
    "text",
    [
        PLAIN,
        "This is my first time ordering from you.",
        "The second time I used it, it broke.",
        "Please send the invoice again.",
        "I still have not received my parcel.",
        "It is still not working.",
        "I called the courier and they knew nothing.",
        "I have written a review of the kettle.",
    ],
)
def test_ordinary_words_are_not_taken_for_a_repeat_contact(text):
    result = priority_score(text=text, context=PriorityContext())
    assert "repeat_complaint" not in _signals(result)


def test_history_and_the_customers_words_make_one_repeat_factor_not_two():
    text = "Third time I am writing: the charger still sparks."
    said = priority_score(text=text, context=PriorityContext())
    both = priority_score(
        text=text,
        context=PriorityContext(repeat_complaint=True, repeat_detail="open complaint CL-000007"),
    )
    repeats = [f for f in both.factors if f["signal"] == "repeat_complaint"]
    assert [f["detail"] for f in repeats] == ["open complaint CL-000007"]
    assert both.score == said.score
    assert said.priority == "urgent"  # harm (+4) and the repeat (+2)


@pytest.mark.parametrize(
    "text",
    [
        "My email to you bounced.",
        "My account is disabled after the password reset.",
        "Your login page is vulnerable to cross-site scripting.",
        "My phone died while I was paying.",
    ],
)
def test_hardship_is_not_read_into_everyday_words(text):
    assert "hardship" not in _signals(priority_score(text=text, context=PriorityContext()))


def test_a_priority_model_learned_before_a_signal_existed_still_predicts():
    from caseloop.triage.priority import FEATURE_KEYS
    from caseloop.triage.priority_model import priority_model_fit

    older_width = len(FEATURE_KEYS) - 1
    texts = ["urgent, the heater is on fire", "no rush, a question", "where is my order"] * 4
    labels = ["urgent", "low", "normal"] * 4
    items = [(t, priority_score(text=t, context=PriorityContext()).features()) for t in texts]
    older = priority_model_fit([(t, f[:older_width]) for t, f in items], labels)
    now = [("urgent: it caught fire", items[0][1])]
    assert older.predict(now)[0] == "urgent"
    del older.n_signals_  # as pickled before the width was stored
    assert older.signal_width == older_width
    assert older.predict(now)[0] == "urgent"
