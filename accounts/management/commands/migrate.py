"""``migrate`` as the owning role (``MIGRATE_DATABASE_URL``), whatever ``DATABASE_URL`` is:
the runtime role may not create or alter tables. The policies of row-level security are
added after it (``accounts.rls_schema``, a ``post_migrate`` handler)."""

from __future__ import annotations

from typing import Any

from django.core.management.commands.migrate import Command as DjangoMigrate

from accounts.db_roles import as_owner


class Command(DjangoMigrate):
    def handle(self, *args: Any, **options: Any) -> Any:
        with as_owner(options.get("database") or "default"):
            return super().handle(*args, **options)
