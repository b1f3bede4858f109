from celery import shared_task

from accounts.models import Organization
from followup import events
from followup.api import idempotency
from followup.models import Event


@shared_task(name="followup.tasks.purge_idempotency_records")
def purge_idempotency_records() -> int:
    return idempotency.purge_expired()


@shared_task(name="followup.tasks.relay_event")
def relay_event(org_id: str, event_id: str) -> bool:
    org = Organization.objects.get(pk=org_id)
    event = Event.objects.for_org(org).select_related("organization").filter(pk=event_id).first()
    return event is not None and events.relay(event)


@shared_task(name="followup.tasks.relay_pending_events")
def relay_pending_events() -> int:
    return events.relay_pending()
