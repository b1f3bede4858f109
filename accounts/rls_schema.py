"""Row-level security policies on every tenant table (PostgreSQL only).

``apply(connection)`` runs after every ``migrate`` (``post_migrate``, as the owning role), so
a new tenant table gets its policy with the migration that creates it. Tenant tables are
found in the app registry, not listed by hand:

- every model with an ``organization_id`` column: the policy compares it with the
  transaction's ``followup.org_id`` setting;
- every auto-created many-to-many table whose parent is a tenant table: the policy asks
  whether the parent row is visible (``EXISTS``), so it follows the parent's policy.

Row-level security is enabled and forced (the owner is subject to it too; only superusers
and ``BYPASSRLS`` roles are not). With no organization set, a query sees no rows and an
INSERT is refused (the ``WITH CHECK``).

``accounts_organization`` itself is not under row-level security: its rows (name, address,
time zone) must be readable before any organization is known (``/o/<slug>/`` resolves the
slug first, then checks the membership), and nothing in it belongs to one tenant alone
but the tenant itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from django.db.models import Model

POLICY = "tenant_isolation_v1"
ORG_SETTING = "NULLIF(current_setting('followup.org_id', true), '')::uuid"


@dataclass(frozen=True)
class TenantTable:
    table: str
    #: For a many-to-many table: the parent table and the column that points to it.
    parent_table: str | None = None
    parent_column: str | None = None

    @property
    def condition(self) -> str:
        if self.parent_table is None:
            return f"organization_id = {ORG_SETTING}"
        # Names from the app registry, not from input.
        return (
            f'EXISTS (SELECT 1 FROM "{self.parent_table}" parent '  # noqa: S608
            f'WHERE parent.id = "{self.table}"."{self.parent_column}")'
        )


def tenant_tables() -> list[TenantTable]:
    from django.apps import apps

    direct: set[str] = set()
    for model in apps.get_models():
        columns = {f.column for f in model._meta.concrete_fields}
        if model._meta.managed and not model._meta.proxy and "organization_id" in columns:
            direct.add(model._meta.db_table)
    found = [TenantTable(t) for t in sorted(direct)]
    for model in apps.get_models(include_auto_created=True):
        if not model._meta.auto_created:
            continue
        parent = cast("type[Model]", model._meta.auto_created)
        if parent._meta.db_table not in direct:
            continue
        column = next(
            f.column
            for f in model._meta.concrete_fields
            if f.is_relation and f.related_model is parent
        )
        found.append(TenantTable(model._meta.db_table, parent._meta.db_table, column))
    return found


def runtime_roles() -> list[str]:
    from django.conf import settings

    from accounts.rls import bypass_role

    return [settings.FOLLOWUP_DB_APP_ROLE, bypass_role()]


def _existing_roles(cursor: Any, names: list[str]) -> list[str]:
    cursor.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [names])
    return sorted(row[0] for row in cursor.fetchall())


def may_alter(cursor: Any) -> bool:
    """Only the owner (or a superuser) may change policies: the runtime role flushing a test
    database also sends ``post_migrate``."""
    cursor.execute(
        "SELECT r.rolsuper OR EXISTS (SELECT 1 FROM pg_tables t WHERE t.schemaname = "
        "current_schema() AND t.tablename = 'accounts_membership' AND t.tableowner = "
        "current_user) FROM pg_roles r WHERE r.rolname = current_user"
    )
    row = cursor.fetchone()
    return bool(row and row[0])


def apply(connection: Any) -> list[str]:
    """Enable, force and add the policy on every tenant table that lacks it, and grant the
    runtime roles what they need. Idempotent. Returns the tables it changed."""
    if connection.vendor != "postgresql":
        return []
    changed: list[str] = []
    with connection.cursor() as cursor:
        if not may_alter(cursor):
            return []
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = %s) "
            "FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
            "AND c.relkind = 'r'",
            [POLICY],
        )
        state = {name: (enabled, forced, has) for name, enabled, forced, has in cursor.fetchall()}
        for table in tenant_tables():
            if table.table not in state:
                continue  # not migrated yet (a partial migrate)
            enabled, forced, has_policy = state[table.table]
            if enabled and forced and has_policy:
                continue
            if not enabled:
                cursor.execute(f'ALTER TABLE "{table.table}" ENABLE ROW LEVEL SECURITY')
            if not forced:
                cursor.execute(f'ALTER TABLE "{table.table}" FORCE ROW LEVEL SECURITY')
            if not has_policy:
                cursor.execute(
                    f'CREATE POLICY {POLICY} ON "{table.table}" USING ({table.condition}) '
                    f"WITH CHECK ({table.condition})"
                )
            changed.append(table.table)
        roles = _existing_roles(cursor, runtime_roles())
        if roles:
            who = ", ".join(f'"{r}"' for r in roles)
            cursor.execute(
                f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES "
                f"ON ALL TABLES IN SCHEMA public TO {who}"
            )
            cursor.execute(
                f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {who}"
            )
    return changed


def post_migrate_handler(sender: Any, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    apply(connections[using])
