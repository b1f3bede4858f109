"""What the header's search finds in the engine: follow-ups (open ones first)."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Organization, User
from followup.engine.models import FollowUp, FollowUpStatus
from followup.kernel import search
from followup.kernel.search import Result


def find_followups(org: Organization, user: User, query: str, limit: int) -> list[Result]:
    rows = (
        search.ranked(
            FollowUp.objects.for_org(org).filter(search.matching(query, ["title"])),
            query,
            "title",
        )
        .annotate(
            closed=Case(
                When(status=FollowUpStatus.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .select_related("owner")
        .only("id", "title", "status", "due_at", "owner__id", "owner__display_name", "owner__email")
        .order_by("closed", "search_rank", "due_at", "id")[:limit]
    )
    return [
        Result(
            kind="followups",
            title=f.title,
            subtitle=_("%(status)s · due %(due)s · %(owner)s")
            % {
                "status": f.get_status_display(),
                "due": date_format(timezone.localtime(f.due_at), "SHORT_DATETIME_FORMAT"),
                "owner": f.owner.name,
            },
            url=reverse("followup:detail", kwargs={"org_slug": org.slug, "pk": f.pk}),
        )
        for f in rows
    ]


def register() -> None:
    search.register("followups", gettext_lazy("Follow-ups"), find_followups, order=40)
