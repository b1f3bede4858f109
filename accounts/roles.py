"""Roles and the one map of what each role may do.

Views never test role names; they ask for a capability (``"records.edit"``) and this map
answers. Members and API keys carry the same roles, so the browser and the API agree.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")
    MEMBER = "member", _("Member")
    VIEWER = "viewer", _("Viewer")


# Rank orders roles so that nobody grants a role above their own.
RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.MANAGER: 2, Role.ADMIN: 3, Role.OWNER: 4}

_READ = {
    "records.view",  # customers, engagements, projects, risks, follow-ups
    "members.view",
}
_WRITE = _READ | {
    "records.edit",  # create, change and delete records; log touchpoints; complete follow-ups
}
_MANAGE_TEAM = _WRITE | {
    "team.view",  # other people's workload, overdue follow-ups by person, effort reports
    "records.import",  # CSV imports
    "records.delete",  # delete a whole customer (and its history); reps close or edit instead
}
_ADMIN_CHANGES = {
    # approve or reject a project's change requests (a project's sponsor may too); set a
    # project's first baseline (its manager may too)
    "changes.approve",
}
_ADMIN = (
    _MANAGE_TEAM
    | _ADMIN_CHANGES
    | {
        "members.manage",  # invite, change roles, remove
        "apikeys.manage",
        "webhooks.manage",
        "org.manage",  # organization settings
        "audit.view",  # the audit trail of the whole organization
    }
)

CAPABILITIES: dict[str, frozenset[str]] = {
    Role.VIEWER: frozenset(_READ),
    Role.MEMBER: frozenset(_WRITE),
    Role.MANAGER: frozenset(_MANAGE_TEAM),
    Role.ADMIN: frozenset(_ADMIN),
    Role.OWNER: frozenset(_ADMIN | {"org.delete", "owners.manage"}),
}

ALL_CAPABILITIES: frozenset[str] = frozenset().union(*CAPABILITIES.values())


def role_can(role: str, capability: str) -> bool:
    if capability not in ALL_CAPABILITIES:
        # A typo in a view's capability map must not silently deny (or allow) everyone.
        raise KeyError(f"Unknown capability {capability!r}")
    return capability in CAPABILITIES.get(role, frozenset())


def can_grant(granter_role: str, role: str) -> bool:
    """Whether someone with ``granter_role`` may give ``role`` to somebody (a person or an
    API key): nobody gives a role above their own, and only owners make owners."""
    if role == Role.OWNER:
        return role_can(granter_role, "owners.manage")
    return role_can(granter_role, "members.manage") and RANK[Role(role)] <= RANK[Role(granter_role)]


def can_change_holder(actor_role: str, holder_role: str) -> bool:
    """Whether someone with ``actor_role`` may change or remove a member, or change or
    revoke an API key, that holds ``holder_role``: an owner only by an owner.

    People and keys share the rule, so that an admin cannot do to an owner's key what they
    cannot do to the owner (a key with the owner role acts as an owner).
    """
    return holder_role != Role.OWNER or role_can(actor_role, "owners.manage")
