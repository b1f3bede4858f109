"""The event outbox: record domain changes in their own transaction, relay them after.

``record()`` must be called inside the transaction that made the change (services do);
the row commits or rolls back with it. On commit, a Celery task relays the event to the
subscribers registered with ``subscribe()`` (webhooks, notifications). The periodic
``relay_pending`` catches what an on-commit dispatch lost (crash, broker down).
Subscribers run once per event and must be idempotent: a relay can be retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise

from accounts.models import Organization, User
from followup.kernel.models import Event

logger = logging.getLogger(__name__)

#: Event type -> human description (translatable), for webhook subscriptions and docs.
EVENT_TYPES: dict[str, str | Promise] = {}
_subscribers: list[Callable[[Event], None]] = []


def register_type(event_type: str, description: str | Promise) -> None:
    resource, _dot, verb = event_type.partition(".")
    if not resource or not verb:
        raise ValueError(f"Event types are '<resource>.<verb>', got {event_type!r}")
    EVENT_TYPES[event_type] = description


def subscribe(handler: Callable[[Event], None]) -> Callable[[Event], None]:
    """Register a callable that receives every relayed event (use as a decorator)."""
    if handler not in _subscribers:
        _subscribers.append(handler)
    return handler


def record(
    *,
    org: Organization,
    type: str,
    subject: Any = None,
    payload: dict[str, Any] | None = None,
    actor: User | None = None,
) -> Event:
    if type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {type!r}: register it with events.register_type()")
    event = Event.objects.create(
        organization=org,
        type=type,
        subject_type=subject._meta.model_name if subject is not None else "",
        subject_id=getattr(subject, "pk", None),
        payload=payload or {},
        actor=actor if actor is not None and actor.pk else None,
    )
    org_id, event_id = org.pk, event.pk

    def dispatch() -> None:
        from followup.kernel.tasks import relay_event

        try:
            relay_event.delay(str(org_id), str(event_id))
        except Exception:  # noqa: BLE001 - the periodic relay will pick it up
            logger.warning("Could not queue relay of event %s; the periodic relay will", event_id)

    transaction.on_commit(dispatch)
    return event


def relay(event: Event) -> bool:
    """Hand one event to every subscriber, once. Returns False if it was already relayed."""
    with transaction.atomic():
        claimed = (
            Event.objects.for_org(event.organization)
            .filter(pk=event.pk, relayed_at__isnull=True)
            .update(relayed_at=timezone.now())
        )
        if not claimed:
            return False
        for handler in list(_subscribers):
            handler(event)
    return True


def relay_pending(*, older_than_seconds: int = 30, batch: int = 500) -> int:
    """Relay events whose on-commit dispatch was lost. Cross-tenant by nature (a beat tick)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = list(
        Event.objects.dangerously_unscoped()
        .filter(relayed_at__isnull=True, created_at__lt=cutoff)
        .select_related("organization")
        .order_by("created_at")[:batch]
    )
    return sum(1 for event in pending if relay(event))
