"""Engagements and their KPIs; handing a leaving member's records over."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit, inputs
from accounts.models import Organization, User
from engagements import selectors
from engagements.models import (
    Customer,
    Engagement,
    Kpi,
)
from engagements.services.health import _customer_health_refresh, engagement_health_refresh
from engagements.services.shared import (
    _apply,
    _change_event,
    _clean_external_id,
    _effort_stale,
    _is_member,
    _locked,
    _same_org,
    _save,
)
from followup.kernel import events

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
        team_before = set(engagement.team.values_list("pk", flat=True)) if not created else set()
        engagement.team.set(team)
        if team_before != {u.pk for u in team}:
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
