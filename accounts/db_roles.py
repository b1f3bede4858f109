"""The two database roles of row-level security, and running as the owner.

- The **owner** (``MIGRATE_DATABASE_URL``) owns the tables: it runs migrations (the
  ``migrate`` command switches to it), creates test databases and ``setup_db_roles``.
- The **runtime role** (``DATABASE_URL``, ``followup_app`` by default) is what the web
  processes, workers and beat connect as: ``LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB
  NOCREATEROLE``, with DML on the tables, so row-level security holds for it.
- The **bypass role** (``followup_bypass``): ``NOLOGIN BYPASSRLS``; the runtime role is a
  member and switches to it, per statement, only inside ``accounts.rls.cross_tenant``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connections

_CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


def owner_configured() -> bool:
    return getattr(settings, "MIGRATE_DATABASE", None) is not None


@contextlib.contextmanager
def as_owner(alias: str = "default") -> Iterator[None]:
    """Connect as the owning role for the block (same database name), then back.

    Without ``MIGRATE_DATABASE_URL`` the connection is left as it is."""
    owner = getattr(settings, "MIGRATE_DATABASE", None)
    connection = connections[alias]
    if owner is None or connection.vendor != "postgresql":
        yield
        return
    saved = {key: connection.settings_dict.get(key) for key in _CREDENTIALS}
    if all(saved[key] == owner.get(key) for key in _CREDENTIALS):
        yield
        return
    connection.close()
    connection.settings_dict.update({key: owner.get(key) for key in _CREDENTIALS})
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def create_roles(cursor: Any, *, app_role: str, bypass_role: str, password: str | None) -> None:
    """Create (or correct) both roles. Run as a superuser or a role with CREATEROLE."""
    cursor.execute(
        "SELECT rolname FROM pg_roles WHERE rolname IN (%s, %s)", [app_role, bypass_role]
    )
    existing = {row[0] for row in cursor.fetchall()}
    verb = "ALTER" if app_role in existing else "CREATE"
    attributes = "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE INHERIT"
    if password:
        cursor.execute(f'{verb} ROLE "{app_role}" {attributes} PASSWORD %s', [password])
    else:
        cursor.execute(f'{verb} ROLE "{app_role}" {attributes}')
    verb = "ALTER" if bypass_role in existing else "CREATE"
    cursor.execute(f'{verb} ROLE "{bypass_role}" NOLOGIN NOSUPERUSER BYPASSRLS NOCREATEDB')
    cursor.execute(f'GRANT "{bypass_role}" TO "{app_role}"')


def grant_database(cursor: Any, database: str, *, app_role: str, bypass_role: str) -> None:
    cursor.execute(f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO "{app_role}"')
    cursor.execute(f'GRANT USAGE ON SCHEMA public TO "{app_role}", "{bypass_role}"')
    # Tables created later by the owner (the next migration) are granted at once.
    for kind, privileges in (
        ("TABLES", "SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES"),
        ("SEQUENCES", "USAGE, SELECT, UPDATE"),
    ):
        cursor.execute(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {privileges} ON {kind} "
            f'TO "{app_role}", "{bypass_role}"'
        )
