"""Helpers every write of business follow-up shares: scoping, locking, saving what changed,
the event and audit entry of a save."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import audit, tenancy
from accounts import selectors as people
from accounts.models import Organization, User
from accounts.tenancy import TenantModel
from engagements import selectors
from followup.kernel import events


def _same_org(org: Organization, **objects: Any) -> None:
    """A relation that slipped past form or serializer scoping is a bug; stop it here."""
    tenancy.require_same_org(org, **objects)


M = TypeVar("M", bound=TenantModel)


def _locked(org: Organization, instance: M) -> M:
    """``instance``'s row as it is now, locked until commit (and only if it is ``org``'s).

    Changes are checked against this copy and written onto it. The caller's instance was
    loaded earlier (a page, a bulk request) and may be stale: its status may have moved,
    and saving it would write its old ``version + 1``, so an ETag would repeat.
    """
    row: M | None = (
        type(instance)
        .objects.for_org(org)
        .select_for_update(of=("self",))
        .filter(pk=instance.pk)
        .first()
    )
    if row is None:  # another organization's row, or deleted meanwhile
        raise ValidationError(_("Not found in this organization."))
    return row


def _is_member(org: Organization, user: User | None) -> bool:
    return user is None or people.has_membership(org, user)


def _current(instance: Any, name: str) -> Any:
    try:
        return getattr(instance, name)
    except ObjectDoesNotExist:  # a relation not set yet on a new object
        return None


def _apply(seen: Any, row: Any, data: Mapping[str, Any], allowed: Sequence[str]) -> list[str]:
    """Set on ``row`` the values of ``data`` that differ from what the caller ``seen``.

    A form posts every field; the ones the person did not touch equal what their page
    loaded, and must not overwrite a change someone else made since (on ``row``).
    """
    changed = []
    for name in allowed:
        if name in data and _current(seen, name) != data[name]:
            setattr(row, name, data[name])
            changed.append(name)
    return changed


def _clean_external_id(data: dict[str, Any]) -> None:
    if "external_id" in data:
        data["external_id"] = (data["external_id"] or "").strip() or None


def _check_external_id(instance: Any) -> None:
    external_id = getattr(instance, "external_id", None)
    if external_id:
        taken = (
            type(instance)
            .objects.for_org(instance.organization)
            .filter(external_id=external_id)
            .exclude(pk=instance.pk)
            .exists()
        )
        if taken:
            raise ValidationError(
                {
                    "external_id": _("Another %(kind)s already has the external id %(id)s.")
                    % {"kind": instance._meta.verbose_name, "id": external_id}
                }
            )


def _save(instance: Any, changed: Sequence[str]) -> None:
    _check_external_id(instance)
    instance.full_clean()
    if instance._state.adding:
        instance.save()
    else:
        # Only what this call changed: the row's denormalized fields (health, last touch)
        # are kept by other services and must not be overwritten from a stale instance.
        instance.save(update_fields=[f for f in changed if f != "team"])


def _effort_stale(org: Organization) -> None:
    org_id = org.pk
    transaction.on_commit(lambda: selectors.effort_changed(org_id))


def _change_event(
    *,
    org: Organization,
    resource: str,
    instance: Any,
    created: bool,
    actor: User | None,
    changed: list[str],
    before: Mapping[str, Any] | None = None,
    audit_creation: bool = True,
) -> None:
    """The outbox event and the audit entry of a save (nothing when nothing changed).

    ``before`` is ``audit.snapshot`` of the instance taken before the change."""
    if (created and audit_creation) or (changed and not created):
        after = audit.snapshot(instance)
        if created:
            changes = audit.diff({}, after)
        else:
            olds = dict(before or {})
            changes = audit.diff(
                {k: olds.get(k) for k in changed if k in after},
                {k: after[k] for k in changed if k in after},
            )
            if "team" in changed:
                changes["team"] = ["…", "…"]  # people, shown on the page; ids say nothing
        audit.record(
            org=org,
            action=f"{resource}.{'created' if created else 'updated'}",
            actor=actor,
            obj=instance,
            changes=changes,
        )
    if created:
        events.record(org=org, type=f"{resource}.created", subject=instance, actor=actor)
    elif changed:
        events.record(
            org=org,
            type=f"{resource}.updated",
            subject=instance,
            actor=actor,
            payload={"changed": sorted(changed)},
        )
