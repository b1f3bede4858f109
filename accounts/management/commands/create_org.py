from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts import rls, services
from accounts.identity import normalize_identifier
from accounts.models import User
from accounts.roles import Role


class Command(BaseCommand):
    help = (
        "Create an organization with an owner (created if the e-mail has no account yet). "
        "With --api-key, the plain key is printed as the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--owner", required=True, help="Owner's e-mail address")
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument(
            "--api-key",
            nargs="?",
            const=Role.ADMIN,
            default=None,
            choices=Role.values,
            metavar="ROLE",
            help="Also create an API key, with this role (default admin): "
            + ", ".join(Role.values),
        )
        parser.add_argument(
            "--api-key-role",
            default=None,
            choices=Role.values,
            help="The API key's role (same as --api-key ROLE).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # An operator's command across organizations (row-level security: accounts.rls).
        with rls.cross_tenant("admin command"):
            self._handle(*args, **options)

    def _handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        if not name:
            raise CommandError("The organization name cannot be empty.")
        email = normalize_identifier(options["owner"])
        if "@" not in email:
            raise CommandError(f"--owner must be an e-mail address, got {email!r}.")
        with transaction.atomic():
            owner = User.objects.filter(email__iexact=email).first()
            created_user = owner is None
            if owner is None:
                # No password: the owner sets one through "Forgot your password?".
                owner = User.objects.create_user(
                    email=email, password=None, timezone=options["timezone"]
                )
            org = services.organization_create(
                name=name, owner=owner, timezone_name=options["timezone"]
            )
            created_key = None
            role = options["api_key_role"] or options["api_key"]
            if role:
                created_key = services.api_key_create(
                    org=org,
                    name="CLI",
                    role=role,
                    created_by=owner,
                    granter_role=None,
                )
        self.stdout.write(f"Organization: {org.name} (/o/{org.slug}/)")
        self.stdout.write(
            f"Owner: {owner.email}"
            + (" (new account; set a password via 'Forgot your password?')" if created_user else "")
        )
        if created_key is not None:
            self.stdout.write(f"API key ({created_key.api_key.role}), shown once:")
            self.stdout.write(created_key.plain)
