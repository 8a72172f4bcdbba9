from django.db import migrations

LABELS = {"low": "Low", "normal": "Normal", "high": "High", "urgent": "Urgent"}
POSITIONS = {"urgent": 10, "high": 20, "normal": 30, "low": 40}


def targets_to_policies(apps, schema_editor):
    """Each first-response target becomes a policy for its priority, with the same minutes,
    warning share and schedule, so the desk keeps the targets it had."""
    ResponseTarget = apps.get_model("automation", "ResponseTarget")
    SlaPolicy = apps.get_model("automation", "SlaPolicy")
    for target in ResponseTarget.objects.all():
        SlaPolicy.objects.get_or_create(
            name=f"{LABELS.get(target.priority, target.priority)} priority",
            defaults={
                "priority": target.priority,
                "position": POSITIONS.get(target.priority, 100),
                "first_response_minutes": target.first_response_minutes,
                "warn_percent": min(max(target.near_percent, 1), 99),
                "business_hours_id": target.business_hours_id,
            },
        )


def policies_to_targets(apps, schema_editor):
    ResponseTarget = apps.get_model("automation", "ResponseTarget")
    SlaPolicy = apps.get_model("automation", "SlaPolicy")
    policies = SlaPolicy.objects.filter(
        organization__isnull=True, service_level="", is_active=True
    ).exclude(priority="")
    for policy in policies.order_by("position", "id"):
        ResponseTarget.objects.get_or_create(
            priority=policy.priority,
            defaults={
                "first_response_minutes": policy.first_response_minutes,
                "near_percent": policy.warn_percent,
                "business_hours_id": policy.business_hours_id,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("automation", "0003_sla_policy_case_sla")]

    operations = [migrations.RunPython(targets_to_policies, policies_to_targets)]
