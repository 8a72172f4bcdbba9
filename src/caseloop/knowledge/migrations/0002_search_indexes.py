"""Search structures that depend on the database: on PostgreSQL, GIN indexes over the
stored tsvectors and a pg_trgm index over the vocabulary; on SQLite, FTS5 tables."""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS knowledge_article_fts USING fts5("
    "title, tags, body, tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS knowledge_message_fts USING fts5("
    "text, case_id UNINDEXED, tokenize = 'porter unicode61 remove_diacritics 2')",
]
SQLITE_BACKWARD = [
    "DROP TABLE IF EXISTS knowledge_message_fts",
    "DROP TABLE IF EXISTS knowledge_article_fts",
]
POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS kb_article_search_gin ON knowledge_article "
    "USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS kb_message_document_gin ON knowledge_messagedocument "
    "USING gin (document)",
    "CREATE INDEX IF NOT EXISTS kb_term_word_trgm ON knowledge_term USING gin (word gin_trgm_ops)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS kb_term_word_trgm",
    "DROP INDEX IF EXISTS kb_message_document_gin",
    "DROP INDEX IF EXISTS kb_article_search_gin",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_knowledge_base")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]
