"""Reads for triage: a case's stored triage, complaint detection, similar cases, the live
model's accuracy against agents, and a preview of triage for any text."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from django.db.models import F, OuterRef, Subquery, Window
from django.db.models.functions import RowNumber

from caseloop.cases.extensions import SimilarCase
from caseloop.cases.models import FINISHED_STATUSES, Case, Category, Message, Priority

from . import learning
from .models import CaseTriage, MessageMood, ModelVersion, TriageLabel
from .mood import COMPLAINT_THRESHOLD, mood_read
from .priority import PriorityContext, PriorityResult, priority_for_score, priority_score

logger = logging.getLogger(__name__)

COMPLAINT_TAG = "complaint"
COMPLAINT_UNREAD_LIMIT = 20
LEARNED_PRIORITY_MIN_CONFIDENCE = 0.5


def case_triage(*, case: Case) -> dict | None:
    """The stored triage of `case`, or None before it was triaged. Reads the OneToOne row
    (joined by case_base_queryset, so no extra query on lists)."""
    try:
        triage = case.triage
    except CaseTriage.DoesNotExist:
        return None
    if triage is None:
        return None
    return _triage_summary({field: getattr(triage, field) for field in TRIAGE_FIELDS})


# What the summary reads of a CaseTriage, and the same as lookups from a case, for readers
# of case values (`case_triage_of_row`).
TRIAGE_FIELDS = (
    "category_id",
    "confidence",
    "needs_review",
    "category_source",
    "candidates",
    "model_version_id",
    "priority",
    "priority_score",
    "priority_source",
    "priority_factors",
    "mood",
    "routing",
    "updated_at",
)
TRIAGE_COLUMNS = ("triage__id", *(f"triage__{field}" for field in TRIAGE_FIELDS))


def case_triage_of_row(row: Mapping[str, Any]) -> dict | None:
    """`case_triage` of the case whose values, with TRIAGE_COLUMNS, are in `row`."""
    if row["triage__id"] is None:
        return None
    return _triage_summary({field: row[f"triage__{field}"] for field in TRIAGE_FIELDS})


def _triage_summary(triage: Mapping[str, Any]) -> dict:
    mood = triage["mood"] or {}
    return {
        "category": {
            "id": triage["category_id"],
            "confidence": round(triage["confidence"], 4),
            "needs_review": triage["needs_review"],
            "source": triage["category_source"],
            "candidates": triage["candidates"],
            "model_version": triage["model_version_id"],
        },
        "priority": {
            "value": triage["priority"],
            "score": round(triage["priority_score"], 3),
            "source": triage["priority_source"],
            "factors": triage["priority_factors"],
        },
        "mood": mood,
        "flags": mood.get("flags", []),
        "routing": triage["routing"],
        "updated_at": triage["updated_at"].isoformat(),
    }


def case_is_complaint(*, case: Case) -> bool:
    """The desk's complaint verdict: tagged so, in a category named complaint(s), or any
    inbound message whose complaint probability is over the threshold."""
    if case.pk is None:
        return False
    if case.tags.filter(name=COMPLAINT_TAG).exists():
        return True
    if _complaint_category(case.category):
        return True
    read = MessageMood.objects.filter(case_id=case.pk)
    if read.filter(complaint_probability__gte=COMPLAINT_THRESHOLD).exists():
        return True
    # Messages triage has not read yet (it runs after commit, in a job) are read here.
    unread = (
        Message.objects.filter(case_id=case.pk, direction=Message.Direction.INBOUND)
        .exclude(pk__in=read.values("message_id"))
        .order_by("id")
        .values_list("text", flat=True)[:COMPLAINT_UNREAD_LIMIT]
    )
    return any(mood_read(text).is_complaint for text in unread)


def cases_complaint_ids(*, cases: Sequence[Case]) -> set[int]:
    """`case_is_complaint` for many cases in at most three queries: the ids of those that
    are complaints. The cases' categories should be loaded with them (select_related)."""
    remaining = {
        case.pk for case in cases if case.pk is not None and not _complaint_category(case.category)
    }
    found = {case.pk for case in cases if case.pk is not None} - remaining
    if remaining:
        tagged = Case.tags.through.objects.filter(
            case_id__in=remaining, tag__name=COMPLAINT_TAG
        ).values_list("case_id", flat=True)
        found |= set(tagged)
        remaining -= found
    if remaining:
        read = MessageMood.objects.filter(case_id__in=remaining)
        complaining = read.filter(complaint_probability__gte=COMPLAINT_THRESHOLD)
        found |= set(complaining.values_list("case_id", flat=True))
        remaining -= found
    if remaining:
        # Each case's first unread inbound messages, as `case_is_complaint` reads them.
        unread = (
            Message.objects.filter(case_id__in=remaining, direction=Message.Direction.INBOUND)
            .exclude(pk__in=MessageMood.objects.filter(case_id__in=remaining).values("message_id"))
            .annotate(nth=Window(RowNumber(), partition_by=F("case_id"), order_by=F("id").asc()))
            .filter(nth__lte=COMPLAINT_UNREAD_LIMIT)
            .values_list("case_id", "text")
        )
        found |= {case_id for case_id, text in unread if mood_read(text).is_complaint}
    return found


