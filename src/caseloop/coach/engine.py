"""The reply coach: checks a draft against the desk's guidelines (rows of Guideline and
JargonTerm, edited in the admin) and returns findings with spans and suggested rewrites.

A finding of a holding severity (`error`: blaming the customer, refusing to help, false
hope) holds the reply until the agent revises it or sends it anyway; warnings and info are
advice, shown with the reply, which goes.

Pure text in, findings out; the only I/O is reading the active guidelines.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache

from . import meaning
from .models import Guideline, JargonTerm

Kind = Guideline.Kind

# Lexical cues that an inbound message is a complaint; a guideline's params may add more.
STRONG_COMPLAINT_CUES = [
    r"\bcomplain(t|ing|ed)?\b",
    r"\bunacceptable\b",
    r"\bdisgust(ed|ing)\b",
    r"\bappall(ed|ing)\b",
    r"\bfurious\b",
    r"\boutrag(ed|eous)\b",
    r"\bworst\b",
    r"\bridiculous\b",
    r"\bfed up\b",
    r"\bsick of\b",
    r"\bshocking\b",
    r"\bterrible service\b",
]
WEAK_COMPLAINT_CUES = [
    r"\bdisappoint(ed|ing)\b",
    r"\bangry\b",
    r"\bupset\b",
    r"\bterrible\b",
    r"\bawful\b",
    r"\bstill (not|hasn't|haven't|no|waiting)\b",
    r"\bagain\b",
    r"\brefund\b",
    r"\bno(body| one) (has )?(replied|answered|called|helped)\b",
    r"\b(second|third|fourth) time\b",
    r"\bwaste of\b",
    r"\bfrustrat(ed|ing)\b",
    r"\bpoor\b",
]

# Severities whose findings hold a reply; the others advise.
HOLDING_SEVERITIES = frozenset({Guideline.Severity.ERROR.value})

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*", re.MULTILINE)
_WORD = re.compile(r"[A-Za-z0-9']+")


@dataclass(frozen=True)
class Finding:
    rule_id: str
    start: int
    end: int
    message: str
    suggestion: str
    severity: str
    excerpt: str = ""

    @property
    def blocks(self) -> bool:
        """Whether this finding holds the reply (until revised or sent anyway)."""
        return self.severity in HOLDING_SEVERITIES

    def as_dict(self) -> dict:
        return {**asdict(self), "blocks": self.blocks}


@dataclass(frozen=True)
class Rule:
    rule_id: str
    kind: str
    patterns: tuple[str, ...]
    params: dict
    message: str
    suggestion: str
    severity: str
    # (text, breach) sentences showing what the rule means, for matching by meaning.
    examples: tuple[tuple[str, bool], ...] = ()


@lru_cache(maxsize=512)
def _compile(pattern: str) -> re.Pattern | None:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        # A bad pattern typed in the admin must not break the composer; it simply never matches.
        return None


def _search_any(patterns, text: str) -> re.Match | None:
    for pattern in patterns:
        compiled = _compile(pattern)
        if compiled is not None:
            match = compiled.search(text)
            if match:
                return match
    return None


def sentences(text: str) -> list[tuple[int, int, str]]:
    """(start, end, sentence) for every sentence of `text`, trimmed of surrounding space."""
    found = []
    for match in _SENTENCE.finditer(text):
        chunk = match.group(0)
        stripped = chunk.strip()
        if not stripped:
            continue
        start = match.start() + (len(chunk) - len(chunk.lstrip()))
        found.append((start, start + len(stripped), stripped))
    return found


def is_complaint_text(text: str, extra_cues: list[str] | None = None) -> bool:
    """Whether a customer's message reads as a complaint: one strong cue or two weak ones."""
    if not text:
        return False
    strong = STRONG_COMPLAINT_CUES + list(extra_cues or [])
    if _search_any(strong, text):
        return True
    weak = sum(
        1 for cue in WEAK_COMPLAINT_CUES if (pattern := _compile(cue)) and pattern.search(text)
    )
    return weak >= 2


def rules_load() -> tuple[list[Rule], list[tuple[str, str]]]:
    """The active guidelines with their examples, and jargon terms (three queries)."""
    rules = [
        Rule(
            rule_id=g.rule_id,
            kind=g.kind,
            patterns=tuple(g.patterns or ()),
            params=dict(g.params or {}),
            message=g.message,
            suggestion=g.suggestion,
            severity=g.severity,
            examples=tuple((e.text, e.breach) for e in g.examples.all()),
        )
        for g in Guideline.objects.filter(is_active=True)
        .order_by("order", "rule_id")
        .prefetch_related("examples")
    ]
    jargon = list(JargonTerm.objects.filter(is_active=True).values_list("term", "plain"))
    return rules, jargon


def _finding(rule: Rule, text: str, start: int, end: int, message: str = "", suggestion=None):
    return Finding(
        rule_id=rule.rule_id,
        start=start,
        end=end,
        message=message or rule.message,
        suggestion=rule.suggestion if suggestion is None else suggestion,
        severity=rule.severity,
        excerpt=text[start:end][:200],
    )


def _phrase(rule: Rule, text: str) -> list[Finding]:
    rewrites = rule.params.get("rewrites") or {}
    findings = []
    for pattern in rule.patterns:
        compiled = _compile(pattern)
        if compiled is None:
            continue
        for match in compiled.finditer(text):
            suggestion = rule.suggestion
            for key, rewrite in rewrites.items():
                key_re = _compile(key)
                if key_re is not None and key_re.search(match.group(0)):
                    suggestion = rewrite
                    break
            findings.append(_finding(rule, text, match.start(), match.end(), suggestion=suggestion))
    return findings


