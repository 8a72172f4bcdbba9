"""How a customer sounds: VADER sentiment corrected by lexical and learned signals.

VADER alone reads "please help!!!" as happy and misses complaints written without an angry
word ("third time I'm writing"), so each message gets three readings: VADER's compound, a
complaint probability from a small model trained on a shipped seed corpus plus complaint
cues, and distress cues. The flags and the corrected score combine them.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

SEED_PATH = Path(__file__).resolve().parent / "data" / "complaint_seed.tsv"
COMPLAINT_THRESHOLD = 0.5

# Cue lists: (regex, weight in log-odds, name shown to agents).
DIRECT_COMPLAINT_CUES = [
    (r"\bcomplain(t|ts|ing)?\b", 2.5, "says 'complaint'"),
    (r"\bunacceptable\b", 2.0, "'unacceptable'"),
    (
        r"\b(disgrace(ful)?|appalling|outrageous|shocking|pathetic|useless|rubbish)\b",
        2.0,
        "strong disapproval",
    ),
    (r"\b(worst|terrible|horrible|awful)\b", 1.5, "strong disapproval"),
    (r"\b(ridiculous|absurd|joke)\b", 1.5, "'ridiculous'"),
    (
        r"\b(disappointed|disappointing|not (happy|impressed|satisfied)|unhappy|dissatisfied)\b",
        1.5,
        "dissatisfaction",
    ),
    (r"\b(fed up|sick of|tired of|had enough|losing (my )?patience)\b", 2.0, "fed up"),
    (r"\b(speak|talk) to (a|your) (manager|supervisor)\b", 1.5, "asks for a manager"),
    (
        r"\b(taking my business elsewhere|never (again|use you)|cancel(ling)? everything)\b",
        2.0,
        "threatens to leave",
    ),
    (r"\b(rude|ignored|ignoring|hung up)\b", 1.5, "badly treated"),
    (
        r"\b(overcharged|charged (me )?twice|double charged|wrong (bill|invoice))\b",
        1.0,
        "billing error",
    ),
    (r"\b(damaged|broken|faulty|defective|broke|stopped working)\b", 1.0, "faulty goods"),
    (
        r"\b(do(es)?n'?t|don'?t|nobody|no one)\b.{0,30}\bknows? what (they|you)('re| are) doing\b",
        2.0,
        "incompetence",
    ),
    (r"\bcut off\b", 1.0, "cut off"),
]
INDIRECT_COMPLAINT_CUES = [
    (r"\b(second|third|fourth|fifth|\d+(st|nd|rd|th)) time\b", 2.5, "repeat contact"),
    (
        r"\b(yet again|once again|again and again|keeps? happening|every time)\b",
        2.0,
        "it keeps happening",
    ),
    (r"\bhow many times\b", 2.5, "'how many times'"),
    (
        r"\b(keep|kept) (asking|having to|chasing|calling|writing|getting)\b|\bover and over\b",
        2.0,
        "it keeps happening",
    ),
    (
        r"\b(called|rang|phoned|emailed|wrote|written|contacted you) (twice|three times|"
        r"several times|many times|again)\b",
        2.0,
        "repeat contact",
    ),
    (r"\b(just like|same as) (the|last) (last|one|time)\b", 1.5, "it keeps happening"),
    (r"\bthis is what (i|we) get\b", 2.0, "feels cheated"),
    (
        r"\bstill (waiting|not|no|hasn't|haven't|isn't|doesn't|nothing|unresolved|broken)\b",
        2.0,
        "still waiting",
    ),
    (
        r"\b(no (one|body)|nobody)\b.{0,40}\b(repl|answer|respond|help|call|care|told)",
        2.0,
        "nobody answers",
    ),
    (
        r"\b(no (reply|response|answer|update)|never (came|arrived|heard|got)|never turned up)\b",
        2.0,
        "no response",
    ),
    (r"\b(you|was|were) (promised|told)\b", 1.5, "broken promise"),
    (r"\b(so much for|thanks for nothing|great, another|just great|apparently)\b", 2.0, "sarcasm"),
    (r"\bi guess\b.{0,60}\b(priority|care|matter)", 2.0, "sarcasm"),
    (r"\b(on hold|chasing|passed (from|around)|different story)\b", 1.5, "runaround"),
    (
        r"\b(waste of (money|time)|not what i paid for|should not have to|shouldn't have to)\b",
        1.5,
        "feels cheated",
    ),
    (r"\b(weeks?|months?) (and|now|later|already)\b", 1.0, "long wait"),
    (r"\bcan'?t believe\b", 1.5, "disbelief"),
    (r"\bexpected (much )?better\b", 2.0, "expected better"),
    (r"\blet down\b", 2.0, "let down"),
]
DISTRESS_CUES = [
    (r"\bhelp\b", 1.0, "asks for help"),
    (r"!{2,}", 1.0, "repeated exclamation marks"),
    (r"\b(urgent(ly)?|asap|emergency|desperate(ly)?|immediately)\b", 1.0, "urgent"),
    (r"\b(stuck|stranded|panic(king)?|worried|scared|stressed)\b", 1.0, "worried"),
    (r"\bplease\b.*!", 0.5, "pleading"),
]
REQUEST_PATTERNS = re.compile(
    r"\?|\b(can|could|would|will) you\b|\b(please|kindly) (send|refund|cancel|change|update|"
    r"reset|fix|replace|call|check|confirm|tell|help me|let me know|advise)\b|"
    r"\bi (need|want|would like|'d like)\b|\bhow (do|can|should) i\b|\b(refund|replace(ment)?|"
    r"cancel|reset|exchange|order (number|no)|invoice)\b|\b\d{4,}\b",
    re.IGNORECASE,
)
EMOTION_WORDS = re.compile(
    r"\b(angry|furious|livid|upset|devastated|heartbroken|disgusted|fuming|hate|unbelievable|"
    r"outraged|humiliated|insulted|awful|terrible|disgrace(ful)?|appalling)\b",
    re.IGNORECASE,
)
CAPS_WORD = re.compile(r"\b[A-Z]{3,}\b")


def _compile(cues):
    return [(re.compile(pattern, re.IGNORECASE), weight, name) for pattern, weight, name in cues]


_DIRECT = _compile(DIRECT_COMPLAINT_CUES)
_INDIRECT = _compile(INDIRECT_COMPLAINT_CUES)
_DISTRESS = _compile(DISTRESS_CUES)


@dataclass
class Mood:
    compound: float
    score: float
    label: str
    frustrated: bool
    wants_to_be_heard: bool
    complaint_probability: float
    cues: list[str] = field(default_factory=list)

    @property
    def is_complaint(self) -> bool:
        return self.complaint_probability >= COMPLAINT_THRESHOLD

    def as_dict(self) -> dict:
        return {
            "compound": round(self.compound, 4),
            "score": round(self.score, 4),
            "label": self.label,
            "frustrated": self.frustrated,
            "wants_to_be_heard": self.wants_to_be_heard,
            "complaint_probability": round(self.complaint_probability, 4),
            "cues": self.cues,
        }


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


_model_lock = threading.Lock()


@lru_cache(maxsize=1)
def _complaint_model():
    """A small text model of complaint language, trained in-process on the shipped seed
    corpus (a few hundred milliseconds, once per process)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    texts, labels = [], []
    for line in SEED_PATH.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, _, text = line.partition("\t")
        texts.append(text)
        labels.append(int(label))
    model = make_pipeline(
        make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True),
        ),
        LogisticRegression(C=4.0, max_iter=500),
    )
    model.fit(texts, labels)
    return model


