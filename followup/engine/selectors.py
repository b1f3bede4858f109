"""Reads of follow-ups shared by pages and the API: scoped, prefetched, constant queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import Organization, User
from followup.engine.models import FollowUp, FollowUpStatus, WebhookDelivery, WebhookEndpoint
from followup.kernel import subjects
from followup.kernel.mail import user_zone
from followup.kernel.models import EventDelivery, EventDeliveryStatus


def followups(org: Organization) -> QuerySet[FollowUp]:
    return FollowUp.objects.for_org(org).select_related("owner", "completed_by", "organization")


def with_subjects(org: Organization, rows: Iterable[FollowUp]) -> list[FollowUp]:
    """The rows as a list, each with ``subject_ref`` set (one query per subject type)."""
    rows = list(rows)
    subjects.attach(org, rows)
    return rows


def for_subject(org: Organization, subject: Any) -> QuerySet[FollowUp]:
    """A subject's follow-ups, for its page (the reverse relation of the registry)."""
    entry = subjects.for_model(type(subject))
    if entry is None:
        return FollowUp.objects.for_org(org).none()
    return followups(org).filter(
        subject_type=subjects.content_type_for(entry.key), subject_id=subject.pk
    )


def open_for_subjects(org: Organization, model: type, ids: Iterable[Any]) -> QuerySet[FollowUp]:
    """Open follow-ups whose subject is one of ``ids`` of ``model`` (a registered type)."""
    entry = subjects.for_model(model)
    ids = list(ids)
    if entry is None or not ids:
        return FollowUp.objects.for_org(org).none()
    return followups(org).filter(
        status=FollowUpStatus.OPEN,
        subject_type=subjects.content_type_for(entry.key),
        subject_id__in=ids,
    )


def overdue_counts_by_type(
    org: Organization,
    wanted: Iterable[tuple[type, Iterable[Any]]],
    *,
    now: datetime | None = None,
) -> dict[type, dict[Any, int]]:
    """``overdue_counts`` for several subject types in one query: {model: {id: n}}."""
    now = now or timezone.now()
    condition = Q()
    type_of: dict[int, type] = {}
    for model, ids in wanted:
        entry = subjects.for_model(model)
        ids = list(ids)
        if entry is None or not ids:
            continue
        content_type = subjects.content_type_for(entry.key)
        type_of[content_type.pk] = model
        condition |= Q(subject_type=content_type, subject_id__in=ids)
    found: dict[type, dict[Any, int]] = {model: {} for model, _ids in wanted}
    if not type_of:
        return found
    rows = (
        FollowUp.objects.for_org(org)
        .filter(condition, status=FollowUpStatus.OPEN, due_at__lt=now)
        .order_by()
        .values("subject_type_id", "subject_id")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        found[type_of[row["subject_type_id"]]][row["subject_id"]] = row["n"]
    return found


def overdue_counts(
    org: Organization, model: type, ids: Iterable[Any], *, now: datetime | None = None
) -> dict[Any, int]:
    """Open follow-ups past their due time, per subject id (absent ids have none)."""
    now = now or timezone.now()
    rows = (
        open_for_subjects(org, model, ids)
        .filter(due_at__lt=now)
        .order_by()
        .values("subject_id")
        .annotate(n=Count("pk"))
    )
    return {row["subject_id"]: row["n"] for row in rows}


@dataclass
class Day:
    now: datetime
    start_of_today: datetime
    end_of_today: datetime
    end_of_week: datetime
    overdue: list[FollowUp] = field(default_factory=list)
    today: list[FollowUp] = field(default_factory=list)
    upcoming: list[FollowUp] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.today or self.upcoming)


def day_bounds(user: User, now: datetime) -> tuple[datetime, datetime, datetime]:
    """Start and end of today and the end of the coming week, in the person's zone."""
    local = now.astimezone(user_zone(user))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    # Midnight of the next local days, computed on dates so DST days are 23 or 25 hours.
    end_today = _local_midnight(user, start.date() + timedelta(days=1))
    end_week = _local_midnight(user, start.date() + timedelta(days=7))
    return _local_midnight(user, start.date()), end_today, end_week


