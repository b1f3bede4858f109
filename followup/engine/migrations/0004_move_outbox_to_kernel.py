"""The outbox (Event) and Idempotency-Key records now belong to ``followup.kernel``.

State only: the tables stay as they are (the kernel models keep their ``db_table``); the
webhook delivery's foreign key now names ``kernel.Event``. Existing content types follow.
"""

import django.db.models.deletion
from django.db import migrations, models

MOVED = ("event", "idempotencyrecord")


def _relabel(apps, schema_editor, old, new):  # noqa: ANN001
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=old, model__in=MOVED).update(app_label=new)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("followup", "0003_engine"),
        ("kernel", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="webhookdelivery",
                    name="event",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="kernel.event",
                    ),
                ),
                migrations.DeleteModel(name="Event"),
                migrations.DeleteModel(name="IdempotencyRecord"),
            ],
        ),
        migrations.RunPython(
            lambda apps, se: _relabel(apps, se, "followup", "kernel"),
            lambda apps, se: _relabel(apps, se, "kernel", "followup"),
        ),
    ]
