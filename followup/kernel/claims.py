"""Claiming due rows for work, safely from any number of ticks and workers.

One conditional UPDATE stamps a batch of due rows with a fresh claim token; the rows that
carry the token afterwards are ours. The UPDATE re-checks "due and not claimed (or claimed
longer ago than the timeout)", so two ticks racing for the same row cannot both win:

- on PostgreSQL the candidates are picked with ``FOR UPDATE SKIP LOCKED`` (a second tick
  skips rows the first is claiming) and READ COMMITTED re-evaluates the WHERE clause on a
  row another transaction changed meanwhile;
- on SQLite (no row locks) transactions are IMMEDIATE, so claims are serialized by the
  database's write lock and the re-check sees the first claim.

A claim older than the timeout belongs to a worker presumed dead; the next tick takes it
over (Healthchecks' ``sendalerts`` does the same with its conditional UPDATE).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet

from accounts import rls


@dataclass(frozen=True)
class Claimed:
    token: uuid.UUID
    rows: list[tuple[Any, Any]]  # (organization_id, pk), in due order


def claim_due(
    due: QuerySet,
    *,
    due_field: str,
    claimed_at_field: str,
    claim_field: str,
    now: datetime,
    timeout: timedelta,
    batch: int,
) -> Claimed:
    """Claim up to ``batch`` rows of ``due`` (a cross-tenant queryset of due rows).

    ``due`` must already filter "due" (e.g. status open and ``due_field <= now``); the
    claim condition is added here. Cross-tenant by nature: the caller's queryset comes from
    ``dangerously_unscoped()``.
    """
    token = uuid.uuid4()
    stale = Q(**{f"{claimed_at_field}__isnull": True}) | Q(
        **{f"{claimed_at_field}__lt": now - timeout}
    )
    claimable = due.filter(stale)
    with rls.cross_tenant("claims"), transaction.atomic():
        candidates = claimable.order_by(due_field, "pk")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        ids = list(candidates.values_list("pk", flat=True)[:batch])
        if not ids:
            return Claimed(token=token, rows=[])
        # Plain update(): claims are bookkeeping, not a change API clients should sync.
        claimable.filter(pk__in=ids).update(**{claimed_at_field: now, claim_field: token})
    with rls.cross_tenant("claims"):
        rows = list(
            due.model.objects.dangerously_unscoped()
            .filter(**{claim_field: token})
            .order_by(due_field, "pk")
            .values_list("organization_id", "pk")
        )
    return Claimed(token=token, rows=rows)