def _complaint_model_probability(text: str) -> float:
    with _model_lock:
        model = _complaint_model()
    return float(model.predict_proba([text])[0][1])


def _cue_hits(cues, text: str) -> list[tuple[float, str]]:
    return [(weight, name) for pattern, weight, name in cues if pattern.search(text)]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def complaint_probability(text: str, *, compound: float | None = None) -> tuple[float, list[str]]:
    """Probability that `text` is a complaint, direct or indirect, with the cues found."""
    if not text.strip():
        return 0.0, []
    if compound is None:
        compound = _vader().polarity_scores(text)["compound"]
    hits = _cue_hits(_DIRECT, text) + _cue_hits(_INDIRECT, text)
    learned = _complaint_model_probability(text)
    # Log-odds: the learned model's opinion, each cue (capped so a pile of weak cues cannot
    # dominate), and how negative VADER finds it; the bias keeps a neutral question low.
    logit = (
        -1.6 + 0.9 * _logit(learned) + min(sum(w for w, _ in hits), 5.0) + 1.5 * max(-compound, 0)
    )
    return _sigmoid(logit), sorted({name for _, name in hits})


def mood_read(text: str) -> Mood:
    """Read one message: VADER compound, a corrected score, a label, flags and complaint
    probability. Pure function; safe to call anywhere."""
    text = (text or "").strip()
    if not text:
        return Mood(0.0, 0.0, "neutral", False, False, 0.0, [])
    compound = _vader().polarity_scores(text)["compound"]
    complaint_p, complaint_cues = complaint_probability(text, compound=compound)
    distress = _cue_hits(_DISTRESS, text)
    distress_level = sum(w for w, _ in distress)
    caps = len(CAPS_WORD.findall(text))
    exclaims = text.count("!")
    emotion_words = len(EMOTION_WORDS.findall(text))

    # VADER counts "help", "please" and "!!!" as positive; a plea is not happiness. Pull the
    # score down by distress and complaint, and never leave a plea or a complaint positive.
    score = compound - 0.35 * distress_level - 1.2 * max(complaint_p - 0.2, 0.0)
    if distress_level >= 1.5 or complaint_p >= COMPLAINT_THRESHOLD:
        score = min(score, -0.1 - 0.1 * distress_level)
    score = max(-1.0, min(1.0, score))

    intensity = abs(compound) >= 0.6 or exclaims >= 2 or caps >= 1 or emotion_words >= 1
    frustrated = (
        score <= -0.5
        or (complaint_p >= 0.7 and (exclaims >= 1 or caps >= 1 or emotion_words >= 1))
        or (
            complaint_p >= COMPLAINT_THRESHOLD
            and any(n == "repeat contact" for n in complaint_cues)
        )
    )
    has_request = bool(REQUEST_PATTERNS.search(text))
    wants_to_be_heard = bool(intensity and score < -0.2 and not has_request)

    if distress_level >= 1.5 and score < 0:
        label = "distressed"
    elif score <= -0.5:
        label = "upset"
    elif score <= -0.1:
        label = "negative"
    elif score >= 0.3:
        label = "positive"
    else:
        label = "neutral"
    cues = complaint_cues + sorted({name for _, name in distress})
    if caps:
        cues.append("shouting (capitals)")
    return Mood(
        compound=compound,
        score=score,
        label=label,
        frustrated=frustrated,
        wants_to_be_heard=wants_to_be_heard,
        complaint_probability=complaint_p,
        cues=cues,
    )


def mood_trend(scores: list[float]) -> dict:
    """Where the mood is heading over a case's messages: the slope of a least-squares line
    through the scores, and a word for it."""
    if not scores:
        return {"direction": "none", "slope": 0.0, "first": None, "last": None, "average": None}
    n = len(scores)
    average = sum(scores) / n
    if n == 1:
        slope = 0.0
    else:
        mean_x = (n - 1) / 2
        slope = sum((i - mean_x) * (s - average) for i, s in enumerate(scores)) / sum(
            (i - mean_x) ** 2 for i in range(n)
        )
    direction = "steady"
    if n > 1 and slope >= 0.1:
        direction = "improving"
    elif n > 1 and slope <= -0.1:
        direction = "worsening"
    return {
        "direction": direction,
        "slope": round(slope, 4),
        "first": round(scores[0], 4),
        "last": round(scores[-1], 4),
        "average": round(average, 4),
    }
