"""Error-severity findings hold a reply, the others advise (the help text says so); the
default `truthful` rule (guesses, hopes, exaggeration: false hope) is raised to error, as
blaming and refusing to help already are, unless an admin has changed its severity."""

from django.db import migrations, models


def truthful_holds(apps, schema_editor):
    apps.get_model("coach", "Guideline").objects.filter(
        rule_id="truthful", severity="warning"
    ).update(severity="error")


def truthful_advises(apps, schema_editor):
    apps.get_model("coach", "Guideline").objects.filter(
        rule_id="truthful", severity="error"
    ).update(severity="warning")


class Migration(migrations.Migration):
    dependencies = [("coach", "0002_default_guidelines")]

    operations = [
        migrations.AlterField(
            model_name="guideline",
            name="severity",
            field=models.CharField(
                choices=[("info", "Info"), ("warning", "Warning"), ("error", "Error")],
                default="warning",
                help_text="Error holds the reply until the agent revises it or sends it anyway; "
                "warning and info are advice shown with the reply, which goes.",
                max_length=10,
            ),
        ),
        migrations.RunPython(truthful_holds, truthful_advises),
    ]
