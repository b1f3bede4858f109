"""Reads of accounts, already scoped and prefetched for the page that shows them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import AuditEntry, Invitation, Membership, Organization, User
from accounts.roles import Role, role_can


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


# --- Who may receive the organization's data ------------------------------------------------


def is_member(org: Organization, user: User) -> bool:
    """Whether ``user`` may still receive ``org``'s data: an active account and a membership.

    Every path that sends a person something of an organization (a reminder, a digest, a
    notification e-mail, a calendar feed) asks this when it sends, not when the work was
    queued: a person removed meanwhile gets nothing.
    """
    return user.is_active and has_membership(org, user)


def has_membership(org: Organization, user: User) -> bool:
    """Whether ``user`` belongs to ``org`` (any role). The one membership check of services
    that accept a person (an owner, a manager, an assignee); send paths use ``is_member``,
    which also requires an active account."""
    return Membership.objects.for_org(org).filter(user=user).exists()


def member_ids(org: Organization, user_ids: Iterable[Any]) -> set[Any]:
    """Which of ``user_ids`` are active members of ``org`` (one query)."""
    return set(
        Membership.objects.for_org(org)
        .filter(user_id__in=list(user_ids), user__is_active=True)
        .values_list("user_id", flat=True)
    )


# --- Who takes over when someone leaves -----------------------------------------------------

# Open follow-ups and owned records go to somebody who can act on them.
SUCCESSOR_ROLES = tuple(role for role in Role.values if role_can(role, "records.edit"))


def successor_candidates(org: Organization, person: User) -> QuerySet[Membership]:
    """The members who may take ``person``'s open work over: anyone else who can edit."""
    candidates: QuerySet[Membership] = (
        Membership.objects.for_org(org)
        .filter(role__in=SUCCESSOR_ROLES, user__is_active=True)
        .exclude(user=person)
        .select_related("user")
        .order_by("user__display_name", "user__email")
    )
    return candidates


def default_successor(org: Organization, person: User, remover: User | None) -> User | None:
    """Who takes over unless the remover says otherwise: the remover, or (when the person
    leaves by themselves, or the remover is an API key of nobody) the longest-standing
    owner, or anybody who can."""
    candidates = successor_candidates(org, person)
    if remover is not None and candidates.filter(user=remover).exists():
        return remover
    chosen = (
        candidates.filter(role=Role.OWNER).order_by("created_at").first()
        or candidates.order_by("created_at").first()
    )
    return chosen.user if chosen else None
