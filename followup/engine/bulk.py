"""Bulk work: one action on many rows, all or nothing, with an undo that lasts a few minutes.

A bulk service loops over the existing services (``followup_complete``, ``followup_snooze``,
``followup_reassign``; an app's own, such as ``customer_save``) inside one transaction, so
either every row changes or none does, and records a ``BulkChange`` with each row's values
before and after. ``undo()`` restores the before-values through the services again, in one
transaction, if every row still shows what the action left (otherwise nothing is undone:
an undo never overwrites a later change).

Apps add their own scopes: ``register_scope("customers", undo=...)`` in ``ready()``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import Membership, Organization, User
from followup.engine import services
from followup.engine.models import BulkChange, FollowUp

UNDO_WINDOW = timedelta(minutes=5)
MAX_ROWS = 200
FOLLOWUP_ACTIONS = ("complete", "snooze", "reassign")

UndoHandler = Callable[[Organization, User, BulkChange], None]
_SCOPES: dict[str, UndoHandler] = {}


def register_scope(scope: str, *, undo: UndoHandler) -> None:
    _SCOPES[scope] = undo


def require(org: Organization, actor: User, capability: str) -> None:
    """The services' own check of the role: the page checks it too, but a bulk action is
    many writes at once and must not rely on its caller alone."""
    membership = Membership.objects.for_org(org).filter(user=actor).first()
    if membership is None or not membership.can(capability):
        raise PermissionDenied(_("Your role does not allow this."))


def record(
    *,
    org: Organization,
    actor: User,
    scope: str,
    action: str,
    items: list[dict[str, Any]],
    label: str,
) -> BulkChange:
    """Inside the bulk action's transaction: keep what it changed, and say so in the trail."""
    if scope not in _SCOPES:
        raise ValueError(f"No undo handler for bulk scope {scope!r}")
    now = timezone.now()
    # Undo lasts minutes; a day later nobody needs the rows any more.
    BulkChange.objects.for_org(org).filter(expires_at__lt=now - timedelta(days=1)).delete()
    change = BulkChange.objects.create(
        organization=org,
        actor=actor,
        scope=scope,
        action=action,
        count=len(items),
        items=items,
        expires_at=now + UNDO_WINDOW,
    )
    audit.record(
        org=org,
        action="bulk.applied",
        actor=actor,
        obj=change,
        object_repr=label,
        changes={"action": [None, f"{scope}.{action}"], "count": [None, len(items)]},
    )
    return change


