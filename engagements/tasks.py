"""Celery tasks: thin, take ids, scope every query, and are safe to run twice."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db.models import Exists, OuterRef
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.models import Organization
from accounts.rls import cross_tenant, org_context
from engagements import imports, selectors, services, surveys
from engagements.models import Engagement, HealthSnapshot

logger = logging.getLogger(__name__)
BATCH = 200


@shared_task(name="engagements.tasks.health_snapshots_tick")
def health_snapshots_tick() -> int:
    """Beat: queue today's health snapshots of every organization's active engagements.

    Runs hourly so that each organization gets its snapshot soon after its own midnight;
    an engagement that already has today's row is skipped, and the row is unique per
    engagement and day, so repeated or overlapping ticks change nothing.
    """
    queued = 0
    # Organizations are not tenant-owned rows; listing them is what a beat tick does.
    for org_id in Organization.objects.values_list("pk", flat=True):
        queued += snapshot_org.delay(str(org_id)) is not None
    return queued


@shared_task(name="engagements.tasks.snapshot_org")
def snapshot_org(org_id: str) -> int:
    """Queue the active engagements that have no snapshot yet for today (org's day)."""
    org = Organization.objects.get(pk=org_id)
    today = timezone.now().astimezone(selectors.org_zone(org)).date()
    taken = HealthSnapshot.objects.for_org(org).filter(engagement=OuterRef("pk"), day=today)
    ids = list(
        Engagement.objects.for_org(org)
        .filter(status=Engagement.Status.ACTIVE)
        .exclude(Exists(taken))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(ids), BATCH):
        snapshot_engagements.delay(org_id, [str(pk) for pk in ids[start : start + BATCH]])
    return len(ids)


@shared_task(name="engagements.tasks.snapshot_engagements")
def snapshot_engagements(org_id: str, engagement_ids: list[str]) -> int:
    org = Organization.objects.get(pk=org_id)
    return services.health_snapshot_take(org=org, engagement_ids=engagement_ids)


@shared_task(name="engagements.tasks.refresh_org_health")
def refresh_org_health(org_id: str) -> int:
    """After the organization's health settings changed: recompute every engagement."""
    org = Organization.objects.get(pk=org_id)
    ids = list(Engagement.objects.for_org(org).values_list("pk", flat=True))
    for engagement_id in ids:
        services.engagement_health_refresh(org=org, engagement_id=engagement_id)
    return len(ids)


@shared_task(name="engagements.tasks.run_import")
def run_import(org_id: str, job_id: str) -> str:
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        return "skipped"  # the organization was deleted since: nothing to import
    with org_context(org_id):
        return imports.run(org=org, job_id=job_id)


def queue_import(org_id: str, job_id: str) -> bool:
    """Queue an import's task; False, and a warning, when the broker cannot be reached."""
    try:
        run_import.delay(org_id, job_id)
    except (OperationalError, OSError) as exc:
        logger.warning("Could not queue import %s (%s); the requeue tick will", job_id, exc)
        return False
    return True


@shared_task(name="engagements.tasks.imports_tick")  # type: ignore[untyped-decorator]  # Celery: untyped
def imports_tick() -> int:
    """Beat, every minute: imports that never reached a worker, or whose run died (of every
    kind and organization: customer-side files and projects' cost files alike)."""
    with cross_tenant("import sweep"):
        return imports.requeue(queue=queue_import)


@shared_task(name="engagements.tasks.send_survey")  # type: ignore[untyped-decorator]  # Celery: untyped
def send_survey(org_id: str, survey_id: str) -> bool:
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        return False
    with org_context(org_id):
        return surveys.send_email(org=org, survey_id=survey_id)


@shared_task(name="engagements.tasks.sweep_survey_emails")  # type: ignore[untyped-decorator]  # Celery: untyped
def sweep_survey_emails() -> int:
    """Beat: surveys whose e-mail task never reached a worker."""
    pending = surveys.pending_emails(older_than=timedelta(minutes=2))
    for org_id, survey_id in pending:
        send_survey.delay(org_id, survey_id)
    return len(pending)
