"""Project follow-up meets the follow-up engine, through the engine's registries only.

Projects and work items (milestones are work items) are followable subjects; work items due
this week stand beside a person's follow-ups on My day; milestones are in the person's
calendar feed. The engine knows none of this module.
"""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils.translation import gettext_lazy

from accounts.models import Organization, User
from followup.engine import feeds, myday
from followup.engine.selectors import Day
from followup.kernel import subjects
from followup.kernel.mail import user_zone
from projects import selectors
from projects.models import Project, WorkItem


def project_url(project: Project) -> str:
    return reverse(
        "projects:project_detail",
        kwargs={"org_slug": project.organization.slug, "pk": project.pk},
    )


def work_item_url(item: WorkItem) -> str:
    return reverse(
        "projects:work_item_detail",
        kwargs={"org_slug": item.organization.slug, "pk": item.pk},
    )


def register() -> None:
    subjects.register(
        "project",
        Project,
        label=gettext_lazy("Project"),
        url=project_url,
        describe=lambda project: f"{project.code} {project.name}",
        related=("organization",),
    )
    subjects.register(
        "work_item",
        WorkItem,
        label=gettext_lazy("Work item"),
        url=work_item_url,
        describe=lambda item: f"{item.wbs_code} {item.name} · {item.project.code}",
        related=("organization", "project"),
    )
    myday.register_section(my_day_section)
    feeds.register_feed_items(milestone_feed)


def my_day_section(org: Organization, user: User, day: Day) -> myday.Section | None:
    """Work packages and milestones assigned to the person, planned to finish by the end of
    the coming week and not done (overdue ones first): one query."""
    until = (day.end_of_week.astimezone(user_zone(user)) - timedelta(seconds=1)).date()
    today = day.now.astimezone(user_zone(user)).date()
    items = list(selectors.due_for(org, user, until=until)[:100])
    if not items:
        return None
    rows = [
        {
            "item": item,
            "overdue": item.early_finish is not None and item.early_finish < today,
            "today": item.early_finish == today,
        }
        for item in items
    ]
    return myday.Section(key="work_items", template="projects/partials/my_day.html", rows=rows)


def milestone_feed(org: Organization, user: User) -> list[feeds.FeedItem]:
    items = list(selectors.feed_milestones(org, user)[:500])
    out: list[feeds.FeedItem] = []
    for item in items:
        assert item.early_finish is not None
        reached = item.percent_complete >= 100
        out.append(
            feeds.FeedItem(
                uid=f"milestone-{item.pk}",
                day=item.early_finish,
                summary=("✓ " if reached else "◆ ") + f"{item.project.code}: {item.name}",
                description=f"{item.project.code} {item.project.name} · {item.wbs_code}",
                path=reverse(
                    "projects:work_item_detail", kwargs={"org_slug": org.slug, "pk": item.pk}
                ),
                modified=item.updated_at,
                sequence=item.version,
            )
        )
    return out
