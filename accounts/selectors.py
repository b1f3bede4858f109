"""Reads of accounts, already scoped and prefetched for the page that shows them."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Invitation, Membership, Organization, User


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
