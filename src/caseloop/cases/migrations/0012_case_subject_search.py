"""A search of case subjects that reads an index instead of the table: on SQLite an FTS5
trigram table kept by triggers, on PostgreSQL a pg_trgm GIN index over the upper-cased
subject (what a case-insensitive LIKE compares)."""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS cases_case_subject_fts USING fts5("
    "subject, content='cases_case', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS cases_case_subject_fts_insert AFTER INSERT ON cases_case "
    "BEGIN INSERT INTO cases_case_subject_fts(rowid, subject) VALUES (new.id, new.subject); END",
    "CREATE TRIGGER IF NOT EXISTS cases_case_subject_fts_delete AFTER DELETE ON cases_case "
    "BEGIN INSERT INTO cases_case_subject_fts(cases_case_subject_fts, rowid, subject) "
    "VALUES ('delete', old.id, old.subject); END",
    "CREATE TRIGGER IF NOT EXISTS cases_case_subject_fts_update AFTER UPDATE OF subject "
    "ON cases_case BEGIN "
    "INSERT INTO cases_case_subject_fts(cases_case_subject_fts, rowid, subject) "
    "VALUES ('delete', old.id, old.subject); "
    "INSERT INTO cases_case_subject_fts(rowid, subject) VALUES (new.id, new.subject); END",
    "INSERT INTO cases_case_subject_fts(cases_case_subject_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS cases_case_subject_fts_update",
    "DROP TRIGGER IF EXISTS cases_case_subject_fts_delete",
    "DROP TRIGGER IF EXISTS cases_case_subject_fts_insert",
    "DROP TABLE IF EXISTS cases_case_subject_fts",
]
POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS cases_case_subject_trgm ON cases_case "
    "USING gin ((UPPER(subject::text)) gin_trgm_ops)",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS cases_case_subject_trgm"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_case_reference_generated")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]
