"""Due times lie in the supported range (1900-01-01T00:00:00Z up to 3000-01-01T00:00:00Z).

Rows stored before input was checked (a follow-up due 9999-12-31T23:45Z was accepted and
broke its owner's calendar feed) are pulled to the nearest edge first, then a CHECK
constraint keeps any other value out. The edges are written here, not imported: a
migration is history and must not move when ``accounts.inputs`` does.
"""

import datetime

from django.db import migrations, models

EARLIEST = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC)
END = datetime.datetime(3000, 1, 1, tzinfo=datetime.UTC)
LATEST = END - datetime.timedelta(seconds=1)


def _clamp_out_of_range(apps, schema_editor):  # noqa: ANN001
    FollowUp = apps.get_model("followup", "FollowUp")
    rows = FollowUp.objects.all()
    for field in ("due_at", "occurrence_at", "next_remind_at"):
        rows.filter(**{f"{field}__lt": EARLIEST}).update(**{field: EARLIEST})
        rows.filter(**{f"{field}__gte": END}).update(**{field: LATEST})


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0004_move_outbox_to_kernel"),
    ]

    operations = [
        migrations.RunPython(_clamp_out_of_range, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.CheckConstraint(
                condition=models.Q(("due_at__gte", EARLIEST), ("due_at__lt", END)),
                name="followup_due_at_in_range",
            ),
        ),
    ]
