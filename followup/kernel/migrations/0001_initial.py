"""The outbox and Idempotency-Key records move from the engine app to the shared kernel.

State only: the tables keep their names (``db_table``), nothing in the database changes.
"""

import accounts.ids
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        # The tables were created by the engine app; this only moves the models' state.
        ("followup", "0003_engine"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Event",
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
                        ("type", models.CharField(max_length=64)),
                        ("subject_type", models.CharField(blank=True, max_length=64)),
                        ("subject_id", models.UUIDField(blank=True, null=True)),
                        ("payload", models.JSONField(default=dict)),
                        ("relayed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
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
                        "db_table": "followup_event",
                        "indexes": [
                            models.Index(
                                condition=models.Q(("relayed_at__isnull", True)),
                                fields=["created_at"],
                                name="event_unrelayed_idx",
                            ),
                            models.Index(
                                fields=["organization", "type", "created_at"],
                                name="event_org_type_idx",
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="IdempotencyRecord",
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
                        ("key", models.CharField(max_length=255)),
                        ("fingerprint", models.CharField(max_length=64)),
                        (
                            "response_status",
                            models.PositiveSmallIntegerField(blank=True, null=True),
                        ),
                        ("response_body", models.BinaryField(blank=True, null=True)),
                        ("response_headers", models.JSONField(blank=True, default=dict)),
                        ("expires_at", models.DateTimeField(db_index=True)),
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
                        "db_table": "followup_idempotencyrecord",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("organization", "key"), name="idempotency_key_unique"
                            )
                        ],
                    },
                ),
            ],
        )
    ]
