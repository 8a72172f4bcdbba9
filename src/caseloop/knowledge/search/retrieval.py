"""The stored meaning and history index: what it is built from, when it is out of date, and
the one loaded per process.

Built by a job (`tasks.retrieval_refresh`) whenever its signature, a few aggregates over
the articles and the desk's history, differs from the active model's. Until the next build a
changed article keeps its old vectors and a new one is found by full-text search alone;
what a search may show is always read from the database, never from the index.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max

from caseloop.cases.models import FINISHED_STATUSES, Case, Message

from ..models import Article, ArticleSource, Deflection, RetrievalModel, SuggestionFeedback
from .meaning import ENCODER_SENTENCES, ENCODER_WORDS, Example, RetrievalIndex, index_build

logger = logging.getLogger(__name__)

# Most recent questions kept per article: enough to learn from, bounded training time.
EXAMPLES_PER_ARTICLE = 200
CASE_TEXT_CHARS = 600
MODELS_KEPT = 2


def retrieval_encoder() -> str:
    """Sentence vectors when the embeddings extra is installed and not turned off."""
    from caseloop.lib.sentences import sentence_vectors_available

    mode = str(getattr(settings, "KNOWLEDGE_EMBEDDINGS", "auto")).strip().lower()
    if mode in ("off", "0", "false", "no", "words"):
        return ENCODER_WORDS
    return ENCODER_SENTENCES if sentence_vectors_available() else ENCODER_WORDS


def case_texts(*, case_ids: list[int]) -> dict[int, str]:
    """What each case asked: its subject and the start of its first inbound message, as
    suggestions search for it."""
    texts: dict[int, str] = {}
    for start in range(0, len(case_ids), 2000):
        chunk = case_ids[start : start + 2000]
        subjects = dict(Case.objects.filter(pk__in=chunk).values_list("id", "subject"))
        first: dict[int, str] = {}
        messages = (
            Message.objects.filter(case_id__in=chunk, direction=Message.Direction.INBOUND)
            .order_by("case_id", "created_at", "id")
            .values_list("case_id", "text")
        )
        for case_id, text in messages.iterator(chunk_size=2000):
            first.setdefault(case_id, text or "")
        for pk, subject in subjects.items():
            texts[pk] = f"{subject}\n{first.get(pk, '')[:CASE_TEXT_CHARS]}".strip()
    return texts


def _answered_feedback():
    return SuggestionFeedback.objects.filter(
        verdict=SuggestionFeedback.Verdict.USED,
        article__isnull=False,
        case__status__in=FINISHED_STATUSES,
    )


def examples_collect() -> list[Example]:
    """The questions each article answered: resolved cases an agent used it on, cases it
    was drafted from, and searches a customer said it answered."""
    pairs: list[tuple[int, int]] = list(
        _answered_feedback().order_by("-id").values_list("article_id", "case_id").distinct()
    )
    pairs += list(ArticleSource.objects.order_by("-id").values_list("article_id", "case_id"))
    texts = case_texts(case_ids=sorted({case_id for _, case_id in pairs}))
    kept: dict[int, list[str]] = {}
    seen: set[tuple[int, str]] = set()

    def keep(article_id: int, text: str) -> None:
        text = (text or "").strip()
        if not text or (article_id, text) in seen:
            return
        bucket = kept.setdefault(article_id, [])
        if len(bucket) < EXAMPLES_PER_ARTICLE:
            bucket.append(text)
            seen.add((article_id, text))

    for article_id, case_id in pairs:
        keep(article_id, texts.get(case_id, ""))
    for article_id, query in Deflection.objects.order_by("-id").values_list("article_id", "query"):
        keep(article_id, query)
    return [Example(article_id=pk, text=text) for pk, bucket in kept.items() for text in bucket]


def retrieval_signature() -> dict:
    """What an index is built from, in a few aggregates: any article written, added or
    removed, any new answered case or deflection changes it."""
    articles = Article.objects.aggregate(n=Count("id"), changed=Max("updated_at"))
    feedback = _answered_feedback().aggregate(n=Count("id"), last=Max("id"))
    sources = ArticleSource.objects.aggregate(n=Count("id"), last=Max("id"))
    deflections = Deflection.objects.aggregate(n=Count("id"), last=Max("id"))
    return {
        "encoder": retrieval_encoder(),
        "articles": [articles["n"], articles["changed"].isoformat() if articles["changed"] else ""],
        "feedback": [feedback["n"], feedback["last"]],
        "sources": [sources["n"], sources["last"]],
        "deflections": [deflections["n"], deflections["last"]],
    }


_cache: dict[str, RetrievalIndex] = {}
_cache_lock = threading.Lock()


def _load(model: RetrievalModel) -> RetrievalIndex | None:
    key = f"{Path(settings.DATA_DIR) / model.path}@{model.built_at.isoformat()}"
    with _cache_lock:
        index = _cache.get(key)
        if index is None:
            import joblib

            try:
                index = joblib.load(Path(settings.DATA_DIR) / model.path)
            except (OSError, EOFError, ValueError):
                logger.warning("knowledge retrieval model %s unreadable", model.path)
                return None
            _cache.clear()  # only the live index stays in memory
            _cache[key] = index
        return index


def retrieval_index_active() -> RetrievalIndex | None:
    """The newest built index, loaded once per process; None before the first build."""
    model = RetrievalModel.objects.order_by("-version").first()
    return _load(model) if model is not None else None


def retrieval_rebuild(*, force: bool = False) -> RetrievalModel | None:
    """Build a new index when the articles or the history changed since the active one
    (always with `force`). Returns the model built, or None when nothing changed.
    Side effects: a file under the data directory; older ones removed."""
    import joblib

    signature = retrieval_signature()
    active = RetrievalModel.objects.order_by("-version").first()
    if not force and active is not None and active.signature == signature:
        return None
    articles = [
        (pk, title, body)
        for pk, title, body in Article.objects.order_by("id").values_list(
            "id", "title", "body_text"
        )
    ]
    examples = examples_collect()
    previous = _load(active) if active is not None else None
    index = index_build(
        articles=articles,
        examples=examples,
        encoder=signature["encoder"],
        previous=previous,
    )
    directory = Path(settings.DATA_DIR) / "models"
    directory.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        last = (
            RetrievalModel.objects.select_for_update()
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        number = (last or 0) + 1
        relative = f"models/knowledge-v{number}.joblib"
        joblib.dump(index, Path(settings.DATA_DIR) / relative)
        model = RetrievalModel.objects.create(
            version=number,
            encoder=index.encoder,
            n_articles=index.n_articles,
            n_examples=index.n_examples,
            signature=signature,
            path=relative,
        )
        old = list(RetrievalModel.objects.filter(version__lte=number - MODELS_KEPT))
        for stale in old:
            (Path(settings.DATA_DIR) / stale.path).unlink(missing_ok=True)
        RetrievalModel.objects.filter(pk__in=[stale.pk for stale in old]).delete()
    return model
