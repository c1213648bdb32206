from django.db import migrations


def load(apps, schema_editor):
    from credit.findings.catalogue import catalogue_load

    catalogue_load(apps.get_model("credit", "Behaviour"))


class Migration(migrations.Migration):
    dependencies = [("credit", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
