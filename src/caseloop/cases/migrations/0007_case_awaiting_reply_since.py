from django.db import migrations, models
from django.db.models import Exists, OuterRef, Q, Subquery

WAITING_STATUSES = ["new", "open", "pending_internal"]


def _flagged(key):
    # has_key first: comparing a missing key gives NULL, and NOT NULL would exclude the row.
    return Q(metadata__has_key=key) & Q(**{f"metadata__{key}": True})


def awaiting_backfill(apps, schema_editor):
    """Open cases wait since their earliest customer message no agent has replied after
    (automatic acknowledgements and out-of-office replies do not count)."""
    Case = apps.get_model("cases", "Case")
    Message = apps.get_model("cases", "Message")
    replied_after = (
        Message.objects.filter(
            case_id=OuterRef("case_id"), direction="outbound", created_at__gte=OuterRef("created_at")
        )
        .exclude(_flagged("system"))
    )
    unanswered = (
        Message.objects.filter(case_id=OuterRef("pk"), direction="inbound")
        .exclude(_flagged("auto_reply"))
        .exclude(Exists(replied_after))
        .order_by("created_at", "id")
        .values("created_at")[:1]
    )
    Case.objects.filter(status__in=WAITING_STATUSES).update(
        awaiting_reply_since=Subquery(unanswered)
    )


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0006_message_thread_key'),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='awaiting_reply_since',
            field=models.DateTimeField(blank=True, help_text="When the customer's oldest message still without an answer arrived; empty once an agent replies or the case no longer waits on the desk.", null=True),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['awaiting_reply_since', 'id'], name='case_awaiting_id'),
        ),
        migrations.RunPython(awaiting_backfill, migrations.RunPython.noop),
    ]
