"""Learning from the desk: training sets from agents' decisions, versioned models on disk
under the data directory, and the guesses they make (with keyword rules before there is
enough history).
"""

from __future__ import annotations

import copy
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, OuterRef, Q, Subquery

from caseloop.cases.models import FINISHED_STATUSES, Case, Category, Message
from caseloop.lib.settings_cache import cached_setting

from .classifier import category_model_fit, category_model_predict
from .embeddings import EmbeddingsUnavailable
from .models import CaseTriage, KeywordRule, ModelVersion, TriageLabel, TriagePolicy
from .priority import FEATURE_KEYS, PriorityContext, priority_score
from .priority_model import priority_model_fit

logger = logging.getLogger(__name__)

RULE_CONFIDENCE_CAP = 0.9


def policy_get() -> TriagePolicy:
    """The triage settings (read once per process until they change; a copy)."""
    kept = cached_setting(
        "triage.policy",
        lambda: TriagePolicy.objects.get_or_create(pk=1)[0],
        models=(TriagePolicy,),
    )
    return copy.copy(kept)


def case_text(*, subject: str, first_message: str) -> str:
    return f"{subject or ''}\n{first_message or ''}".strip()


def _first_inbound_text():
    return Subquery(
        Message.objects.filter(case=OuterRef("pk"), direction=Message.Direction.INBOUND)
        .order_by("created_at", "id")
        .values("text")[:1]
    )


@dataclass(frozen=True)
class TrainingSet:
    texts: list  # strings; for the priority model, (text, signal weights) pairs
    labels: list[str]
    case_ids: list[int]


