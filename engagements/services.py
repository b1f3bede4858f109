"""State changes of business follow-up: one keyword-only function each, one transaction each.

Pages, the API, CSV imports and the demo all write through here, so a touchpoint logged
from a phone, a CRM or a file has the same effects: the engagement's last touch moves,
health is recomputed (and a red episode notifies once), and events go to the outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit, inputs, tenancy
from accounts.models import Organization, User
from accounts.tenancy import TenantModel
from engagements import followups, selectors
from engagements.calc.health import RED, Health, HealthSettings, compute
from engagements.models import (
    Contact,
    Customer,
    Engagement,
    HealthSnapshot,
    ImportJob,
    Kpi,
    Touchpoint,
)
from followup.engine import notifications
from followup.engine.models import FollowUp
from followup.kernel import events

CUSTOMER_FIELDS = (
    "name",
    "external_id",
    "industry",
    "tier",
    "status",
    "owner",
    "annual_value",
    "currency",
    "notes",
)
CONTACT_FIELDS = ("customer", "name", "title", "email", "phone", "external_id", "is_primary")
ENGAGEMENT_FIELDS = (
    "customer",
    "name",
    "objective",
    "owner",
    "status",
    "started_on",
    "cadence_days",
    "external_id",
)
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
    return user is None or selectors.org_people(org).filter(pk=user.pk).exists()


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


# --- Lock order ------------------------------------------------------------------------
# Writes of many rows take their locks in one global order, so that concurrent writers (two
# CRM syncs of overlapping sets, an import beside a sync) wait for each other instead of
# deadlocking on PostgreSQL (SQLite serializes writers anyway): first the rows a write
# updates, by primary key; then the rows it inserts, by the external id they claim (its
# unique index makes a second writer of the same id wait); then the customers and
# engagements whose last touch and health move, customers before engagements, each by
# primary key. The locks are FOR NO KEY UPDATE: nothing here changes a key, and the weaker
# lock does not block the foreign-key checks (KEY SHARE) of inserts that point at the row.


def locked_by_external_id(
    *, org: Organization, model: type[Any], external_ids: Iterable[str | None]
) -> dict[str, Any]:
    """The rows of ``model`` with these external ids, locked until commit in pk order."""
    wanted = {external_id for external_id in external_ids if external_id}
    if not wanted:
        return {}
    rows = (
        model.objects.for_org(org)
        .filter(external_id__in=wanted)
        .select_for_update(of=("self",), no_key=True)
        .order_by("pk")
    )
    return {row.external_id: row for row in rows}


def write_order(items: Sequence[tuple[Any, Mapping[str, Any]]]) -> list[int]:
    """The indexes of ``(existing, data)`` items in the order a many-item write applies them:
    updates first (their rows are locked already), then inserts by external id. The sort is
    stable, so a repeated external id still updates what its earlier item made."""
    return sorted(
        range(len(items)),
        key=lambda index: (
            items[index][0] is None,
            items[index][1].get("external_id") or "",
        ),
    )


def _lock_touched(org: Organization, *, customer_ids: set[Any], engagement_ids: set[Any]) -> None:
    """Lock the customers, then the engagements, whose last touch and health will move."""
    for model, ids in ((Customer, customer_ids), (Engagement, engagement_ids)):
        if ids:
            list(
                model.objects.for_org(org)
                .filter(pk__in=ids)
                .select_for_update(no_key=True)
                .order_by("pk")
                .only("pk")
            )


# --- Customers -------------------------------------------------------------------------


@transaction.atomic
def customer_save(
    *,
    org: Organization,
    actor: User | None,
    data: Mapping[str, Any],
    customer: Customer | None = None,
) -> Customer:
    data = dict(data)
    _clean_external_id(data)
    if not _is_member(org, data.get("owner")):
        raise ValidationError({"owner": _("The owner must be a member of the organization.")})
    created = customer is None
    row = Customer(organization=org) if customer is None else _locked(org, customer)
    before = audit.snapshot(row)
    changed = _apply(customer or row, row, data, CUSTOMER_FIELDS)
    if created or changed:
        _save(row, changed)
    _change_event(
        org=org,
        resource="customer",
        instance=row,
        created=created,
        actor=actor,
        changed=changed,
        before=before,
    )
    return row


@transaction.atomic
def customer_delete(*, org: Organization, actor: User | None, customer: Customer) -> None:
    customer = _locked(org, customer)
    events.record(
        org=org,
        type="customer.deleted",
        subject=customer,
        actor=actor,
        payload={"name": customer.name},
    )
    audit.record(
        org=org,
        action="customer.deleted",
        actor=actor,
        obj=customer,
        changes=audit.diff(audit.snapshot(customer), {}),
        note=_("With %(e)d engagements, %(t)d touchpoints and %(c)d contacts.")
        % {
            "e": customer.engagements.count(),
            "t": customer.touchpoints.count(),
            "c": customer.contacts.count(),
        },
    )
    customer.delete()


# --- Contacts --------------------------------------------------------------------------


@transaction.atomic
def contact_save(
    *,
    org: Organization,
    actor: User | None,
    data: Mapping[str, Any],
    contact: Contact | None = None,
) -> Contact:
    data = dict(data)
    _clean_external_id(data)
    _same_org(org, customer=data.get("customer"))
    created = contact is None
    row = Contact(organization=org) if contact is None else _locked(org, contact)
    before = audit.snapshot(row)
    changed = _apply(contact or row, row, data, CONTACT_FIELDS)
    if row.is_primary and ("is_primary" in changed or "customer" in changed):
        # One primary contact per customer: the new one takes over.
        Contact.objects.for_org(org).filter(customer=row.customer_id, is_primary=True).exclude(
            pk=row.pk
        ).update_versioned(is_primary=False)
    if created or changed:
        _save(row, changed)
    _change_event(
        org=org,
        resource="contact",
        instance=row,
        created=created,
        actor=actor,
        changed=changed,
        before=before,
    )
    return row


@transaction.atomic
def contact_delete(*, org: Organization, actor: User | None, contact: Contact) -> None:
    contact = _locked(org, contact)
    events.record(org=org, type="contact.deleted", subject=contact, actor=actor)
    audit.record(
        org=org,
        action="contact.deleted",
        actor=actor,
        obj=contact,
        changes=audit.diff(audit.snapshot(contact), {}),
    )
    contact.delete()


# --- Engagements -----------------------------------------------------------------------


def _check_transition(old: str, new_status: str) -> None:
    if new_status != old and new_status not in Engagement.TRANSITIONS.get(old, frozenset()):
        raise ValidationError(
            {
                "status": _("An engagement cannot go from %(old)s to %(new)s.")
                % {
                    "old": Engagement.Status(old).label,
                    "new": Engagement.Status(new_status).label,
                }
            }
        )


@transaction.atomic
def engagement_save(
    *,
    org: Organization,
    actor: User | None,
    data: Mapping[str, Any],
    engagement: Engagement | None = None,
) -> Engagement:
    data = dict(data)
    _clean_external_id(data)
    _same_org(org, customer=data.get("customer"))
    if not _is_member(org, data.get("owner")):
        raise ValidationError({"owner": _("The owner must be a member of the organization.")})
    inputs.check_date(data.get("started_on"), "started_on")
    team = data.pop("team", None)
    if team is not None:
        team = list(team)
        outsiders = {u.pk for u in team} - set(
            selectors.org_people(org)
            .filter(pk__in=[u.pk for u in team])
            .values_list("pk", flat=True)
        )
        if outsiders:
            raise ValidationError({"team": _("Every team member must belong to the organization.")})
    created = engagement is None
    row = (
        Engagement(organization=org, started_on=timezone.localdate())
        if engagement is None
        else _locked(org, engagement)
    )
    old_customer_id = None if created else row.customer_id
    old_status = row.status
    before = audit.snapshot(row)
    changed = _apply(engagement or row, row, data, ENGAGEMENT_FIELDS)
    if not created and "status" in changed and row.status in Engagement.Status.values:
        # Checked against the status the row has now, not the one the page showed.
        _check_transition(old_status, row.status)
    engagement = row
    if created or changed:
        _save(engagement, changed)
    if team is not None:
        before = set(engagement.team.values_list("pk", flat=True)) if not created else set()
        engagement.team.set(team)
        if before != {u.pk for u in team}:
            changed.append("team")
    _effort_stale(org)
    _change_event(
        org=org,
        resource="engagement",
        instance=engagement,
        created=created,
        actor=actor,
        changed=changed,
        before=before,
    )
    if created or {"cadence_days", "started_on", "status", "customer"} & set(changed):
        engagement_health_refresh(org=org, engagement_id=engagement.pk)
    if {"status", "customer"} & set(changed):
        # The customer shows its worst *active* engagement, so a status move may change it
        # even when the engagement's own health did not.
        for customer_id in {engagement.customer_id, old_customer_id} - {None}:
            _customer_health_refresh(org, customer_id)
    return engagement


@transaction.atomic
def engagement_delete(*, org: Organization, actor: User | None, engagement: Engagement) -> None:
    engagement = _locked(org, engagement)
    customer_id = engagement.customer_id
    events.record(org=org, type="engagement.deleted", subject=engagement, actor=actor)
    audit.record(
        org=org,
        action="engagement.deleted",
        actor=actor,
        obj=engagement,
        changes=audit.diff(audit.snapshot(engagement), {}),
    )
    engagement.delete()
    _customer_health_refresh(org, customer_id)


@transaction.atomic
def kpi_save(
    *,
    org: Organization,
    actor: User | None,
    engagement: Engagement,
    data: Mapping[str, Any],
    kpi: Kpi | None = None,
) -> Kpi:
    _same_org(org, engagement=engagement)
    created = kpi is None
    row = Kpi(organization=org, engagement=engagement) if kpi is None else _locked(org, kpi)
    if row.engagement_id != engagement.pk:
        raise ValidationError({"engagement": _("This KPI belongs to another engagement.")})
    changed = _apply(kpi or row, row, data, ("name", "metric", "target", "unit", "manual_value"))
    kpi = row
    if kpi.metric != Kpi.Metric.MANUAL and kpi.manual_value is not None:
        kpi.manual_value = None
        changed.append("manual_value")
    if created or changed:
        _save(kpi, changed)
        events.record(
            org=org,
            type="engagement.updated",
            subject=engagement,
            actor=actor,
            payload={"changed": ["kpis"]},
        )
    return kpi


@transaction.atomic
def kpi_delete(*, org: Organization, actor: User | None, kpi: Kpi) -> None:
    kpi = _locked(org, kpi)
    engagement = kpi.engagement
    audit.record(
        org=org,
        action="kpi.deleted",
        actor=actor,
        obj=kpi,
        changes=audit.diff(audit.snapshot(kpi), {}),
    )
    kpi.delete()
    events.record(
        org=org,
        type="engagement.updated",
        subject=engagement,
        actor=actor,
        payload={"changed": ["kpis"]},
    )


@transaction.atomic
def kpis_replace(
    *,
    org: Organization,
    actor: User | None,
    engagement: Engagement,
    items: Iterable[Mapping[str, Any]],
) -> list[Kpi]:
    """The API's ``kpis`` list replaces the engagement's KPIs (matched by name)."""
    existing = {k.name: k for k in Kpi.objects.for_org(org).filter(engagement=engagement)}
    kept = []
    for item in items:
        kept.append(
            kpi_save(
                org=org,
                actor=actor,
                engagement=engagement,
                data=item,
                kpi=existing.pop(item["name"], None),
            )
        )
    for stale in existing.values():
        stale.delete()
    return kept


# --- A member leaves ----------------------------------------------------------------------


@dataclass(frozen=True)
class RecordsHandedOver:
    customers: int
    engagements: int
    teams: int  # engagement teams the person was taken off


@transaction.atomic
def records_hand_over(
    *, org: Organization, actor: User | None, person: User, successor: User | None
) -> RecordsHandedOver:
    """``person`` is leaving ``org``: the customers and engagements they own go to
    ``successor`` (None: they keep no owner, for a manager to assign), and they leave every
    engagement team. The rows are locked up front, customers then engagements, each in pk
    order (see "Lock order"); each change is a ``<resource>.updated`` event."""
    if not _is_member(org, successor):
        raise ValidationError({"owner": _("The owner must be a member of the organization.")})
    customers = list(
        Customer.objects.for_org(org)
        .filter(owner=person)
        .select_for_update(of=("self",), no_key=True)
        .order_by("pk")
    )
    on_team = set(Engagement.objects.for_org(org).filter(team=person).values_list("pk", flat=True))
    engagements = list(
        Engagement.objects.for_org(org)
        .filter(Q(owner=person) | Q(pk__in=on_team))
        .select_for_update(of=("self",), no_key=True)
        .order_by("pk")
    )
    owned = [e for e in engagements if e.owner_id == person.pk]
    for model, rows, resource in (
        (Customer, customers, "customer"),
        (Engagement, owned, "engagement"),
    ):
        model.objects.for_org(org).filter(pk__in=[row.pk for row in rows]).update_versioned(
            owner=successor
        )
        for row in rows:
            events.record(
                org=org,
                type=f"{resource}.updated",
                subject=row,
                actor=actor,
                payload={"changed": ["owner"]},
            )
    teams = [e for e in engagements if e.pk in on_team]
    for engagement in teams:
        engagement.team.remove(person)
        events.record(
            org=org,
            type="engagement.updated",
            subject=engagement,
            actor=actor,
            payload={"changed": ["team"]},
        )
    Engagement.objects.for_org(org).filter(pk__in=[e.pk for e in teams]).update_versioned()
    return RecordsHandedOver(customers=len(customers), engagements=len(owned), teams=len(teams))


# --- Touchpoints -----------------------------------------------------------------------


def _pick_engagement(org: Organization, customer: Customer) -> Engagement | None:
    """The customer's only active engagement; none when there is none.

    With several active engagements the rep has to say which one: a guess would move the
    wrong engagement's health.
    """
    active = list(selectors.active_engagements_of(customer).only("pk", "name")[:2])
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
        tp.full_clean(exclude=["customer", "engagement", "logged_by"])
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


def _touchpoint_write(
    *,
    org: Organization,
    actor: User | None,
    data: Mapping[str, Any],
    touchpoint: Touchpoint | None,
    source: str,
) -> tuple[Touchpoint, list[str], set[Any], set[Any]]:
    data = dict(data)
    _clean_external_id(data)
    seen = touchpoint
    if touchpoint is not None:
        touchpoint = _locked(org, touchpoint)
    customer = data.get("customer") or (touchpoint.customer if touchpoint else None)
    if customer is None:
        raise ValidationError({"customer": _("Choose a customer.")})
    _same_org(org, customer=customer, engagement=data.get("engagement"))
    created = touchpoint is None
    # Imports and back-fills may say who logged it (a member of the organization).
    logged_by = data.pop("logged_by", None)
    if logged_by is not None and not _is_member(org, logged_by):
        raise ValidationError({"logged_by": _("Must be a member of the organization.")})
    if created:
        touchpoint = Touchpoint(organization=org, logged_by=logged_by or actor, source=source)
        if data.get("occurred_at") is None:
            data["occurred_at"] = timezone.now()
        if data.get("effort_minutes") is None:
            data["effort_minutes"] = 0
    old_customer = None if created else touchpoint.customer_id
    old_engagement = None if created else touchpoint.engagement_id
    customer_changed = not created and "customer" in data and customer.pk != old_customer
    if data.get("engagement") is None and (created or "engagement" in data or customer_changed):
        data["engagement"] = _pick_engagement(org, customer)
    contacts = data.pop("contacts", None)
    before = {} if created else audit.snapshot(touchpoint)
    changed = _apply(seen or touchpoint, touchpoint, data, TOUCHPOINT_FIELDS)
    contact_list = (
        list(contacts)
        if contacts is not None
        else ([] if created else list(touchpoint.contacts.all()))
    )
    _same_org(org, **{f"contacts.{i}": c for i, c in enumerate(contact_list)})
    _check_external_id(touchpoint)
    _validate_touchpoint(org, touchpoint, contact_list)
    if created:
        touchpoint.save()
    elif changed:
        touchpoint.save(update_fields=changed)
    if contacts is not None:
        touchpoint.contacts.set(contact_list)
        if not created:
            changed.append("contacts")
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
        )
    return touchpoint, changed, customers, engagements


def _after_touch(
    org: Organization,
    customers: set[Any],
    engagements: set[Any],
    settings: HealthSettings | None = None,
) -> None:
    _lock_touched(org, customer_ids=customers, engagement_ids=engagements)
    _touch_moved(org, customer_ids=customers, engagement_ids=engagements)
    _effort_stale(org)
    for engagement_id in sorted(engagements):
        engagement_health_refresh(org=org, engagement_id=engagement_id, settings=settings)


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
    _after_touch(org, customers, engagements)
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
    touchpoint.delete()
    _after_touch(org, customers, engagements)


class BulkItemError(ValidationError):
    """One item of a many-item write failed; ``index`` says which, ``error`` why."""

    def __init__(self, index: int, error: ValidationError) -> None:
        super().__init__(error.messages)
        self.index = index
        self.error = error

    @property
    def detail(self) -> dict[str, list[str]] | list[str]:
        return self.error.message_dict if hasattr(self.error, "error_dict") else self.error.messages


@transaction.atomic
def touchpoints_log_many(
    *,
    org: Organization,
    actor: User | None,
    items: Sequence[tuple[Touchpoint | None, Mapping[str, Any]]],
    source: str,
) -> list[tuple[Touchpoint, bool]]:
    """Create or update many touchpoints (bulk API, CSV import) in one transaction.

    Each item has the same effects as ``touchpoint_log``; health is recomputed once per
    engagement at the end instead of once per row. Items are written in ``write_order``
    (see "Lock order"); results come back in the items' order. A failing item raises
    ``BulkItemError``. The caller locks the touchpoints to update
    (``locked_by_external_id``) before it reads them.
    """
    results: dict[int, tuple[Touchpoint, bool]] = {}
    customers: set[Any] = set()
    engagements: set[Any] = set()
    for index in write_order(items):
        existing, data = items[index]
        data = dict(data)
        answers = data.pop("answers", None)
        try:
            if answers is not None and existing is not None:
                raise ValidationError(
                    {"followup": _("Only a new touchpoint can complete a follow-up.")}
                )
            tp, _changed, c, e = _touchpoint_write(
                org=org, actor=actor, data=data, touchpoint=existing, source=source
            )
            if answers is not None:
                followups.check_answer(org, answers, tp.customer, tp.engagement)
                followups.complete_with(followup=answers, touchpoint=tp, actor=actor)
        except ValidationError as exc:
            raise BulkItemError(index, exc) from None
        customers |= c
        engagements |= e
        results[index] = (tp, existing is None)
    _after_touch(org, customers, engagements, selectors.health_settings(org))
    return [results[index] for index in range(len(items))]


# --- Health ----------------------------------------------------------------------------

RED_KIND = "engagement.turned_red"


def _red_dedupe_key(engagement: Engagement) -> str:
    return f"engagement-red:{engagement.pk}:{engagement.red_since:%Y%m%dT%H%M%S.%f}"


def engagement_health_refresh(
    *,
    org: Organization,
    engagement_id: Any,
    now: datetime | None = None,
    settings: HealthSettings | None = None,
    counts: tuple[int, int | None] | None = None,
) -> Health:
    """Recompute one engagement's health; on a change of level, record it and, on turning
    red, notify the owner and managers once for the episode."""
    now = now or timezone.now()
    settings = settings or selectors.health_settings(org)
    with transaction.atomic():
        # The row lock serializes recomputes, so two of them cannot both see "not red yet"
        # and open two red episodes.
        engagement = (
            Engagement.objects.for_org(org)
            .select_for_update(of=("self",), no_key=True)
            .select_related("organization", "owner", "customer")
            .get(pk=engagement_id)
        )
        health = compute(
            selectors.health_inputs(engagement, now=now, settings=settings, counts=counts), settings
        )
        old_level, old_score = engagement.health_level, engagement.health_score
        signals = health.signals_as_json()
        if (health.score, health.level, signals) == (
            old_score,
            old_level,
            engagement.health_signals,
        ):
            return health
        updates: dict[str, Any] = {
            "health_score": health.score,
            "health_level": health.level,
            "health_signals": signals,
            "health_computed_at": now,
        }
        turned_red = health.level == RED and old_level != RED
        if turned_red:
            updates["red_since"] = now
        elif health.level != RED:
            updates["red_since"] = None
        Engagement.objects.for_org(org).filter(pk=engagement.pk).update_versioned(**updates)
        for name, value in updates.items():
            setattr(engagement, name, value)
        if old_level != health.level:
            events.record(
                org=org,
                type="engagement.health_changed",
                subject=engagement,
                payload={
                    "from": old_level or None,
                    "to": health.level,
                    "score": health.score,
                    "customer": str(engagement.customer_id),
                },
            )
        if turned_red:
            notifications.notify(
                org=org,
                recipients=selectors.notify_on_red(engagement),
                kind=RED_KIND,
                params={"engagement": engagement.name, "customer": engagement.customer.name},
                url=reverse(
                    "engagements:engagement_detail",
                    kwargs={"org_slug": org.slug, "pk": engagement.pk},
                ),
                subject=engagement,
                dedupe_key=_red_dedupe_key(engagement),
            )
        _customer_health_refresh(org, engagement.customer_id)
    return health


def _customer_health_refresh(org: Organization, customer_id: Any) -> None:
    """The customer shows its worst active engagement."""
    worst = (
        Engagement.objects.for_org(org)
        .filter(customer=customer_id, status=Engagement.Status.ACTIVE, health_score__isnull=False)
        .order_by("health_score")
        .values("health_score", "health_level")
        .first()
    ) or {"health_score": None, "health_level": ""}
    Customer.objects.for_org(org).filter(pk=customer_id).exclude(**worst).update_versioned(**worst)


def health_snapshot_take(
    *, org: Organization, engagement_ids: Iterable[Any], now: datetime | None = None
) -> int:
    """Refresh health and store today's snapshot (org's time zone) for each engagement.

    Idempotent per engagement per day: a second run the same day overwrites the row with
    the current value instead of adding one.
    """
    now = now or timezone.now()
    day = now.astimezone(selectors.org_zone(org)).date()
    settings = selectors.health_settings(org)
    ids = list(engagement_ids)
    counts = selectors.followup_and_risk_counts(org, ids, now=now)
    taken = 0
    for engagement_id in ids:
        if not Engagement.objects.for_org(org).filter(pk=engagement_id).exists():
            continue  # deleted since the tick listed it
        health = engagement_health_refresh(
            org=org,
            engagement_id=engagement_id,
            now=now,
            settings=settings,
            counts=counts[engagement_id],
        )
        HealthSnapshot.objects.for_org(org).update_or_create(
            organization=org,
            engagement_id=engagement_id,
            day=day,
            defaults={"score": health.score, "level": health.level},
        )
        taken += 1
    return taken


@transaction.atomic
def health_settings_update(
    *, org: Organization, actor: User | None, values: Mapping[str, Any]
) -> HealthSettings:
    settings = HealthSettings(**{**HealthSettings().as_dict(), **values})
    try:
        settings.validate()
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    org = Organization.objects.select_for_update().get(pk=org.pk)
    before = HealthSettings.from_dict((org.settings or {}).get("health")).as_dict()
    org.settings = {**(org.settings or {}), "health": settings.as_dict()}
    org.save(update_fields=["settings"])
    audit.record(
        org=org,
        action="health_settings.updated",
        actor=actor,
        obj=org,
        changes=audit.diff(before, settings.as_dict()),
    )
    org_id = str(org.pk)

    def recompute() -> None:
        from engagements.tasks import refresh_org_health

        refresh_org_health.delay(org_id)

    transaction.on_commit(recompute)
    return settings


# --- Imports ---------------------------------------------------------------------------


def import_start(
    *,
    org: Organization,
    actor: User | None,
    kind: str,
    filename: str,
    content: str,
    queue: Callable[[str, str], bool],
) -> ImportJob:
    """Store the file and queue its import after commit (the worker must see the row).

    ``queue`` hands the task to the broker (``engagements.tasks.queue_import``). When the
    broker is unreachable the job is kept and waits for the requeue tick; the person sees
    that it waits, not an error.
    """
    job = ImportJob.objects.create(
        organization=org,
        kind=kind,
        filename=filename,
        content=content,
        created_by=actor,
        timezone=getattr(actor, "timezone", None) or org.timezone,
    )
    job_id = job.pk

    def dispatch() -> None:
        from engagements import imports

        imports.queue_job(org=org, job_id=job_id, queue=queue)

    transaction.on_commit(dispatch)
    return job