def _complaint_requires(rule: Rule, text: str, complaint: bool) -> list[Finding]:
    if not complaint or _search_any(rule.patterns, text):
        return []
    parts = sentences(text)
    start, end = (parts[0][0], parts[0][1]) if parts else (0, len(text))
    return [_finding(rule, text, start, end)]


def _trigger_requires(rule: Rule, text: str) -> list[Finding]:
    requires = rule.params.get("requires") or []
    scope = rule.params.get("scope", "sentence")
    findings = []
    if scope == "draft":
        trigger = _search_any(rule.patterns, text)
        if trigger and not _search_any(requires, text):
            findings.append(_finding(rule, text, trigger.start(), trigger.end()))
        return findings
    for start, _end, sentence in sentences(text):
        trigger = _search_any(rule.patterns, sentence)
        if trigger and not _search_any(requires, sentence):
            findings.append(_finding(rule, text, start + trigger.start(), start + trigger.end()))
    return findings


def _length(rule: Rule, text: str) -> list[Finding]:
    max_words = int(rule.params.get("max_words", 150))
    max_sentence = int(rule.params.get("max_sentence_words", 35))
    findings = []
    words = len(_WORD.findall(text))
    if words > max_words:
        findings.append(
            _finding(
                rule,
                text,
                0,
                len(text.rstrip()),
                message=f"{rule.message} This draft has {words} words; aim for {max_words} "
                "or fewer.",
            )
        )
    long_ones = [
        (start, end, len(_WORD.findall(sentence)))
        for start, end, sentence in sentences(text)
        if len(_WORD.findall(sentence)) > max_sentence
    ]
    for start, end, count in long_ones[:3]:
        findings.append(
            _finding(
                rule,
                text,
                start,
                end,
                message=f"A {count}-word sentence; split it (aim for {max_sentence} or fewer).",
            )
        )
    return findings


def _jargon(rule: Rule, text: str, terms: list[tuple[str, str]]) -> list[Finding]:
    findings = []
    for term, plain in terms:
        flags = 0 if term.isupper() else re.IGNORECASE
        pattern = re.compile(r"(?<![\w-])" + re.escape(term) + r"(?![\w-])", flags)
        for match in pattern.finditer(text):
            suggestion = (
                f"Say “{plain}” instead of “{match.group(0)}”." if plain else rule.suggestion
            )
            findings.append(
                _finding(
                    rule,
                    text,
                    match.start(),
                    match.end(),
                    message=f"“{match.group(0)}” is an internal term. {rule.message}",
                    suggestion=suggestion,
                )
            )
    return findings


def _by_meaning(rules: list[Rule], text: str, found: list[Finding]) -> list[Finding]:
    """Phrase rules matched by meaning, which also settles their ambiguous words.

    A sentence the rule's examples say breaches it is flagged, unless the rule's patterns
    already flagged something in it. A pattern the rule lists under `params.confirm`
    (words such as "never" that are only sometimes a breach) keeps its finding only when
    the sentence leans towards the rule too. Returns the findings to add; the ambiguous
    findings not confirmed are removed from `found`."""
    by_id = {rule.rule_id: rule for rule in rules if rule.kind == Kind.PHRASE and rule.examples}
    if not by_id:
        return []
    examples = tuple(
        (rule_id, example, breach)
        for rule_id, rule in by_id.items()
        for example, breach in rule.examples
    )
    parts = sentences(text)
    kind = meaning.backend()
    likely = meaning.likelihoods(
        [sentence for _start, _end, sentence in parts], examples, kind=kind
    )
    if likely is None:
        return []
    unconfirmed = [
        finding
        for finding in found
        if finding.rule_id in by_id
        and _ambiguous(by_id[finding.rule_id], finding.excerpt)
        and not any(
            start <= finding.start < end and row.get(finding.rule_id, 0.0) >= meaning.CONFIRM[kind]
            for (start, end, _sentence), row in zip(parts, likely, strict=True)
        )
    ]
    for finding in unconfirmed:
        found.remove(finding)
    findings = []
    for (start, end, _sentence), row in zip(parts, likely, strict=True):
        for rule_id in sorted(row):
            if row[rule_id] < meaning.THRESHOLDS[kind]:
                continue
            if any(f.rule_id == rule_id and f.start < end and f.end > start for f in found):
                continue
            findings.append(_finding(by_id[rule_id], text, start, end))
    return findings


def _ambiguous(rule: Rule, excerpt: str) -> bool:
    """Whether the phrase a pattern flagged is one the rule asks meaning to confirm."""
    return any(
        (pattern := _compile(confirm)) is not None and pattern.fullmatch(excerpt)
        for confirm in rule.params.get("confirm") or []
    )


def check_text(
    *,
    text: str,
    complaint: bool = False,
    rules: list[Rule] | None = None,
    jargon: list[tuple[str, str]] | None = None,
) -> list[Finding]:
    """Findings for `text` under the active guidelines, ordered by position."""
    if rules is None or jargon is None:
        loaded_rules, loaded_jargon = rules_load()
        rules = loaded_rules if rules is None else rules
        jargon = loaded_jargon if jargon is None else jargon
    text = text or ""
    if not text.strip():
        return []
    findings: list[Finding] = []
    for rule in rules:
        if rule.kind == Kind.PHRASE:
            findings += _phrase(rule, text)
        elif rule.kind == Kind.COMPLAINT_REQUIRES:
            findings += _complaint_requires(rule, text, complaint)
        elif rule.kind == Kind.TRIGGER_REQUIRES:
            findings += _trigger_requires(rule, text)
        elif rule.kind == Kind.LENGTH:
            findings += _length(rule, text)
        elif rule.kind == Kind.JARGON:
            findings += _jargon(rule, text, jargon)
    findings += _by_meaning(rules, text, findings)
    return sorted(findings, key=lambda f: (f.start, f.end, f.rule_id))
