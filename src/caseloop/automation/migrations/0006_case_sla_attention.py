from django.db import migrations, models
from django.utils import timezone

TARGETS = ("first_response", "next_reply", "resolution")


def attention_fill(apps, schema_editor):
    """The attention times of the stored clocks, as `services._attention` keeps them from
    now on, so cases already near or past a target are in the "near target" queue at once
    rather than at their next change."""
    CaseSla = apps.get_model("automation", "CaseSla")
    now = timezone.now()
    last = 0
    while batch := list(CaseSla.objects.filter(pk__gt=last).order_by("pk")[:500]):
        last = batch[-1].pk
        for sla in batch:
            sla.attention_at, sla.attention_due_at = _attention(sla, now)
        CaseSla.objects.bulk_update(batch, ["attention_at", "attention_due_at"])


def _attention(sla, now):
    marks = []
    for target in TARGETS:
        due = getattr(sla, f"{target}_due_at")
        running = (
            getattr(sla, f"{target}_started_at") is not None
            and getattr(sla, f"{target}_stopped_at") is None
            and getattr(sla, f"{target}_paused_at") is None
        )
        if not running or due is None:
            continue
        moments = [
            getattr(sla, f"{target}_{name}")
            for name in ("warn_at", "due_at", "warned_at", "breached_at")
        ]
        marks.append((min(m for m in moments if m is not None), due))
    if not marks:
        return None, None
    reached = [due for since, due in marks if since <= now]
    return min(marks)[0], min(reached) if reached else min(marks)[1]


class Migration(migrations.Migration):
    dependencies = [("automation", "0005_delete_response_target")]

    operations = [
        migrations.AddField(
            model_name="casesla",
            name="attention_at",
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
        migrations.AddField(
            model_name="casesla",
            name="attention_due_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(attention_fill, migrations.RunPython.noop),
    ]
