"""Starting a CSV import (the rows are written by ``engagements.imports``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from accounts.models import Organization, User
from engagements.models import (
    ImportJob,
)


def import_start(
    *,
    org: Organization,
    actor: User | None,
    kind: str,
    filename: str,
    content: str,
    queue: Callable[[str, str], bool],
    target_id: Any = None,
) -> ImportJob:
    """Store the file and queue its import after commit (the worker must see the row).

    ``queue`` hands the task to the broker (``engagements.tasks.queue_import``). When the
    broker is unreachable the job is kept and waits for the requeue tick; the person sees
    that it waits, not an error.
    """
    job = ImportJob.objects.create(
        organization=org,
        kind=kind,
        filename=filename,
        content=content,
        created_by=actor,
        target_id=target_id,
        timezone=getattr(actor, "timezone", None) or org.timezone,
    )
    job_id = job.pk

    def dispatch() -> None:
        from engagements import imports

        imports.queue_job(org=org, job_id=job_id, queue=queue)

    transaction.on_commit(dispatch, robust=True)
    return job
