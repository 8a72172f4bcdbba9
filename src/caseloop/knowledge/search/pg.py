"""PostgreSQL backend: stored, weighted tsvectors (title A, tags B, body C) with GIN
indexes, ts_rank ranking and ts_headline snippets."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, QuerySet

from caseloop.cases.models import FINISHED_STATUSES, Message

from ..models import Article, MessageDocument
from .hits import Hit, MessageHit
from .text import START, STOP, snippet_safe

# Text-search configurations for the languages articles are written in; others: 'simple'.
CONFIGS = {
    "da": "danish",
    "de": "german",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "it": "italian",
    "nl": "dutch",
    "no": "norwegian",
    "pt": "portuguese",
    "ru": "russian",
    "sv": "swedish",
}
MESSAGE_CONFIG = "english"
# Message search ranks the most recent matches of the query, at most this many.
RECENT_MATCHES = 5000
# Finding cases by their messages: a query matching fewer messages than this reads them all
# from the index; one matching more walks the newest messages, at most this many.
ALL_MATCHES = 2000
RECENT_WINDOW = 200_000
# ts_rank weights for D, C, B, A: body (C) and tags (B) count alike, the title (A) most.
ARTICLE_WEIGHTS = [0.1, 0.5, 0.5, 1.0]
HEADLINE: dict[str, Any] = {
    "start_sel": START,
    "stop_sel": STOP,
    "max_words": 30,
    "min_words": 12,
    "max_fragments": 2,
    "fragment_delimiter": " … ",
}


def config_for(language: str) -> str:
    return CONFIGS.get((language or "en").split("-")[0].lower(), "simple")


def _tsquery(terms: list[str], *, operator: str, prefix: bool = False) -> str:
    # Terms are letters and digits only; quoting keeps tsquery syntax out of them.
    quoted = [f"'{term}'" for term in terms]
    if prefix and quoted:
        quoted[-1] += ":*"
    return f" {operator} ".join(quoted)


def articles_match(
    *,
    terms: list[str],
    candidates: QuerySet[Article],
    language: str,
    limit: int,
    prefix: bool,
    snippets: bool = True,
):
    config = config_for(language)
    query = SearchQuery(
        _tsquery(terms, operator="|", prefix=prefix), search_type="raw", config=config
    )
    rows = list(
        candidates.filter(search_vector=query)
        .annotate(
            score=SearchRank(F("search_vector"), query, weights=ARTICLE_WEIGHTS, normalization=1)
        )
        .order_by("-score", "id")
        .values_list("id", "score", "title", "kind", "category_id", "audience")[:limit]
    )
    if not rows:
        return []
    headlines = (
        articles_snippets(
            terms=terms, language=language, ids=[row[0] for row in rows], prefix=prefix
        )
        if snippets
        else {}
    )
    return [
        Hit(
            article_id=row[0],
            score=float(row[1]),
            title=row[2],
            snippet_html=headlines.get(row[0], ""),
            kind=row[3],
            category_id=row[4],
            audience=row[5],
        )
        for row in rows
    ]


def articles_snippets(
    *, terms: list[str], language: str, ids: list[int], prefix: bool
) -> dict[int, str]:
    """Highlighted body snippets of the articles `ids` (headlines are costly: only for the
    rows shown)."""
    if not ids:
        return {}
    config = config_for(language)
    query = SearchQuery(
        _tsquery(terms, operator="|", prefix=prefix), search_type="raw", config=config
    )
    rows = (
        Article.objects.filter(pk__in=ids, search_vector=query)
        .annotate(headline=SearchHeadline("body_text", query, config=config, **HEADLINE))
        .values_list("id", "headline")
    )
    return {pk: snippet_safe(headline) for pk, headline in rows}


def article_index(*, article_ids: list[int]) -> None:
    if not article_ids:
        return
    through = Article.tags.through._meta.db_table
    cases = " ".join(f"WHEN '{code}' THEN '{name}'" for code, name in CONFIGS.items())
    config = f"(CASE split_part(lower(a.language), '-', 1) {cases} ELSE 'simple' END)::regconfig"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE knowledge_article a SET search_vector = "
            f"setweight(to_tsvector({config}, coalesce(a.title, '')), 'A') || "
            f"setweight(to_tsvector({config}, coalesce((SELECT string_agg(t.name, ' ') "
            f"FROM {through} at JOIN cases_tag t ON t.id = at.tag_id "
            f"WHERE at.article_id = a.id), '')), 'B') || "
            f"setweight(to_tsvector({config}, coalesce(a.body_text, '')), 'C') "
            f"WHERE a.id = ANY(%s)",
            [list(article_ids)],
        )


def messages_match(
    *,
    terms: list[str],
    require_all: bool,
    limit: int,
    solved_only: bool,
    exclude_case_id: int | None,
):
    query = SearchQuery(
        _tsquery(terms, operator="&" if require_all else "|"),
        search_type="raw",
        config=MESSAGE_CONFIG,
    )
    documents = MessageDocument.objects.filter(document=query)
    if solved_only:
        documents = documents.filter(case__status__in=FINISHED_STATUSES)
    if exclude_case_id is not None:
        documents = documents.exclude(case_id=exclude_case_id)
    # Rank only the most recent matches: a common word can match a large share of all
    # messages, and ts_rank over every one of them is what makes such searches slow.
    cutoff = list(
        documents.order_by("-message_id").values_list("message_id", flat=True)[
            RECENT_MATCHES - 1 : RECENT_MATCHES
        ]
    )
    if cutoff:
        documents = documents.filter(message_id__gte=cutoff[0])
    ranked = list(
        documents.annotate(score=SearchRank(F("document"), query, normalization=1))
        .order_by("-score", "-message_id")
        .values_list("message_id", "score")[:limit]
    )
    if not ranked:
        return []
    messages = {
        message.pk: message
        for message in Message.objects.filter(pk__in=[row[0] for row in ranked])
        .select_related("case")
        .annotate(headline=SearchHeadline("text", query, config=MESSAGE_CONFIG, **HEADLINE))
    }
    hits = []
    for message_id, score in ranked:
        message = messages.get(message_id)
        if message is None:
            continue
        hits.append(
            MessageHit(
                message_id=message_id,
                case_id=message.case_id,
                score=float(score),
                snippet_html=snippet_safe(message.headline),
                case_reference=message.case.reference or "",
                case_subject=message.case.subject,
                case_status=message.case.status,
                direction=message.direction,
                created_at=message.created_at,
            )
        )
    return hits


def messages_case_ids(*, terms: list[str], limit: int) -> list[int]:
    """The cases of the newest `limit` messages holding every term, in bounded work
    whatever the words' frequency (the planner's estimate for several words that go
    together, such as "exchange rate", can be a hundredfold too low):
    first the index, stopping at `ALL_MATCHES` messages: fewer means these are all the
    matches, so the newest are picked from them; as many means the words are common, and
    the newest `RECENT_WINDOW` messages are walked instead, where they are found soon."""
    query = SearchQuery(_tsquery(terms, operator="&"), search_type="raw", config=MESSAGE_CONFIG)
    matches = list(
        MessageDocument.objects.filter(document=query)
        .order_by()
        .values_list("message_id", "case_id")[:ALL_MATCHES]
    )
    if len(matches) < ALL_MATCHES:
        return [case_id for _, case_id in sorted(matches, reverse=True)[:limit]]
    table = MessageDocument._meta.db_table
    with connection.cursor() as cursor:
        # The window streams newest first and the scan stops at `limit` matches.
        cursor.execute(
            f"SELECT case_id FROM (SELECT case_id, document FROM {table} "
            f"ORDER BY message_id DESC LIMIT %s) AS recent "
            f"WHERE document @@ to_tsquery('{MESSAGE_CONFIG}', %s) LIMIT %s",
            [RECENT_WINDOW, _tsquery(terms, operator="&"), limit],
        )
        return [row[0] for row in cursor.fetchall()]


def _messages_insert(cursor, where: str, params: list, *, replace: bool) -> int:
    conflict = (
        "DO UPDATE SET document = EXCLUDED.document, case_id = EXCLUDED.case_id"
        if replace
        else "DO NOTHING"
    )
    cursor.execute(
        f"INSERT INTO {MessageDocument._meta.db_table} (message_id, case_id, document) "
        f"SELECT m.id, m.case_id, to_tsvector('{MESSAGE_CONFIG}', m.text) "
        f"FROM {Message._meta.db_table} m WHERE {where} ON CONFLICT (message_id) {conflict}",
        params,
    )
    return max(cursor.rowcount, 0)


def messages_index(*, message_ids: list[int]) -> None:
    if not message_ids:
        return
    with connection.cursor() as cursor:
        _messages_insert(cursor, "m.id = ANY(%s)", [list(message_ids)], replace=True)


def messages_backfill(*, batch: int, rebuild: bool) -> int:
    total = 0
    with connection.cursor() as cursor:
        if rebuild:
            cursor.execute(f"DELETE FROM {MessageDocument._meta.db_table}")
        cursor.execute(
            f"SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM {Message._meta.db_table}"
        )
        low, high = cursor.fetchone()
        start = low - 1
        while start < high:
            total += _messages_insert(
                cursor, "m.id > %s AND m.id <= %s", [start, start + batch], replace=False
            )
            start += batch
    return total
