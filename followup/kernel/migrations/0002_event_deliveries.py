"""One delivery per (event, subscriber): each subscriber of each event succeeds or fails on
its own, with retries (``followup.kernel.events``)."""

import accounts.ids
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("kernel", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="EventDelivery",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=accounts.ids.uuid7,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, editable=False
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, editable=False
                    ),
                ),
                ("version", models.PositiveIntegerField(default=1, editable=False)),
                ("subscriber", models.CharField(max_length=100)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("succeeded", "Done"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("claimed_at", models.DateTimeField(blank=True, null=True)),
                ("claim", models.UUIDField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True)),
                ("last_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("succeeded_at", models.DateTimeField(blank=True, null=True)),
                (
                    "event",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="kernel.event",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.organization",
                    ),
                ),
            ],
            options={
                "ordering": ["next_attempt_at", "id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("status", "pending")),
                        fields=["next_attempt_at"],
                        name="event_delivery_due_idx",
                    ),
                    models.Index(
                        condition=models.Q(("claim__isnull", False)),
                        fields=["claim"],
                        name="event_delivery_claim_idx",
                    ),
                    models.Index(
                        condition=models.Q(
                            ("attempts__gt", 0), models.Q(("status", "succeeded"), _negated=True)
                        ),
                        fields=["organization", "status", "last_attempt_at"],
                        name="event_delivery_failing_idx",
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("event", "subscriber"), name="event_delivery_unique"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("status__in", ["pending", "succeeded", "failed"])),
                        name="event_delivery_status_valid",
                    ),
                ],
            },
        ),
    ]
