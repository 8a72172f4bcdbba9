"""On PostgreSQL, the database itself refuses to update or delete case events."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION caseloop_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'case events are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS caseevent_append_only ON cases_caseevent;
CREATE TRIGGER caseevent_append_only BEFORE UPDATE OR DELETE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION caseloop_caseevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS caseevent_append_only ON cases_caseevent;
DROP FUNCTION IF EXISTS caseloop_caseevent_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(create_trigger, drop_trigger)]
