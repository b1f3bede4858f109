"""Bulk work on customers: a new owner or lifecycle status for many at once, undoable.

A thin loop over ``services.customer_save`` in one transaction (``followup.engine.bulk``
keeps the before-values and runs the undo).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Organization, User
from engagements import selectors, services
from engagements.models import Customer
from followup.engine import bulk
from followup.engine.bulk import Applied
from followup.engine.models import BulkChange

FIELDS = ("owner", "status")


def _value(customer: Customer, field: str) -> str | None:
    if field == "owner":
        return str(customer.owner_id) if customer.owner_id else None
    return str(getattr(customer, field))


def customers_bulk(
    *,
    org: Organization,
    actor: User,
    customers: Sequence[Customer],
    field: str,
    value: Any,
) -> Applied:
    """Set ``field`` (owner: a member or None; status: a lifecycle status) on every customer,
    all or nothing."""
    if field not in FIELDS:
        raise ValueError(f"Not a bulk field: {field!r}")
    if not customers:
        raise ValidationError(_("Select at least one customer."))
    if len(customers) > bulk.MAX_ROWS:
        raise ValidationError(_("Select at most %(n)d at once.") % {"n": bulk.MAX_ROWS})
    bulk.require(org, actor, "records.edit")
    items: list[dict[str, Any]] = []
    with transaction.atomic():
        ids = [c.pk for c in customers]
        locked = list(
            Customer.objects.for_org(org).select_for_update().filter(pk__in=ids).order_by("pk")
        )
        if len(locked) != len(set(ids)):
            raise ValidationError(_("A selected customer was deleted meanwhile."))
        for customer in locked:
            before = _value(customer, field)
            try:
                saved = services.customer_save(
                    org=org, actor=actor, data={field: value}, customer=customer
                )
            except ValidationError as exc:
                raise ValidationError(
                    _("“%(name)s”: %(reason)s")
                    % {"name": customer.name, "reason": " ".join(exc.messages)}
                ) from None
            after = _value(saved, field)
            if after != before:
                items.append(
                    {"id": str(customer.pk), "field": field, "before": before, "after": after}
                )
        label = _("%(n)d customers changed") % {"n": len(items)}
        change = bulk.record(
            org=org, actor=actor, scope="customers", action=field, items=items, label=label
        )
    return Applied(change=change, count=len(items))


def undo_customers(org: Organization, actor: User, change: BulkChange) -> None:
    field = change.action
    ids = [uuid.UUID(item["id"]) for item in change.items]
    rows = {
        c.pk: c
        for c in Customer.objects.for_org(org).select_for_update().filter(pk__in=ids).order_by("pk")
    }
    people = {}
    if field == "owner":
        wanted = [item["before"] for item in change.items if item["before"]]
        people = {str(u.pk): u for u in selectors.org_people(org).filter(pk__in=wanted)}
    for item in change.items:
        customer = rows.get(uuid.UUID(item["id"]))
        if customer is None:
            raise ValidationError(_("A customer of this change was deleted since."))
        if _value(customer, field) != item["after"]:
            raise ValidationError(
                _("“%(name)s” changed since; it can no longer be undone.") % {"name": customer.name}
            )
        value: Any = item["before"]
        if field == "owner" and value is not None:
            value = people.get(value)
            if value is None:
                raise ValidationError(
                    _("The former owner of “%(name)s” is no longer a member.")
                    % {"name": customer.name}
                )
        services.customer_save(org=org, actor=actor, data={field: value}, customer=customer)


def register() -> None:
    bulk.register_scope("customers", undo=undo_customers)