def training_set_category(*, policy: TriagePolicy | None = None) -> TrainingSet:
    """Cases whose category an agent set (the latest TriageLabel wins) or confirmed by seeing
    the case through to solved or closed with it. Categories with too few examples are left
    out: a model cannot learn them and they would skew the calibration."""
    policy = policy or policy_get()
    labelled: dict[int, str] = {}
    latest = (
        TriageLabel.objects.filter(field="category")
        .values("case_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    for case_id, value in TriageLabel.objects.filter(pk__in=Subquery(latest)).values_list(
        "case_id", "value"
    ):
        labelled[case_id] = value
    active = {
        str(pk) for pk in Category.objects.filter(is_active=True).values_list("pk", flat=True)
    }
    # Subqueries rather than id lists: a large desk would overflow SQLite's parameter limit.
    agent_set = TriageLabel.objects.filter(field="category").values("case_id")
    rows = (
        Case.objects.filter(
            Q(pk__in=agent_set) | Q(status__in=FINISHED_STATUSES, category__isnull=False)
        )
        .annotate(first=_first_inbound_text())
        .values_list("pk", "subject", "first", "category_id")
        .order_by("pk")
    )
    texts, labels, ids = [], [], []
    for case_id, subject, first, category_id in rows:
        label = labelled.get(case_id, str(category_id))
        if label not in active:
            continue
        texts.append(case_text(subject=subject, first_message=first or ""))
        labels.append(label)
        ids.append(case_id)
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    keep = [i for i, label in enumerate(labels) if counts[label] >= policy.min_samples_per_category]
    return TrainingSet([texts[i] for i in keep], [labels[i] for i in keep], [ids[i] for i in keep])


def training_set_priority() -> TrainingSet:
    """Cases whose priority an agent set; the latest decision per case wins."""
    latest = (
        TriageLabel.objects.filter(field="priority")
        .values("case_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    labels = dict(
        TriageLabel.objects.filter(pk__in=Subquery(latest)).values_list("case_id", "value")
    )
    factors = dict(
        CaseTriage.objects.filter(
            case_id__in=TriageLabel.objects.filter(field="priority").values("case_id")
        ).values_list("case_id", "priority_factors")
    )
    rows = Case.objects.filter(
        pk__in=TriageLabel.objects.filter(field="priority").values("case_id")
    ).annotate(first=_first_inbound_text())
    items, out, ids = [], [], []
    for case_id, subject, first in rows.values_list("pk", "subject", "first").order_by("pk"):
        text = case_text(subject=subject, first_message=first or "")
        if case_id in factors:
            weights = {f["signal"]: f["weight"] for f in factors[case_id] or []}
            features = [float(weights.get(key, 0.0)) for key in FEATURE_KEYS]
        else:
            features = priority_score(text=text, context=PriorityContext()).features()
        items.append((text, features))
        out.append(labels[case_id])
        ids.append(case_id)
    return TrainingSet(items, out, ids)


def models_dir() -> Path:
    path = Path(settings.DATA_DIR) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


_cache: dict[str, object] = {}
_cache_lock = threading.Lock()


def model_load(version: ModelVersion):
    """The trained model of `version`, loaded once per process."""
    key = f"{Path(settings.DATA_DIR) / version.path}@{version.trained_at.isoformat()}"
    with _cache_lock:
        model = _cache.get(key)
        if model is None:
            import joblib

            model = joblib.load(Path(settings.DATA_DIR) / version.path)
            _cache.clear()  # keep only the live model of each kind in memory
            _cache[key] = model
        return model


def model_active(kind: str = ModelVersion.Kind.CATEGORY) -> ModelVersion | None:
    """The live model of `kind` (read once per process until a model is trained; a copy)."""
    kept = cached_setting(
        f"triage.model_active.{kind}",
        lambda: ModelVersion.objects.filter(kind=kind).order_by("-version").first(),
        models=(ModelVersion,),
    )
    return copy.copy(kept)


def _holdout_metrics(texts: list[str], labels: list[str], fit) -> dict:
    """Accuracy on a stratified fifth the model has not seen, when there is enough data."""
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split

    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    n_classes = len(counts)
    test_size = max(int(len(labels) * 0.2), n_classes)
    if min(counts.values()) < 2 or len(labels) - test_size < n_classes:
        return {}
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=test_size, stratify=labels, random_state=7
    )
    try:
        model = fit(train_x, train_y)
    except ValueError:
        return {}
    predicted = [str(p) for p in model.predict(test_x)]
    return {
        "holdout_accuracy": round(float(accuracy_score(test_y, predicted)), 4),
        "holdout_macro_f1": round(
            float(f1_score(test_y, predicted, average="macro", zero_division=0)), 4
        ),
        "holdout_size": len(test_y),
    }


def _version_save(*, kind: str, model, n_samples: int, labels: list, metrics: dict):
    with transaction.atomic():
        last = (
            ModelVersion.objects.select_for_update()
            .filter(kind=kind)
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        number = (last or 0) + 1
        relative = f"models/{kind}-v{number}.joblib"
        import joblib

        joblib.dump(model, Path(settings.DATA_DIR) / relative, compress=3)
        return ModelVersion.objects.create(
            kind=kind,
            version=number,
            n_samples=n_samples,
            labels=labels,
            metrics=metrics,
            path=relative,
        )


def model_train(*, kind: str = ModelVersion.Kind.CATEGORY, force: bool = False):
    """Train a new version of the category (or priority) model from the desk's labelled
    history. Returns the new ModelVersion, or None when there is not enough history yet
    (then keyword rules keep guessing). Side effects: a model file under
    DATA_DIR/models/ and a ModelVersion row."""
    policy = policy_get()
    models_dir()
    fit: Callable[..., Any]
    if kind == ModelVersion.Kind.PRIORITY:
        data = training_set_priority()
        fit = priority_model_fit
    else:
        data = training_set_category(policy=policy)
        fit = category_model_fit
    distinct = sorted(set(data.labels))
    if len(distinct) < 2 or (len(data.labels) < policy.min_training_samples and not force):
        logger.info("not enough history to train the %s model (%s)", kind, len(data.labels))
        return None
    metrics = _holdout_metrics(data.texts, data.labels, fit)
    started = time.perf_counter()
    model = fit(data.texts, data.labels)
    metrics["train_seconds"] = round(time.perf_counter() - started, 3)
    metrics["embeddings"] = bool(getattr(model, "uses_embeddings", False))
    metrics["word_vectors"] = bool(getattr(model, "uses_word_vectors", False))
    return _version_save(
        kind=kind, model=model, n_samples=len(data.labels), labels=distinct, metrics=metrics
    )


@dataclass(frozen=True)
class CategoryGuess:
    category_id: int | None
    confidence: float
    source: str
    candidates: list[dict]
    model_version: ModelVersion | None = None


def _keyword_rules() -> tuple[tuple[int, tuple[str, ...], float], ...]:
    """The active keyword rules of active categories (read once per process until a rule or
    a category changes)."""
    return cached_setting(
        "triage.keyword_rules",
        lambda: tuple(
            (rule.category_id, tuple(rule.keyword_list), rule.weight)
            for rule in KeywordRule.objects.filter(is_active=True, category__is_active=True)
        ),
        models=(KeywordRule, Category),
    )


def _rules_guess(text: str) -> CategoryGuess:
    """Keyword rules: each category scores the weight of its keywords found in the text.
    Confidence grows with the winner's share of the hits and their number, capped below
    certainty."""
    lowered = (text or "").lower()
    scores: dict[int, float] = {}
    hits: dict[int, list[str]] = {}
    for category_id, keywords, weight in _keyword_rules():
        for keyword in keywords:
            if re.search(r"(?<!\w)" + re.escape(keyword) + r"(?!\w)", lowered):
                scores[category_id] = scores.get(category_id, 0.0) + weight
                hits.setdefault(category_id, []).append(keyword)
    if not scores:
        return CategoryGuess(None, 0.0, "none", [])
    total = sum(scores.values())
    # The winner's share of the hits, discounted while the evidence is thin: one keyword
    # alone is a coin toss (0.5), each further hit halves the doubt.
    support = 1 - 0.5**total
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    candidates: list[dict[str, Any]] = [
        {
            "category": category_id,
            "confidence": round(min(score / total * support, RULE_CONFIDENCE_CAP), 4),
            "keywords": hits[category_id],
        }
        for category_id, score in ranked[:3]
    ]
    best = candidates[0]
    return CategoryGuess(best["category"], best["confidence"], "rules", candidates)


def category_guess(text: str) -> CategoryGuess:
    """The live model's guess with its confidence; keyword rules while there is no model."""
    version = model_active(ModelVersion.Kind.CATEGORY)
    if version is None:
        return _rules_guess(text)
    try:
        model = model_load(version)
    except (OSError, EOFError, ValueError):
        logger.exception("category model v%s could not be loaded", version.version)
        return _rules_guess(text)
    try:
        prediction = category_model_predict(model, [text])[0]
    except EmbeddingsUnavailable:
        logger.exception("category model v%s needs the embeddings extra", version.version)
        return _rules_guess(text)
    candidates = [
        {"category": int(label), "confidence": round(confidence, 4)}
        for label, confidence in prediction.candidates
    ]
    return CategoryGuess(
        int(prediction.label), prediction.confidence, "model", candidates, model_version=version
    )
