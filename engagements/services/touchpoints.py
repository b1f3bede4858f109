"""Touchpoints: the one way every channel (page, API, import) logs, corrects and deletes
them, and what a touch moves (last touch, health, effort)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, F, Max, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit, inputs
from accounts.models import Organization, User
from accounts.tenancy import bulk_update_rows
from engagements import effort, followups
from engagements.calc.health import HealthSettings
from engagements.models import (
    Contact,
    Customer,
    Engagement,
    Touchpoint,
)
from engagements.services.health import engagement_health_refresh, engagements_health_refresh
from engagements.services.locks import _lock_touched
from engagements.services.shared import (
    _apply,
    _change_event,
    _check_external_id,
    _clean_external_id,
    _effort_stale,
    _is_member,
    _locked,
    _same_org,
)
from followup.engine.models import FollowUp
from followup.kernel import events

TOUCHPOINT_FIELDS = (
    "customer",
    "engagement",
    "channel",
    "occurred_at",
    "summary",
    "outcome",
    "sentiment",
    "satisfaction",
    "business_event",
    "effort_minutes",
    "next_step",
    "external_id",
)
# A touchpoint may be logged ahead a little (clock skew, a meeting about to start), never
# for next week: that is a follow-up, not a touchpoint.
FUTURE_TOLERANCE = timedelta(hours=12)


def _pick_engagement(
    org: Organization, customer: Customer, batch: TouchpointBatch | None = None
) -> Engagement | None:
    """The customer's only active engagement; none when there is none.

    With several active engagements the rep has to say which one: a guess would move the
    wrong engagement's health.
    """
    if batch is not None:
        active = batch.active_engagements(customer.pk)
    else:
        active = list(
            Engagement.objects.for_org(org)
            .filter(customer=customer, status=Engagement.Status.ACTIVE)
            .only("pk", "name", "customer_id")[:2]
        )
    if len(active) > 1:
        raise ValidationError(
            {
                "engagement": _("%(customer)s has several active engagements: choose one.")
                % {"customer": customer.name}
            }
        )
    return active[0] if active else None


def _validate_touchpoint(org: Organization, tp: Touchpoint, contacts: Sequence[Contact]) -> None:
    errors: dict[str, list[str]] = {}
    if tp.engagement is not None and tp.engagement.customer_id != tp.customer_id:
        errors.setdefault("engagement", []).append(
            _("This engagement belongs to another customer.")
        )
    if any(c.customer_id != tp.customer_id for c in contacts):
        errors.setdefault("contacts", []).append(_("Every contact must belong to the customer."))
    if tp.occurred_at and not inputs.in_range(tp.occurred_at):
        errors.setdefault("occurred_at", []).extend(_range_errors(tp.occurred_at))
    elif tp.occurred_at and tp.occurred_at > timezone.now() + FUTURE_TOLERANCE:
        errors.setdefault("occurred_at", []).append(
            _("A touchpoint cannot be in the future; plan a follow-up instead.")
        )
    try:
        # The relations were checked above (and the organization is the service's own);
        # the unique and check constraints are the rules checked here in Python
        # (_check_external_id, the field validators, the range above), so full_clean
        # need not ask the database again for each of them. The database still enforces
        # them all.
        tp.full_clean(
            exclude=["customer", "engagement", "logged_by", "organization"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _range_errors(value: Any) -> list[str]:
    try:
        inputs.DATE_RANGE(value)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def _touch_moved(org: Organization, *, customer_ids: set[Any], engagement_ids: set[Any]) -> None:
    """Recompute the denormalized last touch of the customers and engagements involved."""
    if len(customer_ids) + len(engagement_ids) > 2:
        _touch_moved_many(org, customer_ids=customer_ids, engagement_ids=engagement_ids)
        return
    tps = Touchpoint.objects.for_org(org)
    for customer_id in sorted(customer_ids):
        last = tps.filter(customer=customer_id).aggregate(last=Max("occurred_at"))["last"]
        Customer.objects.for_org(org).filter(pk=customer_id).exclude(
            last_touch_at=last
        ).update_versioned(last_touch_at=last)
    for engagement_id in sorted(engagement_ids):
        last = tps.filter(engagement=engagement_id).aggregate(last=Max("occurred_at"))["last"]
        Engagement.objects.for_org(org).filter(pk=engagement_id).exclude(
            last_touch_at=last
        ).update_versioned(last_touch_at=last)


class TouchpointBatch:
    """A many-row write of touchpoints (bulk API, CSV import) done set-based.

    The rows it updates were locked and read by the caller (``locked_by_external_id``),
    which also read every external id of the batch: an external id it did not find is
    free, so no row asks again. What one row would look up (the customer's active
    engagement, whether ``logged_by`` is a member) is looked up once for the batch; the
    INSERTs, UPDATEs, contact links, audit entries and events of the rows are written by
    ``flush`` in one statement each (and ``flush`` runs before a row that needs the
    others written: one that answers a follow-up, or repeats an external id)."""

    def __init__(
        self,
        org: Organization,
        *,
        items: Sequence[tuple[Touchpoint | None, Mapping[str, Any]]],
        locked: bool,
    ) -> None:
        from django.db.models import prefetch_related_objects

        self.org = org
        self.creates: list[Touchpoint] = []
        self.links: list[tuple[Touchpoint, list[Contact]]] = []
        self.updates: list[tuple[Touchpoint, list[str]]] = []
        self.audits: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.pending: set[int] = set()  # id() of rows written here but not flushed
        self.effort = effort.Deltas(org)
        existing = [row for row, _data in items if row is not None]
        # Rows the caller locked and read just now: written onto directly.
        self.fresh: set[int] = {id(row) for row in existing} if locked else set()
        self.external_ids: dict[str, Any] = {
            row.external_id: row.pk for row in existing if row.external_id
        }
        self.checked_external_ids = locked
        if existing:
            # What each row's checks and audit read of it (its customer, engagement and
            # contacts): one query per relation for the batch.
            prefetch_related_objects(existing, "contacts", "customer", "engagement")
        customer_ids = {getattr(data.get("customer"), "pk", None) for _row, data in items} | {
            row.customer_id for row in existing
        }
        self._active: dict[Any, list[Engagement]] = {pk: [] for pk in customer_ids if pk}
        for engagement in (
            Engagement.objects.for_org(org)
            .filter(customer__in=list(self._active), status=Engagement.Status.ACTIVE)
            .only("pk", "name", "customer_id")
            .order_by("pk")
        ):
            self._active[engagement.customer_id].append(engagement)
        self._members: dict[Any, bool] = {}

    def active_engagements(self, customer_id: Any) -> list[Engagement]:
        if customer_id not in self._active:
            self._active[customer_id] = list(
                Engagement.objects.for_org(self.org)
                .filter(customer=customer_id, status=Engagement.Status.ACTIVE)
                .only("pk", "name", "customer_id")
                .order_by("pk")
            )
        return self._active[customer_id][:2]

    def is_member(self, user: User) -> bool:
        if user.pk not in self._members:
            self._members[user.pk] = _is_member(self.org, user)
        return self._members[user.pk]

    def check_external_id(self, touchpoint: Touchpoint) -> None:
        if not self.checked_external_ids:
            _check_external_id(touchpoint)
            return
        external_id = touchpoint.external_id
        if not external_id:
            return
        owner = self.external_ids.setdefault(external_id, touchpoint.pk)
        if owner != touchpoint.pk:
            raise ValidationError(
                {
                    "external_id": _("Another %(kind)s already has the external id %(id)s.")
                    % {"kind": Touchpoint._meta.verbose_name, "id": external_id}
                }
            )

    def flush(self) -> None:
        """Write what the rows so far collected, one statement per table."""
        if self.creates:
            Touchpoint.objects.bulk_create(self.creates)
            for touchpoint in self.creates:
                touchpoint._state.adding = False
        if self.links:
            through = Touchpoint.contacts.through
            through.objects.bulk_create(
                [
                    through(touchpoint_id=touchpoint.pk, contact_id=contact.pk)
                    for touchpoint, contacts in self.links
                    for contact in contacts
                ]
            )
        if self.updates:
            now = timezone.now()
            fields: set[str] = set()
            for touchpoint, changed in self.updates:
                touchpoint.version = (touchpoint.version or 0) + 1
                touchpoint.updated_at = now
                fields.update(changed)
            bulk_update_rows(
                self.org,
                [touchpoint for touchpoint, _changed in self.updates],
                sorted(fields | {"version", "updated_at"}),
            )
        audit.record_many(self.org, self.audits)
        events.record_many(self.org, self.events)
        self.effort.flush()
        for touchpoint in self.creates:
            _known_contacts(touchpoint, next((c for t, c in self.links if t is touchpoint), []))
        self.creates, self.links, self.updates, self.audits, self.events = [], [], [], [], []
        self.pending = set()


def _known_contacts(touchpoint: Touchpoint, contacts: Sequence[Contact]) -> None:
    """A new touchpoint's contacts are the ones just given: keep them as if prefetched,
    so the page that shows the new entry does not ask the database again."""
    known = touchpoint.contacts.all()
    ordering = Contact._meta.ordering or ["pk"]
    rows = list(contacts)
    for field in reversed(ordering):
        rows.sort(key=attrgetter(str(field).lstrip("-")), reverse=str(field).startswith("-"))
    known._result_cache = rows
    setattr(known, "_prefetch_done", True)  # noqa: B010 - Django's own prefetch flags
    setattr(touchpoint, "_prefetched_objects_cache", {"contacts": known})  # noqa: B010


def _touch_moved_many(
    org: Organization, *, customer_ids: set[Any], engagement_ids: set[Any]
) -> None:
    """``_touch_moved`` set-based, for many rows (the caller holds their locks): per model,
    one MAX per group, one read of the current values and one UPDATE of those that move
    (version and updated_at move with them, as ``update_versioned`` does)."""
    now = timezone.now()
    for model, key, ids in (
        (Customer, "customer", customer_ids),
        (Engagement, "engagement", engagement_ids),
    ):
        if not ids:
            continue
        last = dict(
            Touchpoint.objects.for_org(org)
            .filter(**{f"{key}__in": list(ids)})
            .order_by()
            .values_list(key)
            .annotate(last=Max("occurred_at"))
            .values_list(key, "last")
        )
        moved: list[Any] = []
        for row in (
            model.objects.for_org(org)
            .filter(pk__in=list(ids))
            .only("pk", "last_touch_at", "version", "updated_at")
            .order_by("pk")
        ):
            value = last.get(row.pk)
            if row.last_touch_at != value:
                row.last_touch_at, row.version, row.updated_at = value, row.version + 1, now
                moved.append(row)
        if moved:
            bulk_update_rows(org, moved, ["last_touch_at", "version", "updated_at"])


def _touchpoint_write(
    *,
    org: Organization,
    actor: User | None,
    data: Mapping[str, Any],
    touchpoint: Touchpoint | None,
    source: str,
    batch: TouchpointBatch | None = None,
) -> tuple[Touchpoint, list[str], set[Any], set[Any]]:
    data = dict(data)
    _clean_external_id(data)
    seen = touchpoint
    if touchpoint is not None and batch is not None and id(touchpoint) in batch.pending:
        batch.flush()  # a repeated external id: what the earlier row made is written first
    if touchpoint is not None and (batch is None or id(touchpoint) not in batch.fresh):
        touchpoint = _locked(org, touchpoint)
    elif touchpoint is not None and batch is not None:
        batch.fresh.discard(id(touchpoint))
    customer = data.get("customer") or (touchpoint.customer if touchpoint else None)
    if customer is None:
        raise ValidationError({"customer": _("Choose a customer.")})
    _same_org(org, customer=customer, engagement=data.get("engagement"))
    created = touchpoint is None
    # Imports and back-fills may say who logged it (a member of the organization).
    logged_by = data.pop("logged_by", None)
    if logged_by is not None and not (
        batch.is_member(logged_by) if batch is not None else _is_member(org, logged_by)
    ):
        raise ValidationError({"logged_by": _("Must be a member of the organization.")})
    if touchpoint is None:
        touchpoint = Touchpoint(organization=org, logged_by=logged_by or actor, source=source)
        if data.get("occurred_at") is None:
            data["occurred_at"] = timezone.now()
        if data.get("effort_minutes") is None:
            data["effort_minutes"] = 0
    old_effort = None if created else effort.contribution(org, touchpoint)
    old_customer = None if created else touchpoint.customer_id
    old_engagement = None if created else touchpoint.engagement_id
    customer_changed = not created and "customer" in data and customer.pk != old_customer
    if data.get("engagement") is None and (created or "engagement" in data or customer_changed):
        data["engagement"] = _pick_engagement(org, customer, batch)
    contacts = data.pop("contacts", None)
    before = {} if created else audit.snapshot(touchpoint)
    changed = _apply(seen or touchpoint, touchpoint, data, TOUCHPOINT_FIELDS)
    contact_list = (
        list(contacts)
        if contacts is not None
        else ([] if created else list(touchpoint.contacts.all()))
    )
    _same_org(org, **{f"contacts.{i}": c for i, c in enumerate(contact_list)})
    if batch is not None:
        batch.check_external_id(touchpoint)
    else:
        _check_external_id(touchpoint)
    _validate_touchpoint(org, touchpoint, contact_list)
    if batch is not None and created:
        batch.creates.append(touchpoint)
        batch.pending.add(id(touchpoint))
        if contact_list:
            batch.links.append((touchpoint, contact_list))
    elif batch is not None and changed:
        batch.updates.append((touchpoint, list(changed)))
        batch.pending.add(id(touchpoint))
    elif created:
        touchpoint.save()
    elif changed:
        touchpoint.save(update_fields=changed)
    if contacts is not None and not created:
        touchpoint.contacts.set(contact_list)
        changed.append("contacts")
    elif contacts is not None and contact_list and batch is None:
        touchpoint.contacts.set(contact_list)
    if created and batch is None:
        _known_contacts(touchpoint, contact_list)
    new_effort = effort.contribution(org, touchpoint)
    if new_effort != old_effort:  # the effort roll-up, in this transaction
        deltas = batch.effort if batch is not None else effort.Deltas(org)
        deltas.touchpoint(old_effort, -1)
        deltas.touchpoint(new_effort, 1)
        if batch is None:
            deltas.flush()
    customers = {touchpoint.customer_id, old_customer} - {None}
    engagements = {touchpoint.engagement_id, old_engagement} - {None}
    if created or changed:
        _change_event(
            org=org,
            resource="touchpoint",
            instance=touchpoint,
            created=created,
            actor=actor,
            changed=changed,
            before=before,
            # Logging a touchpoint is the record itself (who, when, from where are on it);
            # the trail keeps corrections and deletions, not the stream of new ones.
            audit_creation=False,
            sink=batch,
        )
    return touchpoint, changed, customers, engagements


_LATER = '("last_touch_at" IS NULL OR "last_touch_at" < %s)'


def _touch_added(
    org: Organization, *, customer_id: Any, engagement_id: Any, occurred_at: datetime
) -> Engagement | None:
    """A new touchpoint moves last touch forward only: one UPDATE per row instead of a lock,
    a MAX over the history and an UPDATE. The UPDATE always matches the row, so it takes
    the same row locks in the same order as ``_lock_touched`` (customer, then engagement);
    version and updated_at move only when last touch does.

    Returns the engagement's row as the UPDATE left it (``RETURNING``), locked until commit:
    health reads it instead of locking and reading it once more."""
    now = timezone.now()
    later = Q(last_touch_at__isnull=True) | Q(last_touch_at__lt=occurred_at)
    if engagement_id is not None:
        _touch_customer(org, customer_id, occurred_at, later, now)
        table = Engagement._meta.db_table
        # In the order of the placeholders below.
        params: list[Any] = [occurred_at, now, occurred_at, occurred_at, occurred_at]
        params += [org.pk, engagement_id]
        if connection.vendor == "sqlite":
            params = [p.hex if isinstance(p, uuid.UUID) else p for p in params]
        # The organization is in the WHERE clause, as for_org would put it (raw() keeps no
        # filters); the values are parameters.
        sql = (
            f'UPDATE "{table}" SET'  # noqa: S608
            f' "updated_at" = CASE WHEN {_LATER} THEN %s ELSE "updated_at" END,'
            f' "version" = CASE WHEN {_LATER} THEN "version" + 1 ELSE "version" END,'
            f' "last_touch_at" = CASE WHEN {_LATER} THEN %s ELSE "last_touch_at" END'
            ' WHERE "organization_id" = %s AND "id" = %s RETURNING *'
        )
        rows = list(Engagement.objects.for_org(org).raw(sql, params))
        if rows:
            rows[0].organization = org
            return rows[0]
        return None
    _touch_customer(org, customer_id, occurred_at, later, now)
    return None


def _touches_added(org: Organization, added: Sequence[Touchpoint]) -> None:
    """``_touch_added`` for the new touchpoints of a batch, set-based: per model, the rows
    locked and read in one query (pk order: customers, then engagements, as
    ``_lock_touched``), last touch moved to the latest new one where that is later, in one
    UPDATE. No MAX over the history: new touchpoints only move last touch forward."""
    now = timezone.now()
    for model, key in ((Customer, "customer_id"), (Engagement, "engagement_id")):
        latest: dict[Any, datetime] = {}
        for tp in added:
            pk = getattr(tp, key)
            if pk is not None and (pk not in latest or tp.occurred_at > latest[pk]):
                latest[pk] = tp.occurred_at
        if not latest:
            continue
        moved: list[Any] = []
        for row in (
            model.objects.for_org(org)
            .filter(pk__in=list(latest))
            .select_for_update(of=("self",), no_key=True)
            .only("pk", "last_touch_at", "version", "updated_at")
            .order_by("pk")
        ):
            when = latest[row.pk]
            if row.last_touch_at is None or row.last_touch_at < when:
                row.last_touch_at, row.version, row.updated_at = when, row.version + 1, now
                moved.append(row)
        if moved:
            bulk_update_rows(org, moved, ["last_touch_at", "version", "updated_at"])


def _touch_customer(
    org: Organization, customer_id: Any, occurred_at: datetime, later: Q, now: datetime
) -> None:
    for model, pk in ((Customer, customer_id),):
        if pk is None:
            continue
        fields = model._meta
        model.objects.for_org(org).filter(pk=pk).update(
            last_touch_at=Case(
                When(later, then=Value(occurred_at)),
                default=F("last_touch_at"),
                output_field=fields.get_field("last_touch_at"),
            ),
            version=Case(
                When(later, then=F("version") + 1),
                default=F("version"),
                output_field=fields.get_field("version"),
            ),
            updated_at=Case(
                When(later, then=Value(now)),
                default=F("updated_at"),
                output_field=fields.get_field("updated_at"),
            ),
        )


def _after_touch(
    org: Organization,
    customers: set[Any],
    engagements: set[Any],
    settings: HealthSettings | None = None,
    added: Touchpoint | None = None,
    added_many: Sequence[Touchpoint] = (),
) -> None:
    locked = None
    if added_many:
        _touches_added(org, added_many)
    elif added is not None:
        locked = _touch_added(
            org,
            customer_id=added.customer_id,
            engagement_id=added.engagement_id,
            occurred_at=added.occurred_at,
        )
    else:
        _lock_touched(org, customer_ids=customers, engagement_ids=engagements)
        _touch_moved(org, customer_ids=customers, engagement_ids=engagements)
    _effort_stale(org)
    if len(engagements) > 1:
        engagements_health_refresh(org=org, engagement_ids=engagements, settings=settings)
        return
    for engagement_id in sorted(engagements):
        engagement_health_refresh(
            org=org,
            engagement_id=engagement_id,
            settings=settings,
            locked=locked if locked is not None and locked.pk == engagement_id else None,
        )


@transaction.atomic
def touchpoint_log(
    *,
    org: Organization,
    actor: User | None,
    customer: Customer,
    channel: str,
    summary: str,
    engagement: Engagement | None = None,
    occurred_at: datetime | None = None,
    contacts: Iterable[Contact] = (),
    outcome: str = "",
    sentiment: int | None = None,
    satisfaction: int | None = None,
    effort_minutes: int | None = 0,
    next_step: str = "",
    external_id: str | None = None,
    source: str = Touchpoint.Source.UI,
    answers: FollowUp | None = None,
    business_event: str = "",
) -> Touchpoint:
    """Log a touchpoint: the one way every channel (page, API, import) creates one.

    ``answers``: the open follow-up this touchpoint answers. It is completed in the same
    transaction (a cadence schedules its next occurrence), or nothing is logged.
    """
    data = {
        "customer": customer,
        "engagement": engagement,
        "channel": channel,
        "summary": summary,
        "occurred_at": occurred_at,
        "contacts": list(contacts),
        "outcome": outcome or "",
        "sentiment": sentiment,
        "satisfaction": satisfaction,
        "effort_minutes": effort_minutes,
        "next_step": next_step or "",
        "external_id": external_id,
        "business_event": business_event or "",
    }
    touchpoint, _changed, customers, engagements = _touchpoint_write(
        org=org, actor=actor, data=data, touchpoint=None, source=source
    )
    if answers is not None:
        followups.check_answer(org, answers, touchpoint.customer, touchpoint.engagement)
        followups.complete_with(followup=answers, touchpoint=touchpoint, actor=actor)
    _after_touch(org, customers, engagements, added=touchpoint)
    return touchpoint


@transaction.atomic
def touchpoint_update(
    *, org: Organization, actor: User | None, touchpoint: Touchpoint, data: Mapping[str, Any]
) -> Touchpoint:
    if data.get("answers") is not None:
        raise ValidationError({"followup": _("Only a new touchpoint can complete a follow-up.")})
    data = {k: v for k, v in data.items() if k != "answers"}
    touchpoint, changed, customers, engagements = _touchpoint_write(
        org=org, actor=actor, data=data, touchpoint=touchpoint, source=touchpoint.source
    )
    if {"occurred_at", "customer", "engagement", "sentiment", "satisfaction"} & set(changed):
        _after_touch(org, customers, engagements)
    return touchpoint


@transaction.atomic
def touchpoint_delete(*, org: Organization, actor: User | None, touchpoint: Touchpoint) -> None:
    touchpoint = _locked(org, touchpoint)
    customers = {touchpoint.customer_id}
    engagements = {touchpoint.engagement_id} - {None}
    events.record(org=org, type="touchpoint.deleted", subject=touchpoint, actor=actor)
    audit.record(
        org=org,
        action="touchpoint.deleted",
        actor=actor,
        obj=touchpoint,
        changes=audit.diff(audit.snapshot(touchpoint), {}),
    )
    effort.apply(org, [(touchpoint, -1)])
    touchpoint.delete()
    _after_touch(org, customers, engagements)
