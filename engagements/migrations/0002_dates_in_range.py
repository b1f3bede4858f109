"""Touchpoint times and engagement starts lie in the supported range (instants from
1900-01-01T00:00:00Z up to 3000-01-01T00:00:00Z, dates 1900-01-01 to 2999-12-31).

Rows stored before input was checked are pulled to the nearest edge first; CHECK
constraints keep any other value out. The edges are written here, not imported: a
migration is history and must not move when ``accounts.inputs`` does.
"""

import datetime

from django.db import migrations, models

EARLIEST = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC)
END = datetime.datetime(3000, 1, 1, tzinfo=datetime.UTC)
LATEST = END - datetime.timedelta(seconds=1)
FIRST_DAY = datetime.date(1900, 1, 1)
LAST_DAY = datetime.date(2999, 12, 31)


def _clamp_out_of_range(apps, schema_editor):  # noqa: ANN001
    Touchpoint = apps.get_model("engagements", "Touchpoint")
    Engagement = apps.get_model("engagements", "Engagement")
    Touchpoint.objects.filter(occurred_at__lt=EARLIEST).update(occurred_at=EARLIEST)
    Touchpoint.objects.filter(occurred_at__gte=END).update(occurred_at=LATEST)
    Engagement.objects.filter(started_on__lt=FIRST_DAY).update(started_on=FIRST_DAY)
    Engagement.objects.filter(started_on__gt=LAST_DAY).update(started_on=LAST_DAY)


class Migration(migrations.Migration):
    dependencies = [
        ("engagements", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_clamp_out_of_range, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="engagement",
            constraint=models.CheckConstraint(
                condition=models.Q(("started_on__gte", FIRST_DAY), ("started_on__lte", LAST_DAY)),
                name="engagement_started_on_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="touchpoint",
            constraint=models.CheckConstraint(
                condition=models.Q(("occurred_at__gte", EARLIEST), ("occurred_at__lt", END)),
                name="touchpoint_occurred_at_in_range",
            ),
        ),
    ]
