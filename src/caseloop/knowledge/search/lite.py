"""SQLite backend: FTS5 tables (created by a migration that runs only on SQLite), bm25
ranking with the title weighted above tags and body, snippet() highlights."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from caseloop.cases.models import FINISHED_STATUSES, Case, Message

from ..models import Article
from .hits import Hit, MessageHit
from .text import START, STOP, snippet_safe

ARTICLE_FTS = "knowledge_article_fts"
MESSAGE_FTS = "knowledge_message_fts"
# bm25 column weights: title, tags, body.
ARTICLE_WEIGHTS = "3.0, 2.0, 1.0"
# Message search ranks the most recent matches of the query, at most this many.
RECENT_MATCHES = 5000


def _match_expression(terms: list[str], *, operator: str, prefix: bool = False) -> str:
    # Terms are letters and digits only, so quoting them is enough to keep FTS5 syntax out.
    quoted = [f'"{term}"' for term in terms]
    if prefix and quoted:
        quoted[-1] += "*"
    return f" {operator} ".join(quoted)


def _placeholders(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def _snippets(table: str, column: int, match: str, ids: list[int], tokens: int) -> dict:
    """snippet() for the rows shown only: SQLite would compute it for every match otherwise."""
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid, snippet({table}, {column}, %s, %s, '…', {tokens}) FROM {table} "
            f"WHERE {table} MATCH %s AND rowid IN ({_placeholders(ids)})",
            [START, STOP, match, *ids],
        )
        return dict(cursor.fetchall())


def articles_match(
    *,
    terms: list[str],
    candidates: QuerySet[Article],
    language: str,
    limit: int,
    prefix: bool,
    snippets: bool = True,
):
    allowed_sql, allowed_params = candidates.values("id").query.sql_with_params()
    match = _match_expression(terms, operator="OR", prefix=prefix)
    sql = (
        f"SELECT a.id, -bm25({ARTICLE_FTS}, {ARTICLE_WEIGHTS}) AS score, a.title, "
        f"a.kind, a.category_id, a.audience "
        f"FROM {ARTICLE_FTS} JOIN knowledge_article a ON a.id = {ARTICLE_FTS}.rowid "
        f"WHERE {ARTICLE_FTS} MATCH %s AND a.id IN ({allowed_sql}) "
        f"ORDER BY bm25({ARTICLE_FTS}, {ARTICLE_WEIGHTS}), a.id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [match, *allowed_params, limit])
        rows = cursor.fetchall()
    shown = (
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
            snippet_html=shown.get(row[0], ""),
            kind=row[3],
            category_id=row[4],
            audience=row[5],
        )
        for row in rows
    ]


def articles_snippets(
    *, terms: list[str], language: str, ids: list[int], prefix: bool
) -> dict[int, str]:
    """Highlighted body snippets of the articles `ids` that match `terms`."""
    match = _match_expression(terms, operator="OR", prefix=prefix)
    raw = _snippets(ARTICLE_FTS, 2, match, ids, 24)
    return {pk: snippet_safe(value) for pk, value in raw.items()}


def article_index(*, article_ids: list[int]) -> None:
    if not article_ids:
        return
    through = Article.tags.through._meta.db_table
    marks = _placeholders(article_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ARTICLE_FTS} WHERE rowid IN ({marks})", article_ids)
        cursor.execute(
            f"INSERT INTO {ARTICLE_FTS} (rowid, title, tags, body) "
            f"SELECT a.id, a.title, coalesce(group_concat(t.name, ' '), ''), a.body_text "
            f"FROM knowledge_article a LEFT JOIN {through} at ON at.article_id = a.id "
            f"LEFT JOIN cases_tag t ON t.id = at.tag_id WHERE a.id IN ({marks}) GROUP BY a.id",
            article_ids,
        )


def messages_match(
    *,
    terms: list[str],
    require_all: bool,
    limit: int,
    solved_only: bool,
    exclude_case_id: int | None,
):
    match = _match_expression(terms, operator="AND" if require_all else "OR")
    where = [f"{MESSAGE_FTS} MATCH %s"]
    params: list = [match]
    if solved_only:
        where.append("c.status IN (%s, %s)")
        params += FINISHED_STATUSES
    if exclude_case_id is not None:
        where.append("c.id <> %s")
        params.append(exclude_case_id)
    # Rank only the most recent matches: a common word can match a large share of all
    # messages, and bm25 over every one of them is what makes such searches slow.
    where.append(
        f"{MESSAGE_FTS}.rowid >= coalesce((SELECT min(r) FROM (SELECT rowid AS r "
        f"FROM {MESSAGE_FTS} WHERE {MESSAGE_FTS} MATCH %s ORDER BY rowid DESC LIMIT %s)), 0)"
    )
    params += [match, RECENT_MATCHES]
    sql = (
        f"SELECT m.id, m.case_id, -bm25({MESSAGE_FTS}) AS score, c.reference, c.subject, "
        f"c.status, m.direction, m.created_at "
        f"FROM {MESSAGE_FTS} JOIN {Message._meta.db_table} m ON m.id = {MESSAGE_FTS}.rowid "
        f"JOIN {Case._meta.db_table} c ON c.id = m.case_id "
        f"WHERE {' AND '.join(where)} ORDER BY bm25({MESSAGE_FTS}), m.id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        rows = cursor.fetchall()
    snippets = _snippets(MESSAGE_FTS, 0, match, [row[0] for row in rows], 20)
    return [
        MessageHit(
            message_id=row[0],
            case_id=row[1],
            score=float(row[2]),
            snippet_html=snippet_safe(snippets.get(row[0], "")),
            case_reference=row[3] or "",
            case_subject=row[4],
            case_status=row[5],
            direction=row[6],
            created_at=row[7],
        )
        for row in rows
    ]


def messages_case_ids(*, terms: list[str], limit: int) -> list[int]:
    """The cases of the newest `limit` messages holding every term: FTS5 walks its index
    in descending rowid (message id) order and stops there."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT case_id FROM {MESSAGE_FTS} WHERE {MESSAGE_FTS} MATCH %s "
            f"ORDER BY rowid DESC LIMIT %s",
            [_match_expression(terms, operator="AND"), limit],
        )
        return [int(row[0]) for row in cursor.fetchall()]


