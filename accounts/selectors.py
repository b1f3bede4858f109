"""Reads of accounts, already scoped and prefetched for the page that shows them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import AuditEntry, Invitation, Membership, Organization, User


def memberships_of(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.for_user(user)
        .select_related("organization")
        .order_by("organization__name")
    )


def pending_invitations(org: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.for_org(org).pending().select_related("invited_by")


def members(org: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.for_org(org)
        .select_related("user")
        .order_by("user__display_name", "user__email")
    )


def audit_entries(
    org: Organization,
    *,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEntry]:
    """The organization's audit trail, newest first, filtered as the audit page asks.

    ``actor`` matches the recorded name (people and keys that are gone still match);
    dates are whole days in the active time zone.
    """
    rows = AuditEntry.objects.for_org(org).select_related("actor_user", "actor_api_key")
    if actor:
        rows = rows.filter(actor_label__icontains=actor)
    if action:
        rows = rows.filter(action=action)
    if object_type:
        rows = rows.filter(object_type=object_type)
    zone = timezone.get_current_timezone()
    if since:
        rows = rows.filter(created_at__gte=datetime.combine(since, time.min, tzinfo=zone))
    if until:
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone)
        rows = rows.filter(created_at__lt=end)
    return rows.order_by("-created_at", "-id")


def audit_page(rows: QuerySet[AuditEntry], *, before: Any, size: int) -> list[AuditEntry]:
    """One page of a keyset walk back in time: entries older than ``before`` (an entry id).

    Keyset, not OFFSET: the hundredth page costs what the first does."""
    if before is not None:
        anchor = rows.filter(pk=before).values("created_at", "id").first()
        if anchor is not None:
            rows = rows.filter(
                Q(created_at__lt=anchor["created_at"])
                | Q(created_at=anchor["created_at"], id__lt=anchor["id"])
            )
    return list(rows[:size])


def history_of(org: Organization, obj: models.Model, *, limit: int = 20) -> list[AuditEntry]:
    """The history panel of one object: its latest audit entries."""
    return list(
        AuditEntry.objects.for_org(org)
        .about(obj)
        .select_related("actor_user", "actor_api_key")
        .order_by("-created_at", "-id")[:limit]
    )