def undo(*, org: Organization, actor: User, change: BulkChange) -> BulkChange:
    """Restore every row of ``change`` as it was, or nothing (``ValidationError``)."""
    with transaction.atomic():
        locked = BulkChange.objects.for_org(org).select_for_update().get(pk=change.pk)
        if locked.actor_id != actor.pk:
            raise PermissionDenied(_("Only the person who made a change can undo it."))
        if locked.undone_at is not None:
            raise ValidationError(_("This was undone already."))
        if locked.expires_at <= timezone.now():
            raise ValidationError(
                _("Undo lasts %(minutes)d minutes; this change can no longer be undone.")
                % {"minutes": UNDO_WINDOW.seconds // 60}
            )
        _SCOPES[locked.scope](org, actor, locked)
        locked.undone_at = timezone.now()
        locked.save(update_fields=["undone_at"])
        audit.record(
            org=org,
            action="bulk.undone",
            actor=actor,
            obj=locked,
            object_repr=f"{locked.scope}.{locked.action}",
            changes={"count": [None, locked.count]},
        )
    return locked


# --- Follow-ups ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    change: BulkChange
    count: int  # rows that changed (a reassign to the present owner changes nothing)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _label_of(followup: FollowUp, exc: Exception) -> ValidationError:
    return ValidationError(
        _("“%(title)s”: %(reason)s")
        % {
            "title": followup.title,
            "reason": " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc),
        }
    )


def followups_bulk(
    *,
    org: Organization,
    actor: User,
    followups: Sequence[FollowUp],
    action: str,
    snooze: str = "",
    owner: User | None = None,
) -> Applied:
    """Complete, snooze (by a snooze choice, per follow-up) or reassign every follow-up, in
    one transaction. A row that cannot take the action fails the whole batch."""
    if action not in FOLLOWUP_ACTIONS:
        raise ValueError(f"Unknown bulk action {action!r}")
    if not followups:
        raise ValidationError(_("Select at least one follow-up."))
    if len(followups) > MAX_ROWS:
        raise ValidationError(_("Select at most %(n)d at once.") % {"n": MAX_ROWS})
    if action == "reassign" and owner is None:
        raise ValidationError(_("Choose a member of this organization."))
    require(org, actor, "records.edit")
    items: list[dict[str, Any]] = []
    with transaction.atomic():
        for followup in sorted(followups, key=lambda f: f.pk):  # one lock order for everyone
            try:
                item = _apply_one(followup, actor, action, snooze, owner)
            except (ValidationError, services.TransitionError) as exc:
                raise _label_of(followup, exc) from None
            if item is not None:
                items.append(item)
        label = {
            "complete": _("%(n)d follow-ups done"),
            "snooze": _("%(n)d follow-ups snoozed"),
            "reassign": _("%(n)d follow-ups given to another owner"),
        }[action] % {"n": len(items)}
        change = record(
            org=org, actor=actor, scope="followups", action=action, items=items, label=label
        )
    return Applied(change=change, count=len(items))


def _apply_one(
    followup: FollowUp, actor: User, action: str, snooze: str, owner: User | None
) -> dict[str, Any] | None:
    if action == "complete":
        outcome = services.followup_complete(followup=followup, actor=actor)
        return {
            "id": str(followup.pk),
            "completed_at": _when(outcome.followup.completed_at),
            "next": str(outcome.next.pk) if outcome.next is not None else None,
        }
    if action == "snooze":
        until = services.snooze_target(followup, snooze)
        before = followup.due_at
        snoozed = services.followup_snooze(followup=followup, actor=actor, until=until)
        return {"id": str(followup.pk), "before": _when(before), "after": _when(snoozed.due_at)}
    assert owner is not None
    before_owner = followup.owner_id
    given = services.followup_reassign(followup=followup, actor=actor, owner=owner)
    if given.owner_id == before_owner:
        return None  # already theirs: nothing to do, nothing to undo
    return {"id": str(followup.pk), "before": str(before_owner), "after": str(given.owner_id)}


def _undo_followups(org: Organization, actor: User, change: BulkChange) -> None:
    ids = [uuid.UUID(item["id"]) for item in change.items]
    rows = {
        f.pk: f
        for f in FollowUp.objects.for_org(org)
        .select_for_update()
        .select_related("organization", "owner")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    owners: dict[Any, User] = {}
    if change.action == "reassign":
        owner_ids = {item["before"] for item in change.items}
        owners = {
            str(m.user_id): m.user
            for m in Membership.objects.for_org(org)
            .select_related("user")
            .filter(user_id__in=owner_ids)
        }
    for item in change.items:
        row = rows.get(uuid.UUID(item["id"]))
        if row is None:
            raise ValidationError(_("A follow-up of this change was deleted since."))
        if change.action == "complete":
            services.followup_undo_completion(
                followup=row,
                actor=actor,
                completed_at=_parsed(item["completed_at"]),
                next_id=uuid.UUID(item["next"]) if item["next"] else None,
            )
            continue
        if not row.is_open or _current(row, change.action) != item["after"]:
            raise ValidationError(
                _("“%(title)s” changed since; it can no longer be undone.") % {"title": row.title}
            )
        if change.action == "snooze":
            services.followup_update(followup=row, actor=actor, due_at=_parsed(item["before"]))
        else:
            previous = owners.get(item["before"])
            if previous is None:
                raise ValidationError(
                    _("The former owner of “%(title)s” is no longer a member.")
                    % {"title": row.title}
                )
            services.followup_update(followup=row, actor=actor, owner=previous)


def _current(row: FollowUp, action: str) -> str | None:
    return _when(row.due_at) if action == "snooze" else str(row.owner_id)


def _parsed(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(f"Not a time: {value!r}")
    return parsed


register_scope("followups", undo=_undo_followups)