def messages_index(*, message_ids: list[int]) -> None:
    if not message_ids:
        return
    marks = _placeholders(message_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {MESSAGE_FTS} WHERE rowid IN ({marks})", message_ids)
        cursor.execute(
            f"INSERT INTO {MESSAGE_FTS} (rowid, text, case_id) "
            f"SELECT id, text, case_id FROM {Message._meta.db_table} WHERE id IN ({marks})",
            message_ids,
        )


def messages_backfill(*, batch: int, rebuild: bool) -> int:
    table = Message._meta.db_table
    total = 0
    with connection.cursor() as cursor:
        if rebuild:
            cursor.execute(f"DELETE FROM {MESSAGE_FTS}")
        last = 0
        while True:
            cursor.execute(
                f"SELECT id FROM {table} WHERE id > %s ORDER BY id LIMIT 1 OFFSET %s",
                [last, batch - 1],
            )
            row = cursor.fetchone()
            upper = row[0] if row else None
            bound = "AND m.id <= %s" if upper is not None else ""
            cursor.execute(
                f"INSERT INTO {MESSAGE_FTS} (rowid, text, case_id) "
                f"SELECT m.id, m.text, m.case_id FROM {table} m WHERE m.id > %s {bound} "
                f"AND NOT EXISTS (SELECT 1 FROM {MESSAGE_FTS} f WHERE f.rowid = m.id)",
                [last, upper] if upper is not None else [last],
            )
            total += max(cursor.rowcount, 0)
            if upper is None:
                return total
            last = upper
