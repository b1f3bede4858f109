from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts import rls
from accounts.models import Membership, Organization, User
from accounts.roles import Role
from followup.kernel.demo import DemoContext, seeders

DEMO_SLUG = "demo"
DEMO_PEOPLE = [
    # key, e-mail, name, role, time zone
    ("owner", "owner@demo.followup.test", "Wei Li", Role.OWNER, "Asia/Shanghai"),
    ("admin", "admin@demo.followup.test", "Anna Schmidt", Role.ADMIN, "Europe/Berlin"),
    ("manager", "manager@demo.followup.test", "Maria Garcia", Role.MANAGER, "Europe/Berlin"),
    ("rep", "rep@demo.followup.test", "Tom Becker", Role.MEMBER, "Europe/Berlin"),
    ("rep2", "rep2@demo.followup.test", "Zhang Min", Role.MEMBER, "Asia/Shanghai"),
    ("viewer", "viewer@demo.followup.test", "Victor Hugo", Role.VIEWER, "America/New_York"),
]


class Command(BaseCommand):
    help = "Create (or top up) the demo organization and print its logins. Safe to run repeatedly."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password", default="followup-demo", help="Password of the demo users"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # An operator's command across organizations (row-level security: accounts.rls).
        with rls.cross_tenant("admin command"):
            self._handle(*args, **options)

    def _handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION and options["password"] == "followup-demo":
            raise CommandError(
                "Refusing the well-known demo password in production; pass --password."
            )
        password = options["password"]
        with transaction.atomic():
            org, created = Organization.objects.get_or_create(
                slug=DEMO_SLUG,
                defaults={"name": "Acme Precision Manufacturing", "timezone": "Europe/Berlin"},
            )
            users: dict[str, User] = {}
            for key, email, name, role, tz in DEMO_PEOPLE:
                user = User.objects.filter(email__iexact=email).first()
                if user is None:
                    user = User.objects.create_user(
                        email=email, password=password, display_name=name, timezone=tz
                    )
                elif user.email_confirmed_at is None:
                    # The demo logins work at once: their addresses need no confirmation.
                    user.email_confirmed_at = timezone.now()
                    user.save(update_fields=["email_confirmed_at"])
                Membership.objects.for_org(org).get_or_create(
                    organization=org, user=user, defaults={"role": role}
                )
                users[key] = user
            ctx = DemoContext(org=org, users=users, password=password, created=created)
            for seed in seeders():
                seed(ctx)

        self.stdout.write(f"Demo organization: {org.name}  {settings.BASE_URL}/o/{org.slug}/")
        self.stdout.write(f"Logins (password: {password}):")
        for key, email, name, role, _tz in DEMO_PEOPLE:
            self.stdout.write(f"  {role:<8} {email:<28} {name} ({key})")
