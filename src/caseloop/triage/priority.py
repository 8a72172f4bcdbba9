"""Urgency and priority as an explained score: every signal that moved it is kept with its
weight, so the agent sees why a case is urgent, not only that it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

URGENT_AT = 6.0
HIGH_AT = 3.0
LOW_AT = -1.0

# (signal key, pattern, weight, label)
TEXT_SIGNALS = [
    (
        "urgency",
        r"\b(urgent(ly)?|asap|as soon as possible|immediately|right away|emergency|critical|"
        r"time[- ]sensitive|deadline|by (today|tonight|tomorrow))\b",
        2.0,
        "words of urgency",
    ),
    (
        "harm",
        r"\b(injur(y|ed|ies)|hurt|burn(ed|t|s)?|fire|smok(e|ing)|sparks?|electric(al)? shock|"
        r"choking|allergic reaction|hospital|bleeding|exploded?|unsafe|dangerous|poison(ed|ing)?|"
        r"carbon monoxide|gas leak|safety)\b",
        4.0,
        "harm or safety",
    ),
    (
        "legal",
        r"\b(lawyer|attorney|solicitor|sue|suing|lawsuit|legal action|court|ombudsman|"
        r"trading standards|regulator|small claims|report you to)\b",
        3.0,
        "legal threat",
    ),
    (
        "outage",
        r"\b(outage|(is|are|went|been|site|system|service|server|app|website) (completely )?down|"
        r"not working for (anyone|everyone|all)|nobody can|no one can|all (our )?users|"
        r"cannot access|can'?t access|unavailable|offline|500 error|can'?t log ?in)\b",
        3.0,
        "outage",
    ),
    (
        # Vulnerability: a customer in financial or personal hardship needs care first,
        # whatever the size of the problem itself.
        "hardship",
        r"\b(overdra(wn|ft)|(payment|rent|cheque|check|direct debit|mortgage)( \w+)? bounced|"
        r"bounced (payment|rent|cheque|check|direct debit)|"
        r"(can'?t|cannot|can not|unable to) (afford|pay (my |the |our )?(rent|bills?|mortgage))|"
        r"struggling (financially|to pay)|no money (left|for food)|food ?bank|"
        r"lost my job|unemployed|evict(ed|ion)|bereave(d|ment)|passed away|funeral|widow(ed)?|"
        r"terminal(ly)? ill|cancer|chemotherapy|disabilit(y|ies)|wheelchair|dementia|"
        r"(i am|i'm|we are|she is|he is|they are) (a )?vulnerable)\b",
        2.0,
        "hardship or vulnerability",
    ),
    (
        "low_urgency",
        r"\b(no rush|no hurry|whenever (you|it) ?(can|suits)?|not urgent|just (curious|wondering)|"
        r"suggestion|feature request|for (your|future) reference)\b",
        -1.5,
        "says it can wait",
    ),
]
_TEXT_SIGNALS = [(k, re.compile(p, re.IGNORECASE), w, label) for k, p, w, label in TEXT_SIGNALS]

# A customer who writes from a new address, or on another channel, has no history the desk
# can see; their own words ("the third time I am writing", "nobody has replied") say it.
_ORDINAL = r"(second|third|fourth|fifth|sixth|2nd|3rd|4th|5th|6th|umpteenth|nth)"
_CONTACT_VERB = (
    r"(writ(e|ing)|written|contact(ing|ed)?|e-?mail(ing|ed)?|call(ing|ed)?|phon(e|ing|ed)|"
    r"ask(ing|ed)?|chas(e|ing|ed)|messag(e|ing|ed)|report(ing|ed)?|rais(e|ing|ed)|complain(ing|ed)?|"
    r"reach(ing|ed)? out|(got|get|getting) in touch)"
)
_CONTACTED = (
    r"(written|wrote|e-?mailed|contacted|called|phoned|messaged|reported|raised|chased|asked|"
    r"complained)"
)
REPEAT_CLAIM = re.compile(
    "|".join(
        [
            rf"\b{_ORDINAL} time (that )?((i|we)('m|'ve| am| have| are)? )?(been )?{_CONTACT_VERB}",
            rf"\b(i|we) {_CONTACTED} (you|your team|support) (yesterday|last (week|month)|"
            r"(two|three|four|five|a few|several|\d+) (days|weeks) ago)\b",
            rf"\b{_CONTACT_VERB}( to)?( you| your team| support)? (for )?the {_ORDINAL} time\b",
            rf"\bmy {_ORDINAL} (e-?mail|message|call|attempt|request|complaint|time)\b",
            rf"\b(i|we)('ve| have| had)? already {_CONTACTED}\b",
            rf"\b(i|we)('ve| have| had)? {_CONTACTED}( \w+){{0,3}} "
            r"(before|twice|three times|several times|multiple times|many times|repeatedly|"
            r"previously|already)\b",
            r"\bstill (have not|haven'?t|not|no|waiting|did not|didn'?t)( \w+){0,3} "
            r"(heard back|heard from|heard anything|a reply|any reply|reply|replied|a response|"
            r"any response|response|responded|an answer|answer|answered)\b",
            r"\b(no one|nobody|no-one) (has |have |had |ever )*(replied|responded|answered|"
            r"got back|gotten back|came back|called( me)? back|helped)\b",
            r"\b(following up|follow(ing)?[- ]up on|chasing( up)?) (on )?(my|our) "
            r"(previous|last|earlier|original) "
            r"(e-?mail|message|request|call|complaint|ticket|case)",
            r"\bas (i|we) (said|mentioned|explained|wrote) (in|on) (my|our) "
            r"(previous|last|earlier|first)\b",
        ]
    ),
    re.IGNORECASE,
)


def repeat_contact_claimed(text: str) -> str:
    """The words in which a customer says they have contacted the desk before, or ""."""
    match = REPEAT_CLAIM.search(text or "")
    return match.group(0).lower() if match else ""


SERVICE_LEVEL_WEIGHTS = {
    "platinum": 2.5,
    "enterprise": 2.0,
    "premium": 1.5,
    "gold": 1.5,
    "business": 1.0,
    "priority": 1.5,
    "silver": 0.5,
}
VIP_WEIGHT = 2.0
REPEAT_COMPLAINT_WEIGHT = 2.0
NEGATIVE_SENTIMENT_MAX = 2.0

# The order of the feature vector a learned priority model sees.
FEATURE_KEYS = [
    "urgency",
    "harm",
    "legal",
    "outage",
    "low_urgency",
    "vip",
    "repeat_complaint",
    "negative_sentiment",
    "service_level",
    # Appended, never inserted: models learned before a signal existed read only the
    # first keys they were trained on.
    "hardship",
]


@dataclass
class PriorityContext:
    """What besides the text moves priority: who the customer is and their history."""

    is_vip: bool = False
    service_level: str = ""
    repeat_complaint: bool = False
    repeat_detail: str = ""
    mood_score: float = 0.0


@dataclass
class PriorityResult:
    priority: str
    score: float
    factors: list[dict] = field(default_factory=list)
    source: str = "signals"

    def features(self) -> list[float]:
        weights = {f["signal"]: f["weight"] for f in self.factors}
        return [float(weights.get(key, 0.0)) for key in FEATURE_KEYS]

    def as_dict(self) -> dict:
        return {
            "priority": self.priority,
            "score": round(self.score, 3),
            "factors": self.factors,
            "source": self.source,
        }


def priority_for_score(score: float) -> str:
    if score >= URGENT_AT:
        return "urgent"
    if score >= HIGH_AT:
        return "high"
    if score <= LOW_AT:
        return "low"
    return "normal"


def priority_score(*, text: str, context: PriorityContext) -> PriorityResult:
    """Score `text` in `context`; each signal found becomes a factor with its weight."""
    factors: list[dict] = []
    for key, pattern, weight, label in _TEXT_SIGNALS:
        found = sorted({m.group(0).lower() for m in pattern.finditer(text or "")})
        if found:
            factors.append(
                {"signal": key, "label": label, "weight": weight, "detail": ", ".join(found[:5])}
            )
    if context.is_vip:
        factors.append(
            {"signal": "vip", "label": "VIP customer", "weight": VIP_WEIGHT, "detail": ""}
        )
    # History or the customer's own words: one factor either way, never counted twice.
    claimed = "" if context.repeat_complaint else repeat_contact_claimed(text)
    if context.repeat_complaint or claimed:
        factors.append(
            {
                "signal": "repeat_complaint",
                "label": "repeat contact about an unresolved complaint",
                "weight": REPEAT_COMPLAINT_WEIGHT,
                "detail": context.repeat_detail or f"says so: “{claimed}”",
            }
        )
    if context.mood_score < -0.05:
        weight = round(NEGATIVE_SENTIMENT_MAX * min(-context.mood_score, 1.0), 2)
        factors.append(
            {
                "signal": "negative_sentiment",
                "label": "negative sentiment",
                "weight": weight,
                "detail": f"mood score {context.mood_score:.2f}",
            }
        )
    level = (context.service_level or "").strip().lower()
    if level in SERVICE_LEVEL_WEIGHTS:
        factors.append(
            {
                "signal": "service_level",
                "label": "service level",
                "weight": SERVICE_LEVEL_WEIGHTS[level],
                "detail": level,
            }
        )
    score = sum(f["weight"] for f in factors)
    return PriorityResult(priority=priority_for_score(score), score=score, factors=factors)
