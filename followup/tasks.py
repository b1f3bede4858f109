from celery import shared_task

from followup.api import idempotency


@shared_task(name="followup.tasks.purge_idempotency_records")
def purge_idempotency_records() -> int:
    return idempotency.purge_expired()
