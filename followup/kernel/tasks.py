"""Celery tasks of the shared primitives: the outbox relay and the idempotency purge.

Thin, like every task: ids and ``org_id`` in, every query scoped, safe to run twice.
"""

from __future__ import annotations

from celery import shared_task

from accounts.models import Organization
from followup.kernel import events
from followup.kernel.api import idempotency
from followup.kernel.models import Event


@shared_task(name="followup.kernel.tasks.purge_idempotency_records")
def purge_idempotency_records() -> int:
    return idempotency.purge_expired()


@shared_task(name="followup.kernel.tasks.relay_event")
def relay_event(org_id: str, event_id: str) -> bool:
    # Gone (organization or event deleted since): nothing to relay, not an error to retry.
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        return False
    event = Event.objects.for_org(org).select_related("organization").filter(pk=event_id).first()
    return event is not None and events.relay(event)


@shared_task(name="followup.kernel.tasks.relay_events")  # type: ignore[untyped-decorator]  # Celery: untyped
def relay_events(org_id: str, event_ids: list[str]) -> int:
    """``relay_event`` for the events of one many-row write (``events.record_many``), in
    one task instead of one per event; each event is still relayed in its own
    transaction. Returns how many were handed out."""
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        return 0
    rows = Event.objects.for_org(org).select_related("organization").filter(pk__in=event_ids)
    return sum(1 for event in rows.order_by("pk") if events.relay(event))


@shared_task(name="followup.kernel.tasks.relay_pending_events")
def relay_pending_events() -> int:
    """Beat, every minute: lost hand-outs and due deliveries (retries), each on its own."""
    return events.relay_pending()
