"""The monthly effort roll-up: minutes and touchpoints per person and per customer and
month, kept equal to the sums over the touchpoints by every write that moves them.

The touchpoint services call ``apply`` (or collect ``Deltas`` for a batch) with what a
write changed (a new touchpoint adds its
contribution, a correction takes the old one off and adds the new, a deletion takes it
off), in the write's transaction; ``flush`` writes the deltas with one upsert per table
(``INSERT ... ON CONFLICT DO UPDATE`` adding to what is there, so concurrent writers of
the same month and person add up instead of overwriting each other; keys are written in
sorted order so that they lock rows in one order). ``rebuild`` computes them again from
the touchpoints (``manage.py rebuild_effort_rollup``): after a change of the
organization's time zone, or to repair.
"""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts import zones
from accounts.models import Organization
from engagements.models import CustomerEffortMonth, EffortMonth, Touchpoint

NOBODY = uuid.UUID(int=0)  # the person of touchpoints nobody logged


def month_of(org: Organization, when: datetime) -> date:
    zone = zones.zone(org.timezone)
    first: date = when.astimezone(zone).date().replace(day=1)
    return first


@dataclass
class Deltas:
    """What a write adds to the roll-up, not written yet."""

    org: Organization
    people: dict[tuple[date, uuid.UUID], list[int]] = field(default_factory=dict)
    customers: dict[tuple[date, Any], list[int]] = field(default_factory=dict)

    def touchpoint(self, tp: Touchpoint | tuple[Any, ...] | None, sign: int) -> None:
        """Add (``sign`` 1) or take off (-1) one touchpoint's contribution; a tuple is
        ``contribution(tp)`` taken before a change."""
        if tp is None:
            return
        month, person, customer, minutes = (
            tp if isinstance(tp, tuple) else contribution(self.org, tp)
        )
        for bucket, key in ((self.people, (month, person)), (self.customers, (month, customer))):
            row = bucket.setdefault(key, [0, 0])
            row[0] += sign * minutes
            row[1] += sign

    def flush(self) -> None:
        statements = [
            statement
            for statement in (
                _upsert(self.org, EffortMonth, "person_id", self.people),
                _upsert(self.org, CustomerEffortMonth, "customer_id", self.customers),
            )
            if statement is not None
        ]
        self.people, self.customers = {}, {}
        _execute(statements)


def contribution(org: Organization, tp: Touchpoint) -> tuple[date, uuid.UUID, Any, int]:
    return (
        month_of(org, tp.occurred_at),
        tp.logged_by_id or NOBODY,
        tp.customer_id,
        int(tp.effort_minutes or 0),
    )


def _upsert(
    org: Organization, model: type[Any], column: str, deltas: dict[tuple[date, Any], list[int]]
) -> tuple[str, list[Any]] | None:
    """The upsert adding ``deltas`` to ``model``'s rows (None when there is nothing)."""
    rows = sorted((key, v) for key, v in deltas.items() if v != [0, 0])
    if not rows:
        return None
    table = model._meta.db_table
    now = timezone.now()
    values, params = [], []
    for (month, other), (minutes, touches) in rows:
        values.append("(%s, %s, %s, 1, %s, %s, %s, %s, %s)")
        params += [model._meta.pk.get_default(), now, now, org.pk, month, other, minutes, touches]
    if connection.vendor == "sqlite":
        params = [str(p).replace("-", "") if isinstance(p, uuid.UUID) else p for p in params]
    # Table and column names come from the models; every value is a parameter.
    sql = (
        f'INSERT INTO "{table}" (id, created_at, updated_at, version, organization_id, month,'  # noqa: S608
        f" {column}, minutes, touches) VALUES {', '.join(values)}"
        f" ON CONFLICT (organization_id, month, {column}) DO UPDATE SET"
        f' minutes = "{table}".minutes + excluded.minutes,'
        f' touches = "{table}".touches + excluded.touches,'
        f' version = "{table}".version + 1, updated_at = excluded.updated_at'
    )
    return sql, params


def _execute(statements: list[tuple[str, list[Any]]]) -> None:
    """Run the upserts; on PostgreSQL as one statement (the first ones as data-modifying
    CTEs), one round trip for a quick log instead of two."""
    if not statements:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(statements) > 1:
            ctes = ", ".join(
                f"effort_{n} AS ({sql} RETURNING 1)" for n, (sql, _p) in enumerate(statements[:-1])
            )
            params = [p for _sql, ps in statements for p in ps]
            cursor.execute(f"WITH {ctes} {statements[-1][0]}", params)
            return
        for sql, params in statements:
            cursor.execute(sql, params)


def apply(org: Organization, changes: Iterable[tuple[Any, int]]) -> None:
    """Add ``(touchpoint or contribution, sign)`` changes to the roll-up now."""
    deltas = Deltas(org)
    for tp, sign in changes:
        deltas.touchpoint(tp, sign)
    deltas.flush()


def customer_removed(org: Organization, customer_id: Any) -> None:
    """A customer is being deleted with its touchpoints: take them off the people's
    months (its own rows go with it)."""
    zone = zones.zone(org.timezone)
    deltas = Deltas(org)
    for row in (
        Touchpoint.objects.for_org(org)
        .filter(customer=customer_id)
        .annotate(month=TruncMonth("occurred_at", tzinfo=zone))
        .order_by()
        .values("month", "logged_by_id")
        .annotate(minutes=Sum("effort_minutes"), touches=Count("id"))
    ):
        key = (_as_date(row["month"]), row["logged_by_id"] or NOBODY)
        deltas.people[key] = [-(row["minutes"] or 0), -row["touches"]]
    deltas.flush()


@transaction.atomic
def rebuild(org: Organization) -> int:
    """Compute the organization's roll-up from its touchpoints again; returns the rows."""
    zone: zoneinfo.ZoneInfo = zones.zone(org.timezone)
    EffortMonth.objects.for_org(org).delete()
    CustomerEffortMonth.objects.for_org(org).delete()
    tps = Touchpoint.objects.for_org(org).annotate(month=TruncMonth("occurred_at", tzinfo=zone))
    now = timezone.now()
    people = [
        EffortMonth(
            organization=org,
            month=_as_date(row["month"]),
            person_id=row["logged_by_id"] or NOBODY,
            minutes=row["minutes"] or 0,
            touches=row["touches"],
            created_at=now,
            updated_at=now,
        )
        for row in tps.order_by()
        .values("month", "logged_by_id")
        .annotate(minutes=Sum("effort_minutes"), touches=Count("id"))
    ]
    customers = [
        CustomerEffortMonth(
            organization=org,
            month=_as_date(row["month"]),
            customer_id=row["customer_id"],
            minutes=row["minutes"] or 0,
            touches=row["touches"],
        )
        for row in tps.order_by()
        .values("month", "customer_id")
        .annotate(minutes=Sum("effort_minutes"), touches=Count("id"))
    ]
    EffortMonth.objects.bulk_create(people, batch_size=2000)
    CustomerEffortMonth.objects.bulk_create(customers, batch_size=2000)
    return len(people) + len(customers)


def _as_date(value: Any) -> date:
    day: date = value.date() if isinstance(value, datetime) else value
    return day
