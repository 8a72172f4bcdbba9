from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("automation", "0004_response_targets_to_policies")]

    operations = [migrations.DeleteModel(name="ResponseTarget")]
