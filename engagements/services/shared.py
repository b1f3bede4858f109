"""Helpers every write of business follow-up shares: scoping, locking, saving what changed,
the event and audit entry of a save."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone
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


class RowBatch:
    """A many-row write of one model by external id (bulk API, CSV import), set-based.

    The rows it updates were locked and read by the caller (``locked_by_external_id``),
    which read every external id of the batch too: an external id it did not find is
    free, so no row asks the database again; a repeat within the batch is caught here.
    INSERTs, UPDATEs, audit entries and events are collected and written by ``flush`` in
    one statement each (``flush`` runs first when a row repeats one written before)."""

    def __init__(self, org: Organization, model: type[Any], existing: Sequence[Any]) -> None:
        self.org, self.model = org, model
        self.creates: list[Any] = []
        self.updates: list[tuple[Any, list[str]]] = []
        self.audits: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.pending: set[int] = set()
        self.fresh: set[int] = {id(row) for row in existing}
        self.external_ids: dict[str, Any] = {
            row.external_id: row.pk for row in existing if row.external_id
        }
        self._members: dict[Any, bool] = {}

    def row(self, instance: Any) -> Any:
        """The row to write onto: the caller's locked copy the first time, else (a repeat
        of an external id) the row as written so far, locked."""
        if id(instance) in self.pending:
            self.flush()
        if id(instance) in self.fresh:
            self.fresh.discard(id(instance))
            return instance
        return _locked(self.org, instance)

    def is_member(self, user: User | None) -> bool:
        if user is None:
            return True
        if user.pk not in self._members:
            self._members[user.pk] = _is_member(self.org, user)
        return self._members[user.pk]

    def check_external_id(self, instance: Any) -> None:
        external_id = getattr(instance, "external_id", None)
        if not external_id:
            return
        owner = self.external_ids.setdefault(external_id, instance.pk)
        if owner != instance.pk:
            raise ValidationError(
                {
                    "external_id": _("Another %(kind)s already has the external id %(id)s.")
                    % {"kind": instance._meta.verbose_name, "id": external_id}
                }
            )

    def save(self, instance: Any, changed: Sequence[str], *, exclude: Sequence[str]) -> None:
        """``_save`` deferred: the same checks, the write collected for ``flush``. The
        relations in ``exclude`` were checked by the service (organization, members)."""
        self.check_external_id(instance)
        # The unique constraint of the external id is checked just above for the batch;
        # the primary key is new (UUIDv7) or the row's own.
        instance.full_clean(
            exclude=list(exclude), validate_unique=False, validate_constraints=False
        )
        if instance._state.adding:
            self.creates.append(instance)
        else:
            self.updates.append((instance, [f for f in changed if f != "team"]))
        self.pending.add(id(instance))

    def flush(self) -> None:
        if self.creates:
            self.model.objects.bulk_create(self.creates)
            for instance in self.creates:
                instance._state.adding = False
        if self.updates:
            now = timezone.now()
            fields: set[str] = set()
            for instance, changed in self.updates:
                instance.version = (instance.version or 0) + 1
                instance.updated_at = now
                fields.update(changed)
            tenancy.bulk_update_rows(
                self.org,
                [instance for instance, _changed in self.updates],
                sorted(fields | {"version", "updated_at"}),
            )
        audit.record_many(self.org, self.audits)
        events.record_many(self.org, self.events)
        self.creates, self.updates, self.audits, self.events = [], [], [], []
        self.pending = set()


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
    transaction.on_commit(lambda: selectors.effort_changed(org_id), robust=True)


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
    sink: Any = None,
) -> None:
    """The outbox event and the audit entry of a save (nothing when nothing changed).

    ``before`` is ``audit.snapshot`` of the instance taken before the change. ``sink``
    (a many-row write) collects them in its ``audits`` and ``events`` lists instead, to
    write them in one INSERT each."""
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
        entry = {
            "action": f"{resource}.{'created' if created else 'updated'}",
            "actor": actor,
            "obj": instance,
            "changes": changes,
        }
        if sink is not None:
            sink.audits.append(entry)
        else:
            audit.record(org=org, **entry)
    event: dict[str, Any] | None = None
    if created:
        event = {"type": f"{resource}.created", "subject": instance, "actor": actor}
    elif changed:
        event = {
            "type": f"{resource}.updated",
            "subject": instance,
            "actor": actor,
            "payload": {"changed": sorted(changed)},
        }
    if event is not None:
        if sink is not None:
            sink.events.append(event)
        else:
            events.record(org=org, **event)