def _complaint_category(category: Category | None) -> bool:
    return category is not None and (
        category.slug.startswith("complaint") or category.name.lower().startswith("complaint")
    )


def case_moods(*, case: Case) -> list[MessageMood]:
    return list(
        MessageMood.objects.filter(case_id=case.pk)
        .select_related("message")
        .order_by("message__created_at", "id")
    )


def _first_inbound():
    return Subquery(
        Message.objects.filter(case=OuterRef("pk"), direction=Message.Direction.INBOUND)
        .order_by("created_at", "id")
        .values("text")[:1]
    )


def _last_outbound():
    return Subquery(
        # Automatic messages (acknowledgements, reminders) are not how a case was resolved.
        Message.objects.filter(case=OuterRef("pk"), direction=Message.Direction.OUTBOUND)
        .exclude(metadata__has_key="system")
        .order_by("-created_at", "-id")
        .values("text")[:1]
    )


class _SimilarIndex:
    """A TF-IDF matrix over a bounded set of recent cases, rebuilt when the set changes
    (a new case, a case solved) — not on every call."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: tuple | None = None
        self.vectorizer: Any = None
        self.matrix: Any = None
        self.ids: list[int] = []
        self.categories: list[int | None] = []

    def build(self, *, limit: int, key: tuple) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        rows = list(
            Case.objects.order_by("-id")
            .annotate(first=_first_inbound())
            .values_list("pk", "subject", "first", "category_id")[:limit]
        )
        self.ids = [row[0] for row in rows]
        self.categories = [row[3] for row in rows]
        texts = [learning.case_text(subject=row[1], first_message=row[2] or "") for row in rows]
        if not texts:
            self.vectorizer, self.matrix = None, None
        else:
            self.vectorizer = TfidfVectorizer(
                ngram_range=(1, 2), sublinear_tf=True, stop_words="english"
            )
            try:
                self.matrix = self.vectorizer.fit_transform(texts)
            except ValueError:  # only stop words everywhere
                self.vectorizer, self.matrix = None, None
        self.key = key


_index = _SimilarIndex()


def _index_key(limit: int) -> tuple:
    latest = Case.objects.order_by("-id").values_list("pk", "updated_at").first()
    solved = Case.objects.finished().count()
    return (limit, latest, solved, Case.objects.count())


def cases_similar(*, case: Case, k: int = 5, solved_only: bool = False) -> list[SimilarCase]:
    """The `k` cases most like `case` (TF-IDF cosine over subject and first message), best
    first, each with its resolution: the last reply sent on it, or "". Compares against the
    most recent `TriagePolicy.similar_candidates` cases; same-category cases win ties."""
    limit = learning.policy_get().similar_candidates
    key = _index_key(limit)
    with _index.lock:
        if _index.key != key:
            _index.build(limit=limit, key=key)
        vectorizer, matrix = _index.vectorizer, _index.matrix
        ids, categories = list(_index.ids), list(_index.categories)
    if vectorizer is None or matrix is None:
        return []
    first = (
        Message.objects.filter(case=case, direction=Message.Direction.INBOUND)
        .order_by("created_at", "id")
        .values_list("text", flat=True)
        .first()
    )
    query = vectorizer.transform(
        [learning.case_text(subject=case.subject, first_message=first or "")]
    )
    scores = (matrix @ query.T).toarray().ravel()
    # A small nudge for the same category: it breaks ties, it does not outrank the text.
    if case.category_id:
        scores = scores + 0.01 * (
            np.array([c == case.category_id for c in categories]) * (scores > 0)
        )
    order = np.argsort(-scores, kind="stable")
    wanted: list[tuple[int, float]] = [
        (ids[i], float(scores[i])) for i in order if ids[i] != case.pk and scores[i] > 0
    ]
    candidates = (
        Case.objects.filter(pk__in=[pk for pk, _ in wanted[: max(k * 10, 50)]])
        .select_related("category", "customer", "owner", "team")
        .annotate(resolution=_last_outbound())
    )
    if solved_only:
        candidates = candidates.finished()
    found = {c.pk: c for c in candidates}
    result = []
    for pk, score in wanted:
        if pk in found:
            other = found[pk]
            result.append(
                SimilarCase(
                    case=other,
                    score=round(min(score, 1.0), 4),
                    # annotated on the query above; the stubs lose it through finished()
                    resolution=other.resolution or "",  # type: ignore[attr-defined]
                )
            )
            if len(result) == k:
                break
    return result


def triage_accuracy(*, window: int | None = None) -> dict:
    """The live model's rolling accuracy against agents' decisions over the last `window`
    decisions: categories agents set (TriageLabel) and categories agents confirmed by solving
    the case with the category triage predicted. Priority likewise from the priorities
    agents set."""
    window = window or learning.policy_get().accuracy_window
    decisions: list[tuple[str, bool, int | None, str]] = []
    for label in (
        TriageLabel.objects.filter(field="category").exclude(predicted="").order_by("-id")[:window]
    ):
        decisions.append(
            (label.created_at.isoformat(), label.correct, label.model_version_id, "set")
        )
    labelled_cases = TriageLabel.objects.filter(field="category").values("case_id")
    # The most recently solved cases with a category, read newest first off the solved_at
    # index and filtered here (a status filter in SQL tempts SQLite to sort every finished
    # case instead): the history's size never matters.
    recently_solved = [
        pk
        for pk, status, category_id in Case.objects.filter(solved_at__isnull=False)
        .order_by("-solved_at")
        .values_list("pk", "status", "category_id")[: 4 * window]
        if status in FINISHED_STATUSES and category_id is not None
    ]
    confirmed = (
        CaseTriage.objects.filter(case_id__in=recently_solved, category__isnull=False)
        .exclude(case_id__in=labelled_cases)
        .select_related("case")
        .order_by("-case__solved_at", "-id")[:window]
    )
    for triage in confirmed:
        when = (triage.case.solved_at or triage.updated_at).isoformat()
        decisions.append(
            (
                when,
                triage.case.category_id == triage.category_id,
                triage.model_version_id,
                "confirmed",
            )
        )
    decisions.sort(key=lambda d: d[0], reverse=True)
    decisions = decisions[:window]

    def summary(rows) -> dict[str, Any]:
        n = len(rows)
        correct = sum(1 for r in rows if r[1])
        return {"n": n, "correct": correct, "accuracy": round(correct / n, 4) if n else None}

    live = learning.model_active()
    category = summary(decisions)
    category["by_source"] = {
        source: summary([d for d in decisions if d[3] == source]) for source in ("set", "confirmed")
    }
    category["live_model_version"] = live.version if live else None
    category["live_model"] = summary([d for d in decisions if live and d[2] == live.pk])
    priority_labels = list(
        TriageLabel.objects.filter(field="priority").exclude(predicted="").order_by("-id")[:window]
    )
    priority: dict[str, Any] = {
        "n": len(priority_labels),
        "correct": sum(1 for label in priority_labels if label.correct),
    }
    priority["accuracy"] = round(priority["correct"] / priority["n"], 4) if priority["n"] else None
    return {"window": window, "category": category, "priority": priority}


def priority_apply_model(result: PriorityResult, *, text: str) -> PriorityResult:
    """When agents have taught a priority model, let it decide (above a confidence floor);
    the signals stay listed as the explanation and the model's view is one more factor."""
    version = learning.model_active(ModelVersion.Kind.PRIORITY)
    if version is None:
        return result
    try:
        model = learning.model_load(version)
    except (OSError, EOFError, ValueError):
        logger.exception("priority model v%s could not be loaded", version.version)
        return result
    proba = model.predict_proba([(text, result.features())])[0]
    best = int(proba.argmax())
    learned, confidence = str(model.classes_[best]), float(proba[best])
    if learned not in Priority.values or confidence < LEARNED_PRIORITY_MIN_CONFIDENCE:
        return result
    result.factors.append(
        {
            "signal": "learned_model",
            "label": f"learned from agents (model v{version.version})",
            "weight": 0.0,
            "detail": f"{learned} at {confidence:.0%}; signals alone say "
            f"{priority_for_score(result.score)}",
        }
    )
    result.priority = learned
    result.source = "model"
    return result


