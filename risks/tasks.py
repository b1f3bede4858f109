"""Celery tasks of the risk register: thin; they take ``org_id`` and ids and re-check state."""

from __future__ import annotations

import uuid

from celery import shared_task

from accounts.models import Organization
from risks import monitoring, reviews

CHUNK = 20


@shared_task(name="risks.tasks.milestone_reviews_tick")  # type: ignore[untyped-decorator]  # Celery: untyped
def milestone_reviews_tick() -> int:
    """Schedule reviews from the milestones' dates, escalate overdue ones, and hand the
    due ones to workers in per-organization batches (a duplicated beat claims other rows)."""
    claimed = reviews.tick()
    by_org: dict[str, list[str]] = {}
    for org_id, review_id in claimed.rows:
        by_org.setdefault(str(org_id), []).append(str(review_id))
    for org_id, ids in by_org.items():
        for start in range(0, len(ids), CHUNK):
            open_reviews.delay(org_id, ids[start : start + CHUNK], str(claimed.token))
    return len(claimed.rows)


@shared_task(name="risks.tasks.early_warning_sweep")  # type: ignore[untyped-decorator]  # Celery: untyped
def early_warning_sweep() -> int:
    """Run the early-warning rules over every active engagement and project (idempotent)."""
    return monitoring.sweep()


@shared_task(name="risks.tasks.open_reviews")  # type: ignore[untyped-decorator]  # Celery: untyped
def open_reviews(org_id: str, review_ids: list[str], token: str) -> int:
    org = Organization.objects.get(pk=org_id)
    return reviews.open_batch(org=org, review_ids=review_ids, token=uuid.UUID(token))
