"""Bulk upserts lock the rows they update in primary-key order, so concurrent syncs of
overlapping sets wait for each other instead of deadlocking (PostgreSQL)."""

from __future__ import annotations

import os
import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from engagements.models import Customer, Engagement, Touchpoint
from tests.conftest import api_client
from tests.engagements.factories import make_customer, make_engagement
from tests.factories import make_api_key

on_postgresql = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="row locks and deadlocks need PostgreSQL",
)


def _lock_queries(queries: list[dict], table: str) -> list[str]:
    """The reads of ``table`` by external id (the lock before the writes)."""
    return [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT")
        and f'FROM "{table}"' in q["sql"]
        and '"external_id" IN' in q["sql"]
    ]


def _assert_locks_in_pk_order(sql: str, table: str) -> None:
    assert re.search(rf'ORDER BY "{table}"\."id" ASC', sql), sql
    if connection.features.has_select_for_update:
        assert " FOR NO KEY UPDATE" in sql or " FOR UPDATE" in sql, sql


@pytest.mark.parametrize(
    ("resource", "table"),
    [("customers", "engagements_customer"), ("contacts", "engagements_contact")],
)
def test_a_bulk_upsert_locks_the_known_rows_in_primary_key_order(api, org, resource, table):
    customer = make_customer(org, external_id="c-0")
    items = [
        {"name": f"Row {n}", "external_id": f"c-{n}", "customer": str(customer.pk)}
        for n in (3, 0, 2, 1)
    ]
    if resource == "customers":
        for item in items:
            item.pop("customer")
    api.post(f"/api/v1/{resource}/bulk/", items, format="json")  # all four exist now
    with CaptureQueriesContext(connection) as ctx:
        response = api.post(f"/api/v1/{resource}/bulk/", items[::-1], format="json")
    assert response.status_code == 201, response.content
    assert response.json()["updated"] == 4
    (lock,) = _lock_queries(ctx.captured_queries, table)
    _assert_locks_in_pk_order(lock, table)


def test_a_touchpoint_bulk_locks_touchpoints_then_customers_then_engagements_in_pk_order(api, org):
    customers = [make_customer(org) for _ in range(3)]
    for customer in customers:
        make_engagement(org, customer=customer)
    items = [
        {"customer": str(c.pk), "channel": "call", "summary": "x", "external_id": f"t-{n}"}
        for n, c in enumerate(customers)
    ]
    api.post("/api/v1/touchpoints/bulk/", items, format="json")
    # Moved a day back: last touch moves, so customers and engagements are written (only
    # rows whose last touch moves are, since the pipeline is set-based).
    earlier = (timezone.now() - timedelta(days=1)).isoformat()
    moved = [{**item, "occurred_at": earlier} for item in items[::-1]]
    with CaptureQueriesContext(connection) as ctx:
        response = api.post("/api/v1/touchpoints/bulk/", moved, format="json")
    assert response.status_code == 201, response.content
    sql = [q["sql"] for q in ctx.captured_queries]
    (touchpoints,) = _lock_queries(ctx.captured_queries, "engagements_touchpoint")
    _assert_locks_in_pk_order(touchpoints, "engagements_touchpoint")
    # Then the customers and the engagements whose last touch and health move, in one
    # query each, before any of them is written.
    locks = {}
    for table in ("engagements_customer", "engagements_engagement"):
        (locks[table],) = [q for q in sql if q.startswith(f'SELECT "{table}"."id" FROM "{table}"')]
        _assert_locks_in_pk_order(locks[table], table)
    first_write = next(
        i
        for i, q in enumerate(sql)
        if q.startswith(('UPDATE "engagements_customer"', 'UPDATE "engagements_engagement"'))
    )
    assert sql.index(locks["engagements_customer"]) < sql.index(locks["engagements_engagement"])
    assert sql.index(locks["engagements_engagement"]) < first_write


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_syncs_of_overlapping_sets_in_opposite_orders_both_complete(org):
    """Two CRM syncs at once, each upserting the same 40 customers and then 40 touchpoints
    (new in the first round, updates after) in opposite orders: both succeed, round after
    round (before: "deadlock detected", a 500)."""
    keys = [make_api_key(org, Role.ADMIN, name=f"sync {n}")[1] for n in range(2)]
    customers = [make_customer(org, external_id=f"c-{n}") for n in range(40)]
    for customer in customers:
        make_engagement(org, customer=customer)
    customer_items = [{"name": f"Customer {n}", "external_id": f"c-{n}"} for n in range(40)]
    touchpoint_items = [
        {"customer": str(c.pk), "channel": "call", "summary": "sync", "external_id": f"t-{n}"}
        for n, c in enumerate(customers)
    ]
    failures: list[str] = []

    def sync(key: str, reverse: bool, barrier: threading.Barrier) -> None:
        client = api_client(key)
        try:
            for resource, items in (
                ("customers", customer_items),
                ("touchpoints", touchpoint_items),
            ):
                batch = items[::-1] if reverse else items
                barrier.wait(10)
                response = client.post(f"/api/v1/{resource}/bulk/", batch, format="json")
                if response.status_code != 201:
                    failures.append(f"{resource}: {response.status_code} {response.content[:200]}")
        finally:
            connection.close()

    for _round in range(5):
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=sync, args=(keys[n], bool(n), barrier)) for n in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(180)  # a hang detector, not a timing: generous on a loaded machine
        assert not any(t.is_alive() for t in threads)
    assert failures == []
    assert Customer.objects.for_org(org).count() == 40
    assert Touchpoint.objects.for_org(org).count() == 40
    assert Engagement.objects.for_org(org).count() == 40
