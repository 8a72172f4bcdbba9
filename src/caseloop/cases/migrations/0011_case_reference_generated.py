from django.db import migrations, models
from django.db.models.expressions import RawSQL

REFERENCE_SQL = (
    "CASE WHEN id < 1000000"
    " THEN 'CL-' || substr('00000' || CAST(id AS text), length('00000' || CAST(id AS text)) - 5)"
    " ELSE 'CL-' || CAST(id AS text) END"
)


class Migration(migrations.Migration):
    """The reference becomes a column the database writes from the id (the same text as
    before: "CL-" and the id, six digits at least)."""

    dependencies = [
        ("cases", "0010_escalation_waiting_index"),
    ]

    operations = [
        migrations.RemoveField(model_name="case", name="reference"),
        migrations.AddField(
            model_name="case",
            name="reference",
            field=models.GeneratedField(
                db_persist=True,
                expression=RawSQL(REFERENCE_SQL, ()),
                output_field=models.CharField(max_length=20),
                unique=True,
            ),
        ),
    ]
