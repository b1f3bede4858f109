"""A trigram index on follow-up titles for the search box, on PostgreSQL only (see
``engagements.0004_search_indexes`` for why it is an expression index on UPPER)."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        'CREATE INDEX IF NOT EXISTS "followup_title_trgm" ON "followup_followup" '
        'USING gin ((UPPER("title"::text)) gin_trgm_ops)'
    )


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP INDEX IF EXISTS "followup_title_trgm"')


class Migration(migrations.Migration):
    dependencies = [("followup", "0005_dates_in_range")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
