"""Customers: save and delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import Organization, User
from engagements import effort
from engagements.models import (
    Customer,
)
from engagements.services.shared import (
    RowBatch,
    _apply,
    _change_event,
    _clean_external_id,
    _is_member,
    _locked,
    _save,
)
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


def customer_save(
    *,
    org: Organization,
    actor: User | None,
    data: Mapping[str, Any],
    customer: Customer | None = None,
    batch: RowBatch | None = None,
) -> Customer:
    """Create or change a customer. ``batch`` (``upserts.customers_save_many``): a row of
    a many-row write, whose statements the batch writes at its end; it runs in the
    batch's transaction without a savepoint of its own (a failing row fails the batch,
    so there is nothing to roll back to: two round trips fewer per row)."""
    with transaction.atomic(savepoint=batch is None):
        return _customer_save(org=org, actor=actor, data=data, customer=customer, batch=batch)


def _customer_save(
    *,
    org: Organization,
    actor: User | None,
    data: Mapping[str, Any],
    customer: Customer | None,
    batch: RowBatch | None,
) -> Customer:
    data = dict(data)
    _clean_external_id(data)
    owner = data.get("owner")
    if not (batch.is_member(owner) if batch is not None else _is_member(org, owner)):
        raise ValidationError({"owner": _("The owner must be a member of the organization.")})
    created = customer is None
    if customer is None:
        row = Customer(organization=org)
    elif batch is not None:
        row = batch.row(customer)
    else:
        row = _locked(org, customer)
    before = audit.snapshot(row)
    changed = _apply(customer or row, row, data, CUSTOMER_FIELDS)
    if batch is not None and (created or changed):
        batch.save(row, changed, exclude=["organization", "owner"])
    elif created or changed:
        _save(row, changed)
    _change_event(
        sink=batch,
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
    effort.customer_removed(org, customer.pk)
    customer.delete()
