"""The one global lock order of writes of many rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from accounts.models import Organization
from engagements.models import (
    Customer,
    Engagement,
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
