"""Builders for business follow-up, through the services (so denormalized fields are right)."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

from django.utils import timezone

from engagements import services
from engagements.models import Contact, Customer, Engagement, Touchpoint

_n = count(1)


def make_customer(org, **fields) -> Customer:
    data = {"name": f"Customer {next(_n)}", **fields}
    return services.customer_save(org=org, actor=None, data=data)


def make_contact(org, customer=None, **fields) -> Contact:
    customer = customer or make_customer(org)
    data = {"customer": customer, "name": f"Contact {next(_n)}", **fields}
    return services.contact_save(org=org, actor=None, data=data)


def make_engagement(org, customer=None, **fields) -> Engagement:
    customer = customer or make_customer(org)
    data = {
        "customer": customer,
        "name": f"Engagement {next(_n)}",
        "started_on": date.today() - timedelta(days=30),
        "cadence_days": 14,
        **fields,
    }
    return services.engagement_save(org=org, actor=None, data=data)


def log(org, customer, actor=None, **fields) -> Touchpoint:
    fields.setdefault("channel", Touchpoint.Channel.CALL)
    fields.setdefault("summary", "Checked in")
    fields.setdefault("occurred_at", timezone.now())
    return services.touchpoint_log(org=org, actor=actor, customer=customer, **fields)