def triage_preview(*, text: str, is_vip: bool = False, service_level: str = "") -> dict:
    """What triage would say about `text`, without creating anything."""
    guess = learning.category_guess(text)
    policy = learning.policy_get()
    confident = guess.category_id is not None and guess.confidence >= policy.review_threshold
    names = dict(
        Category.objects.filter(pk__in=[c["category"] for c in guess.candidates]).values_list(
            "pk", "slug"
        )
    )
    mood = mood_read(text)
    context = PriorityContext(is_vip=is_vip, service_level=service_level, mood_score=mood.score)
    priority = priority_apply_model(priority_score(text=text, context=context), text=text)
    flags = [
        name
        for name, on in (
            ("frustrated", mood.frustrated),
            ("wants_to_be_heard", mood.wants_to_be_heard),
            ("complaint", mood.is_complaint),
        )
        if on
    ]
    return {
        "category": {
            "slug": names.get(guess.category_id) if guess.category_id else None,
            "id": guess.category_id,
            "confidence": round(guess.confidence, 4),
            "needs_review": not confident,
            "source": guess.source,
            "candidates": [{**c, "slug": names.get(c["category"])} for c in guess.candidates],
        },
        "priority": priority.as_dict(),
        "sentiment": mood.as_dict(),
        "flags": flags,
    }


def triage_overview() -> dict:
    """What a manager needs to trust triage: the live models, their rolling accuracy
    against agents, the agents' decisions the live category model has not learned from
    yet, and how many open cases wait for a category decision."""
    category_model = learning.model_active(ModelVersion.Kind.CATEGORY)
    priority_model = learning.model_active(ModelVersion.Kind.PRIORITY)
    new_decisions = TriageLabel.objects.filter(field="category")
    if category_model is not None:
        new_decisions = new_decisions.filter(created_at__gt=category_model.trained_at)
    return {
        "category_model": category_model,
        "priority_model": priority_model,
        "accuracy": triage_accuracy(),
        "decisions_not_learned": new_decisions.count(),
        "needs_review": CaseTriage.objects.filter(needs_review=True)
        .exclude(case__status__in=FINISHED_STATUSES)
        .count(),
    }
