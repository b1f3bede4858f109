"""Contacts: save and delete (one primary contact per customer)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from accounts import audit
from accounts.models import Organization, User
from engagements.models import (
    Contact,
)
from engagements.services.shared import (
    _apply,
    _change_event,
    _clean_external_id,
    _locked,
    _same_org,
    _save,
)
from followup.kernel import events

CONTACT_FIELDS = (
    "customer",
    "name",
    "title",
    "email",
    "phone",
    "language",
    "external_id",
    "is_primary",
)


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