def _local_midnight(user: User, day: Any) -> datetime:
    from followup.engine.calc.recurrence import to_utc

    return to_utc(datetime(day.year, day.month, day.day), user_zone(user).key)


def my_day(org: Organization, user: User, *, now: datetime | None = None) -> Day:
    """Overdue, due today and upcoming this week: one query, split here."""
    now = now or timezone.now()
    start, end_today, end_week = day_bounds(user, now)
    day = Day(now=now, start_of_today=start, end_of_today=end_today, end_of_week=end_week)
    rows = with_subjects(
        org,
        followups(org)
        .filter(owner=user, status=FollowUpStatus.OPEN, due_at__lt=end_week)
        .order_by("due_at", "pk")[:500],
    )
    for row in rows:
        if row.due_at < now:
            day.overdue.append(row)
        elif row.due_at < end_today:
            day.today.append(row)
        else:
            day.upcoming.append(row)
    return day


@dataclass
class PersonOverdue:
    user: User
    items: list[FollowUp]


def team_overdue(
    org: Organization, *, now: datetime | None = None, order: tuple[Any, ...] = ("due_at", "pk")
) -> list[PersonOverdue]:
    """Overdue open follow-ups of everyone, grouped by person, most overdue first; each
    person's follow-ups in ``order`` (``TEAM_SORTS``)."""
    now = now or timezone.now()
    rows = with_subjects(
        org,
        followups(org)
        .filter(status=FollowUpStatus.OPEN, due_at__lt=now)
        .order_by("owner__display_name", "owner__email", *order)[:1000],
    )
    grouped: dict[Any, PersonOverdue] = {}
    for row in rows:
        grouped.setdefault(row.owner_id, PersonOverdue(user=row.owner, items=[])).items.append(row)
    return sorted(grouped.values(), key=lambda p: (-len(p.items), p.user.name.lower()))


def endpoints(org: Organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.for_org(org).order_by("created_at")


def deliveries(org: Organization, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.for_org(org)
        .filter(endpoint=endpoint)
        .order_by("-created_at", "-id")
    )


def failing_event_deliveries(org: Organization) -> QuerySet[EventDelivery]:
    """Deliveries of the outbox to a subscriber that failed at least once and have not
    succeeded since: retrying, or given up (``failed``). Most recent failure first."""
    rows: QuerySet[EventDelivery] = (
        EventDelivery.objects.for_org(org)
        .filter(attempts__gt=0)
        .exclude(status=EventDeliveryStatus.SUCCEEDED)
        .select_related("event")
        .order_by("-last_attempt_at", "-id")
    )
    return rows


# --- Orders of the lists (``?sort=``; ``followup.kernel.sorting``) -----------------------------

FOLLOWUP_SORTS: dict[str, tuple[Any, ...]] = {
    "title": (Lower("title").asc(), "id"),
    "-title": (Lower("title").desc(), "-id"),
    "owner": (Lower("owner__display_name"), Lower("owner__email"), "due_at", "id"),
    "-owner": (Lower("owner__display_name").desc(), Lower("owner__email").desc(), "due_at", "id"),
    "due": ("due_at", "id"),
    "-due": ("-due_at", "-id"),
    "status": ("status", "due_at", "id"),
    "-status": ("-status", "due_at", "id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}
TEAM_SORTS: dict[str, tuple[Any, ...]] = {
    "due": ("due_at", "pk"),
    "-due": ("-due_at", "-pk"),
    "title": (Lower("title").asc(), "pk"),
    "-title": (Lower("title").desc(), "-pk"),
}
NOTIFICATION_SORTS: dict[str, tuple[Any, ...]] = {
    "-when": ("-created_at", "-id"),
    "when": ("created_at", "id"),
}
