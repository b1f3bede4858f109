"""Celery tasks of project follow-up: thin. They take ``org_id`` and ids, scope every query,
and are safe to run twice (a redelivery, a duplicated beat)."""

from __future__ import annotations

import uuid

from celery import shared_task
from django.utils import timezone

from accounts.models import Organization
from accounts.rls import cross_tenant, org_context
from projects import reports


@shared_task(name="projects.tasks.status_reports_tick")  # type: ignore[untyped-decorator]
def status_reports_tick() -> int:
    """Beat: give new active projects their report schedule, claim the schedules that are
    due and queue one draft each. Two beats claim disjoint rows; a claim of a killed
    worker is taken over after the claim timeout."""
    with cross_tenant("status reports: find the due report schedules of every organization"):
        reports.ensure_schedules(timezone.now())
        claimed = reports.claim()
    for org_id, schedule_id in claimed.rows:
        draft_status_report.delay(str(org_id), str(schedule_id), str(claimed.token))
    return len(claimed.rows)


@shared_task(name="projects.tasks.draft_status_report")  # type: ignore[untyped-decorator]
def draft_status_report(org_id: str, schedule_id: str, token: str) -> str | None:
    with org_context(org_id):
        org = Organization.objects.filter(pk=org_id).first()
        if org is None:
            return None  # the organization was deleted since
        report = reports.draft(org=org, schedule_id=schedule_id, token=uuid.UUID(token))
        return str(report.pk) if report is not None else None
