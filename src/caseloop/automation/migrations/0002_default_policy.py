import datetime

from django.db import migrations

TARGETS = {"urgent": 60, "high": 120, "normal": 240, "low": 480}
ACK_TEXT = (
    "Hello {customer_name},\n\n"
    'Thank you for contacting us. Your request "{subject}" is case {reference}.\n'
    "You can expect a first response {expected_response}.\n\n"
    "Please keep the reference {reference} in any reply."
)


def seed(apps, schema_editor):
    """A working starting point admins edit: Mon-Fri 09:00-17:00 UTC, a 4-business-hour
    target for normal priority, and the acknowledgement text."""
    BusinessHours = apps.get_model("automation", "BusinessHours")
    Interval = apps.get_model("automation", "BusinessHoursInterval")
    ResponseTarget = apps.get_model("automation", "ResponseTarget")
    Template = apps.get_model("automation", "AcknowledgementTemplate")
    if not BusinessHours.objects.exists():
        hours = BusinessHours.objects.create(name="Standard", timezone="UTC", is_default=True)
        for weekday in range(5):
            Interval.objects.create(
                hours=hours, weekday=weekday, start=datetime.time(9), end=datetime.time(17)
            )
    for priority, minutes in TARGETS.items():
        ResponseTarget.objects.get_or_create(
            priority=priority, defaults={"first_response_minutes": minutes}
        )
    Template.objects.get_or_create(
        channel="",
        defaults={"subject": "We received your request [{reference}]", "text": ACK_TEXT},
    )


class Migration(migrations.Migration):
    dependencies = [("automation", "0001_business_hours_targets_acknowledgement")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
