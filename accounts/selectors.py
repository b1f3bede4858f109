"""Reads of accounts, already scoped and prefetched for the page that shows them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from accounts.models import Invitation, Membership, Organization, User
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


# --- Who may receive the organization's data ------------------------------------------------


def is_member(org: Organization, user: User) -> bool:
    """Whether ``user`` may still receive ``org``'s data: an active account and a membership.

    Every path that sends a person something of an organization (a reminder, a digest, a
    notification e-mail, a calendar feed) asks this when it sends, not when the work was
    queued: a person removed meanwhile gets nothing.
    """
    return user.is_active and Membership.objects.for_org(org).filter(user=user).exists()


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
