"""One search interface for the knowledge base and past case messages.

PostgreSQL: full-text search over stored, weighted tsvectors with GIN indexes, ranked with
ts_rank and highlighted with ts_headline. SQLite: FTS5 tables ranked with bm25 and
highlighted with snippet(). Both: OR-queries of the meaningful words (ranking rewards
documents matching more and rarer words, titles above bodies), a typo-tolerant retry when
nothing matches, and snippets that are escaped text with only <mark> tags.

Articles are ranked by fusing three rankers (reciprocal-rank fusion): that full-text search,
meaning (article vectors) and the desk's history (the questions each article answered
before); see `meaning` and `retrieval`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Substr
from django.utils.html import escape

from ..models import Article, Audience, State, Term
from . import lite, pg, text
from .hits import Hit, MessageHit
from .meaning import one_thread
from .retrieval import retrieval_index_active, retrieval_rebuild
from .typo import query_correct, terms_correct

AudienceName = Literal["public", "agent"]

# Reciprocal-rank fusion: an article scores the sum over rankers of weight / (K + rank).
# The desk's history counts most: an article that answered questions like this one before
# is the surest sign; meaning and words then break ties and find what history has not seen.
FUSION_K = 20
FUSION_WEIGHTS = {"text": 1.0, "meaning": 1.0, "history": 2.0}
# How deep each ranker looks before fusing.
RANKER_DEPTH = 50
SNIPPET_CHARS = 200


@dataclass(frozen=True)
class ArticleFilters:
    category: int | None = None
    kind: str = ""
    language: str = ""
    tags: tuple[str, ...] = ()
    audience: str = ""  # narrows an agent's search to internal or public articles
    states: tuple[str, ...] = (State.PUBLISHED,)  # agents only; the public sees published


def _backend():
    return pg if connection.vendor == "postgresql" else lite


def articles_searchable(*, audience: AudienceName, filters: ArticleFilters) -> QuerySet[Article]:
    """The articles a search may return. The public only ever sees published public ones,
    whatever the filters say."""
    articles = Article.objects.all()
    if audience == "public":
        articles = articles.filter(state=State.PUBLISHED, audience=Audience.PUBLIC)
    else:
        articles = articles.filter(state__in=filters.states or (State.PUBLISHED,))
        if filters.audience in Audience.values:
            articles = articles.filter(audience=filters.audience)
    if filters.category:
        articles = articles.filter(category_id=filters.category)
    if filters.kind:
        articles = articles.filter(kind=filters.kind)
    if filters.language:
        articles = articles.filter(language=filters.language)
    for tag in filters.tags:
        articles = articles.filter(tags__name=tag.strip().lower())
    return articles.order_by()


def search_articles(
    query: str,
    *,
    audience: AudienceName,
    filters: ArticleFilters | None = None,
    limit: int = 10,
    prefix: bool = False,
    typo_fallback: bool = True,
) -> list[Hit]:
    """Articles for `query`, best first: full-text hits fused with the meaning and history
    rankers once their index is built. `prefix` treats the last word as a prefix (search as
    you type). When no word matches, misspelt words are corrected to the knowledge base's
    vocabulary and the full-text search runs once more; those hits carry the corrected
    query."""
    if audience not in ("public", "agent"):
        raise ValueError(f"unknown audience '{audience}'")
    filters = filters or ArticleFilters()
    terms = text.query_terms(query)
    if not terms:
        return []
    limit = max(1, min(limit, 100))
    candidates = articles_searchable(audience=audience, filters=filters)
    depth = max(limit, RANKER_DEPTH)
    backend = _backend()
    matched = backend.articles_match(
        terms=terms,
        candidates=candidates,
        language=filters.language,
        limit=depth,
        prefix=prefix,
        snippets=False,
    )
    corrected: list[str] = []
    if not matched and typo_fallback:
        corrected = _terms_corrected(terms=terms, candidates=candidates)
        if corrected:
            matched = backend.articles_match(
                terms=corrected,
                candidates=candidates,
                language=filters.language,
                limit=depth,
                prefix=False,
                snippets=False,
            )
    hits = _fused(query=query, text_hits=matched, candidates=candidates, depth=depth)[:limit]
    # Snippets only for what is shown: highlighting costs more than ranking.
    snippets = backend.articles_snippets(
        terms=corrected or terms,
        language=filters.language,
        ids=[hit.article_id for hit in hits],
        prefix=prefix and not corrected,
    )
    shown = " ".join(corrected) if matched else ""
    return [
        Hit(
            **{
                **hit.__dict__,
                "snippet_html": snippets.get(hit.article_id) or hit.snippet_html,
                "corrected_query": shown,
            }
        )
        for hit in hits
    ]


def _terms_corrected(*, terms: list[str], candidates: QuerySet[Article]) -> list[str]:
    """`terms` with misspelt words corrected, or [] when nothing needed correcting."""
    corrected = query_correct(terms)
    if corrected is None:
        return []
    # Keep only corrections to words the searchable articles contain: the vocabulary spans
    # every article, and a correction must not reveal words of internal or draft ones.
    corrected = [
        new
        if new == old
        or candidates.filter(Q(title__icontains=new) | Q(body_text__icontains=new)).exists()
        else old
        for old, new in zip(terms, corrected, strict=True)
    ]
    return [] if corrected == terms else corrected


def rankings_fuse(rankings: dict[str, list[int]]) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion of ranked article ids, best first (ties by id)."""
    scores: dict[int, float] = {}
    for ranker, ids in rankings.items():
        weight = FUSION_WEIGHTS[ranker]
        if not weight:
            continue
        for rank, article_id in enumerate(ids, 1):
            scores[article_id] = scores.get(article_id, 0.0) + weight / (FUSION_K + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def _fused(
    *, query: str, text_hits: list[Hit], candidates: QuerySet[Article], depth: int
) -> list[Hit]:
    """The full-text hits fused with the meaning and history rankers, best first. Articles
    those find that full text did not are read from `candidates`, so the index never widens
    what a search may show."""
    index = retrieval_index_active()
    if index is None:
        return text_hits
    with one_thread():
        encoded = index.query_encode(query)
        learned = {
            "meaning": [pk for pk, _ in index.meaning_ranked(encoded, limit=depth)]
            if FUSION_WEIGHTS["meaning"]
            else [],
            "history": [pk for pk, _ in index.history_ranked(encoded, limit=depth)]
            if FUSION_WEIGHTS["history"]
            else [],
        }
    by_id = {hit.article_id: hit for hit in text_hits}
    unseen = {pk for ids in learned.values() for pk in ids} - by_id.keys()
    if unseen:
        rows = (
            candidates.filter(pk__in=unseen)
            .annotate(start=Substr("body_text", 1, SNIPPET_CHARS))
            .values_list("id", "title", "kind", "category_id", "audience", "start")
        )
        for pk, title, kind, category_id, audience, start in rows:
            by_id[pk] = Hit(
                article_id=pk,
                score=0.0,
                title=title,
                snippet_html=escape(start) + ("…" if len(start) >= SNIPPET_CHARS else ""),
                kind=kind,
                category_id=category_id,
                audience=audience,
            )
    rankings = {"text": [hit.article_id for hit in text_hits]}
    rankings.update({name: [pk for pk in ids if pk in by_id] for name, ids in learned.items()})
    return [
        Hit(**{**by_id[pk].__dict__, "score": round(score, 6)})
        for pk, score in rankings_fuse(rankings)
    ]


def search_messages(
    query: str,
    *,
    user,
    limit: int = 20,
    solved_only: bool = False,
    exclude_case_id: int | None = None,
) -> list[MessageHit]:
    """Past case messages matching `query`, best first: all the words when some message
    has them all, otherwise any of them. Agents only (messages include internal notes)."""
    if user is None or not getattr(user, "is_agent_like", False):
        raise PermissionDenied("message search is for agents")
    terms = text.query_terms(query)
    if not terms:
        return []
    limit = max(1, min(limit, 100))
    backend = _backend()
    for require_all in (True, False):
        hits = backend.messages_match(
            terms=terms,
            require_all=require_all,
            limit=limit,
            solved_only=solved_only,
            exclude_case_id=exclude_case_id,
        )
        if hits or len(terms) == 1:
            return hits
    return []


def message_case_ids(query: str, *, limit: int = 100) -> list[int]:
    """Cases with a message holding every word of `query`, those of the newest `limit`
    such messages (at most 1,000), newest first. Read from the index alone, nothing ranked,
    so a word in half the messages costs no more than a rare one. For callers that have
    already scoped what the asker may see, such as the case search."""
    terms = text.query_terms(query)
    if not terms:
        return []
    case_ids = _backend().messages_case_ids(terms=terms, limit=max(1, min(limit, 1000)))
    return list(dict.fromkeys(case_ids))


def query_respelled(query: str) -> str | None:
    """`query` with each misspelt word replaced by the closest word of the knowledge base's
    vocabulary and the rest kept as typed, or None when nothing needed correcting. For
    searches outside the knowledge base, such as the agent's inbox."""
    corrections = terms_correct(text.query_terms(query))
    if not corrections:
        return None

    def respell(match: re.Match) -> str:
        typed = match.group(0)
        word = corrections.get(typed.lower())
        if word is None:
            return typed
        if typed.isupper() and len(typed) > 1:
            return word.upper()
        return word.capitalize() if typed[0].isupper() else word

    return re.sub(r"\w+", respell, query)


def article_index(*, article_id: int) -> None:
    """Bring the article's search entry and the vocabulary up to date. Call inside the
    transaction that changed it."""
    _backend().article_index(article_ids=[article_id])
    article = Article.objects.filter(pk=article_id).only("title", "body_text").first()
    if article is not None:
        terms_learn(texts=[article.title, article.body_text])


def articles_reindex(*, article_ids: list[int] | None = None) -> int:
    """Rebuild search entries (all articles when `article_ids` is None). Returns how many."""
    ids = article_ids
    if ids is None:
        ids = list(Article.objects.values_list("id", flat=True))
    backend = _backend()
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        backend.article_index(article_ids=chunk)
        rows = Article.objects.filter(pk__in=chunk).values_list("title", "body_text")
        terms_learn(texts=[value for row in rows for value in row])
    return len(ids)


def terms_learn(*, texts: list[str]) -> None:
    vocabulary: set[str] = set()
    for value in texts:
        vocabulary |= text.words(value)
    Term.objects.bulk_create(
        [Term(word=word) for word in sorted(vocabulary)], ignore_conflicts=True, batch_size=2000
    )


def message_index(*, message_id: int) -> None:
    """Index one case message (run after it committed, from the message hook)."""
    _backend().messages_index(message_ids=[message_id])


def messages_backfill(*, batch: int = 20000, rebuild: bool = False) -> int:
    """Index every case message not indexed yet (all of them with `rebuild`). Returns how
    many were indexed."""
    return _backend().messages_backfill(batch=batch, rebuild=rebuild)


__all__ = [
    "ArticleFilters",
    "Hit",
    "MessageHit",
    "article_index",
    "articles_reindex",
    "articles_searchable",
    "message_index",
    "messages_backfill",
    "rankings_fuse",
    "retrieval_index_active",
    "retrieval_rebuild",
    "search_articles",
    "search_messages",
]
