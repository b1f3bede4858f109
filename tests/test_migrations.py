from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from accounts import rls_schema
from accounts.db_roles import as_owner


@pytest.fixture
def as_the_owner():
    """Migrating back and forth alters tables: the owner's work, not the runtime role's.
    The tables made again get their row-level security back, as after ``migrate``."""
    with as_owner():
        yield
        rls_schema.apply(connection)


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:
        pytest.fail(f"makemigrations --check found changes:\n{out.getvalue()} ({exc})")


@pytest.mark.django_db(transaction=True)
def test_dates_stored_outside_the_supported_range_are_pulled_to_its_edges(as_the_owner):
    """Issue 7: a follow-up due 9999-12-31T23:45Z was accepted before input was checked;
    the migrations that add the range constraints bring such rows inside first."""
    from datetime import UTC, date, datetime

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("followup", "0004_move_outbox_to_kernel"), ("engagements", "0001_initial")]
    after = [("followup", "0005_dates_in_range"), ("engagements", "0002_dates_in_range")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    org = old.get_model("accounts", "Organization").objects.create(name="Old", slug="old")
    user = old.get_model("accounts", "User").objects.create(email="old@example.com")
    followup = old.get_model("followup", "FollowUp").objects.create(
        organization_id=org.pk, owner_id=user.pk, title="Far",
        due_at=datetime(9999, 12, 31, 23, 45, tzinfo=UTC),
    )  # fmt: skip
    customer = old.get_model("engagements", "Customer").objects.create(
        organization_id=org.pk, name="Old customer"
    )
    engagement = old.get_model("engagements", "Engagement").objects.create(
        organization_id=org.pk, customer_id=customer.pk, name="Old", started_on=date(1, 1, 1)
    )
    touchpoint = old.get_model("engagements", "Touchpoint").objects.create(
        organization_id=org.pk, customer_id=customer.pk, channel="call", summary="Long ago",
        occurred_at=datetime(1, 1, 1, 12, tzinfo=UTC), effort_minutes=0,
    )  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    assert new.get_model("followup", "FollowUp").objects.get(pk=followup.pk).due_at == (
        datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
    )
    assert new.get_model("engagements", "Engagement").objects.get(
        pk=engagement.pk
    ).started_on == date(1900, 1, 1)
    assert new.get_model("engagements", "Touchpoint").objects.get(
        pk=touchpoint.pk
    ).occurred_at == datetime(1900, 1, 1, tzinfo=UTC)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_events_recorded_with_bare_model_names_get_registry_keys(as_the_owner):
    """Issue 7: events stored ``subject_type`` as the bare model name, so two apps' models
    of the same name (``Review``) would collide."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("kernel", "0002_event_deliveries")]
    after = [("kernel", "0003_event_subject_keys")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    org = old.get_model("accounts", "Organization").objects.create(name="Old", slug="old")
    Event = old.get_model("kernel", "Event")
    for name in ("touchpoint", "customer", "followup", ""):
        Event.objects.create(organization_id=org.pk, type="x.y", subject_type=name, payload={})

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    Event = executor.loader.project_state(after).apps.get_model("kernel", "Event")
    assert sorted(Event.objects.values_list("subject_type", flat=True)) == [
        "",
        "customer",
        "engagements.touchpoint",
        "followup.followup",
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
