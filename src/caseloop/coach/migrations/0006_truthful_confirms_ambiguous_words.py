""""Never" and "always" are often simply true ("we never ask for your PIN"): the truthful
rule counts them only when the sentence's meaning leans towards a promise nobody can keep."""

from django.db import migrations

CONFIRM = [r"always", r"never", r"definitely", r"guarantee[ds]?", r"100 ?%"]


def confirm_by_meaning(apps, schema_editor):
    Guideline = apps.get_model("coach", "Guideline")
    for guideline in Guideline.objects.filter(rule_id="truthful"):
        guideline.params = {**(guideline.params or {}), "confirm": CONFIRM}
        guideline.save(update_fields=["params"])


def back(apps, schema_editor):
    Guideline = apps.get_model("coach", "Guideline")
    for guideline in Guideline.objects.filter(rule_id="truthful"):
        params = dict(guideline.params or {})
        params.pop("confirm", None)
        guideline.params = params
        guideline.save(update_fields=["params"])


class Migration(migrations.Migration):
    dependencies = [("coach", "0005_default_guideline_examples")]

    operations = [migrations.RunPython(confirm_by_meaning, back)]
