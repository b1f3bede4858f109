"""Trigram indexes for the search box (``engagements.search``), on PostgreSQL only.

``icontains`` is ``UPPER(col::text) LIKE UPPER('%q%')`` on PostgreSQL; a GIN index with
``gin_trgm_ops`` on that same expression answers it without scanning the table. SQLite has
no such index type: there the migration does nothing and search runs as a plain LIKE.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

INDEXES = [
    ("customer_name_trgm", "engagements_customer", "name"),
    ("contact_name_trgm", "engagements_contact", "name"),
    ("contact_email_trgm", "engagements_contact", "email"),
    ("contact_phone_trgm", "engagements_contact", "phone"),
    ("engagement_name_trgm", "engagements_engagement", "name"),
]


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("engagements", "0003_import_claims")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
