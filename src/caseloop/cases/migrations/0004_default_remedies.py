"""A starting remedy catalogue and authority matrix, edited in the admin afterwards:
tier-1 agents refund or credit up to 50.00, tier-2 up to 500.00, managers without limit;
replacements and repairs for any agent; exceptions to policy for managers."""

from decimal import Decimal

from django.db import migrations

REMEDIES = [
    ("Refund", "refund", True),
    ("Replacement", "replacement", False),
    ("Store credit", "credit", True),
    ("Repair", "repair", False),
    ("Exception to policy", "exception", False),
]

RULES = [
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


def seed(apps, schema_editor):
    RemedyType = apps.get_model("cases", "RemedyType")
    AuthorityRule = apps.get_model("cases", "AuthorityRule")
    remedies = {}
    for name, slug, monetary in REMEDIES:
        remedies[slug], _ = RemedyType.objects.get_or_create(
            slug=slug, defaults={"name": name, "is_monetary": monetary}
        )
    for slug, role, tier, limit in RULES:
        AuthorityRule.objects.get_or_create(
            remedy=remedies[slug],
            role=role,
            min_tier=tier,
            limit_amount=Decimal(limit) if limit else None,
            defaults={"currency": "USD"},
        )


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_loop_stages")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
