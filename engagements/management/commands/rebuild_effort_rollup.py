from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import rls
from accounts.models import Organization
from engagements import effort


class Command(BaseCommand):
    help = (
        "Compute the monthly effort roll-up (minutes and touchpoints per person and per "
        "customer and month) again from the touchpoints: of one organization (--org slug) "
        "or of every one. Needed after an organization changes its time zone; safe to run "
        "any time (each organization in one transaction)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", help="the organization's slug (default: every one)")

    def handle(self, *args: Any, **options: Any) -> None:
        orgs = Organization.objects.order_by("slug")
        if options["org"]:
            orgs = orgs.filter(slug=options["org"])
            if not orgs.exists():
                raise CommandError(f"No organization {options['org']!r}.")
        for org in orgs:
            with rls.org_context(org):  # per-organization work, as a task would do it
                rows = effort.rebuild(org)
            self.stdout.write(f"{org.slug}: {rows} roll-up rows")
