"""Writes of many rows by external id (bulk API, CSV import): one pipeline for every kind.

``upsert_many`` locks the rows already known by external id (see ``locks``, "Lock order"),
applies the rows in ``write_order`` (updates first, then inserts by external id), lets a
repeated external id update what its earlier row made, and names the failing row in
``BulkItemError``. Customers and contacts are written row by row through their service;
touchpoints through ``touchpoints_log_many``, which recomputes last touch and health once
per customer and engagement at the end instead of once per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Organization, User
from engagements import followups, selectors
from engagements.models import Customer, Touchpoint
from engagements.services.locks import locked_by_external_id, write_order
from engagements.services.shared import RowBatch
from engagements.services.touchpoints import TouchpointBatch, _after_touch, _touchpoint_write

Item = tuple[Any, Mapping[str, Any]]
# Writes one row: (the existing object or None, its data) -> the saved object.
RowWriter = Callable[[Any, dict[str, Any]], Any]


class BulkItemError(ValidationError):
    """One item of a many-item write failed; ``index`` says which, ``error`` why."""

    def __init__(self, index: int, error: ValidationError) -> None:
        super().__init__(error.messages)
        self.index = index
        self.error = error

    @property
    def detail(self) -> dict[str, list[str]] | list[str]:
        return self.error.message_dict if hasattr(self.error, "error_dict") else self.error.messages


def write_in_order(items: Sequence[Item], write: RowWriter) -> list[tuple[Any, bool]]:
    """Apply ``write`` to each ``(existing, data)`` item in ``write_order``; results (the
    object, and whether it was created) come back in the items' order. A repeated external
    id updates what its earlier item made. A failing item raises ``BulkItemError``."""
    results: dict[int, tuple[Any, bool]] = {}
    seen: dict[str, Any] = {}
    for index in write_order(items):
        existing, data = items[index]
        external_id = data.get("external_id") or ""
        instance = existing or (seen.get(external_id) if external_id else None)
        try:
            obj = write(instance, dict(data))
        except ValidationError as exc:
            raise BulkItemError(index, exc) from None
        if external_id:
            seen[external_id] = obj
        results[index] = (obj, instance is None)
    return [results[index] for index in range(len(items))]


@transaction.atomic
def upsert_many(
    *,
    org: Organization,
    actor: User | None,
    model: type[Any],
    rows: Sequence[Mapping[str, Any]],
    write: RowWriter | None = None,
    source: str = Touchpoint.Source.API,
) -> list[tuple[Any, bool]]:
    """Create or update ``rows`` of ``model`` by external id, all or nothing.

    ``write`` writes one contact (the caller's service call); customers (without
    ``write``) go through ``customers_save_many``, touchpoints through
    ``touchpoints_log_many`` with ``source``, both set-based."""
    known = locked_by_external_id(
        org=org, model=model, external_ids=(row.get("external_id") for row in rows)
    )
    items = [(known.get(row.get("external_id") or ""), row) for row in rows]
    if model is Touchpoint:
        return touchpoints_log_many(org=org, actor=actor, items=items, source=source, locked=True)
    if model is Customer and write is None:
        return customers_save_many(org=org, actor=actor, items=items)
    if write is None:
        raise TypeError(f"upsert_many of {model.__name__} needs a row writer")
    return write_in_order(items, write)


@transaction.atomic
def customers_save_many(
    *,
    org: Organization,
    actor: User | None,
    items: Sequence[tuple[Customer | None, Mapping[str, Any]]],
) -> list[tuple[Customer, bool]]:
    """Create or update many customers (bulk API, CSV import) in one transaction, each as
    ``customer_save`` would, set-based (``RowBatch``). The caller locked and read the rows
    to update and every external id of the batch (``upsert_many`` does)."""
    # The service as the package exports it (what callers and tests see as the one
    # way a customer is saved), called per row with the batch.
    from engagements import services

    batch = RowBatch(org, Customer, [row for row, _data in items if row is not None])
    results = write_in_order(
        items,
        lambda existing, data: services.customer_save(
            org=org, actor=actor, data=data, customer=existing, batch=batch
        ),
    )
    batch.flush()
    return results


@transaction.atomic
def touchpoints_log_many(
    *,
    org: Organization,
    actor: User | None,
    items: Sequence[tuple[Touchpoint | None, Mapping[str, Any]]],
    source: str,
    locked: bool = False,
) -> list[tuple[Touchpoint, bool]]:
    """Create or update many touchpoints (bulk API, CSV import) in one transaction.

    Each item has the same effects as ``touchpoint_log``; health is recomputed once per
    engagement at the end instead of once per row. The caller locks the touchpoints to
    update (``locked_by_external_id``) before it reads them; ``upsert_many`` does both
    and says so with ``locked`` (they are written onto as read, and the external ids of
    the batch count as checked).

    The rows are written set-based (``TouchpointBatch``): the lookups one row would make
    are made once for the batch, and the INSERTs, UPDATEs, audit entries and events go
    out in one statement each at the end.
    """
    customers: set[Any] = set()
    engagements: set[Any] = set()
    batch = TouchpointBatch(org, items=items, locked=locked)

    def write(existing: Touchpoint | None, data: dict[str, Any]) -> Touchpoint:
        answers = data.pop("answers", None)
        if answers is not None and existing is not None:
            raise ValidationError(
                {"followup": _("Only a new touchpoint can complete a follow-up.")}
            )
        if answers is not None:
            batch.flush()  # completing the follow-up points at this row: written now
        tp, _changed, c, e = _touchpoint_write(
            org=org,
            actor=actor,
            data=data,
            touchpoint=existing,
            source=source,
            batch=batch if answers is None else None,
        )
        if answers is not None:
            followups.check_answer(org, answers, tp.customer, tp.engagement)
            followups.complete_with(followup=answers, touchpoint=tp, actor=actor)
        customers.update(c)
        engagements.update(e)
        return tp

    results = write_in_order(items, write)
    batch.flush()
    settings = selectors.health_settings(org)
    if all(existing is None for existing, _data in items):
        # Only new touchpoints: last touch can only move forward, to the latest of each.
        _after_touch(org, customers, engagements, settings, added_many=[tp for tp, _c in results])
    else:
        _after_touch(org, customers, engagements, settings)
    return results
