"""Authority limits are in the desk's currency (CASELOOP_CURRENCY). The starting matrix
(0004) was seeded in USD, a currency no desk chose: its rules, where nobody has changed
them, move to the desk's currency. Rules an admin wrote stay as they are."""

from decimal import Decimal

from django.conf import settings
from django.db import migrations, models

import caseloop.lib.money

# The rules 0004 seeded: (remedy slug, role, min tier, limit).
SEEDED = [
    ("refund", "agent", 1, "50.00"),
    ("refund", "agent", 2, "500.00"),
    ("refund", "manager", 1, None),
    ("credit", "agent", 1, "50.00"),
    ("credit", "agent", 2, "500.00"),
    ("credit", "manager", 1, None),
    ("replacement", "", 1, None),
    ("repair", "", 1, None),
    ("exception", "manager", 1, None),
]


def seeded_rules_to_desk_currency(apps, schema_editor):
    currency = settings.DESK_CURRENCY
    if currency == "USD":
        return
    AuthorityRule = apps.get_model("cases", "AuthorityRule")
    for slug, role, tier, limit in SEEDED:
        AuthorityRule.objects.filter(
            remedy__slug=slug,
            role=role,
            min_tier=tier,
            limit_amount=Decimal(limit) if limit else None,
            currency="USD",
            requires_category_skill=False,
        ).update(currency=currency)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_outbox"),
    ]

    operations = [
        migrations.AlterField(
            model_name="authorityrule",
            name="currency",
            field=models.CharField(default=caseloop.lib.money.desk_currency, max_length=3),
        ),
        migrations.RunPython(seeded_rules_to_desk_currency, migrations.RunPython.noop),
    ]
