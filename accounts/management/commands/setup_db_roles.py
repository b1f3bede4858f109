from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from accounts import db_roles, rls_schema
from accounts.rls import bypass_role


class Command(BaseCommand):
    help = (
        "Create the runtime database role (LOGIN NOSUPERUSER NOBYPASSRLS) and the bypass role "
        "of row-level security, grant them this database, and apply the policies. Runs as "
        "the owner (MIGRATE_DATABASE_URL); safe to run repeatedly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--role", default=None, help="Runtime role (default: DATABASE_URL's user)"
        )
        parser.add_argument("--password", default=None, help="Its password (none: trust/peer auth)")

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections["default"]
        if connection.vendor != "postgresql":
            raise CommandError("Row-level security needs PostgreSQL (SQLite has none).")
        app_role = options["role"] or settings.FOLLOWUP_DB_APP_ROLE
        password = options["password"] or settings.DATABASES["default"].get("PASSWORD") or None
        with db_roles.as_owner():
            with connection.cursor() as cursor:
                db_roles.create_roles(
                    cursor, app_role=app_role, bypass_role=bypass_role(), password=password
                )
                db_roles.grant_database(
                    cursor,
                    connection.settings_dict["NAME"],
                    app_role=app_role,
                    bypass_role=bypass_role(),
                )
            changed = rls_schema.apply(connection)
        self.stdout.write(
            f"Runtime role {app_role} (NOSUPERUSER NOBYPASSRLS), bypass role {bypass_role()}; "
            f"row-level security added to {len(changed)} table(s)."
        )
