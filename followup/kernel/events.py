"""The event outbox: record domain changes in their own transaction, relay them after.

``record()`` must be called inside the transaction that made the change (services do);
the row commits or rolls back with it. On commit, a Celery task relays the event: each
subscriber that wants its type (``subscribe()``, under a stable name) runs once, and its
outcome is stored as one ``EventDelivery`` per (event, subscriber):

- a subscriber's writes commit exactly when its delivery is marked done (the first
  attempts of all of an event's subscribers share one transaction, each in its own
  savepoint; a retry has a transaction of its own), and a failed attempt leaves nothing
  behind;
- a failure is recorded on the delivery (error, attempt count) and retried with
  exponential backoff (``backoff()``); after ``MAX_ATTEMPTS`` it is ``failed`` and waits for
  an admin's retry (``delivery_retry``, the event deliveries page of the webhooks area);
- nothing one subscriber does, on one event, holds up another subscriber or event.

The periodic ``relay_pending`` (beat, every minute) hands out events whose on-commit
dispatch was lost (crash, broker down; a conditional update on ``relayed_at`` lets only
one relay hand an event out) and claims due retries like every tick here
(``followup.kernel.claims``): several workers and a duplicated beat run each retry once.
Subscribers run once per event and must be
idempotent: a worker that dies after its subscriber committed an outside effect (an
e-mail) and before the delivery was marked done makes the next attempt repeat it. Where a
subscriber writes only rows with a unique key (the webhook fan-out), the event has its
effect exactly once.

Events name their subject by its registry key (``subjects.type_key``: ``"customer"``,
or ``"engagements.touchpoint"`` for a model that is no follow-up subject), never by its
bare model name, which two apps may share.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, overload

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.functional import Promise

from accounts import rls
from accounts.models import Organization, User
from followup.kernel import claims, subjects
from followup.kernel.models import Event, EventDelivery, EventDeliveryStatus

logger = logging.getLogger(__name__)

#: Event type -> human description (translatable), for webhook subscriptions and docs.
EVENT_TYPES: dict[str, str | Promise] = {}

Handler = Callable[[Event], None]

# Wait before attempt n + 1 after n failed ones: 30 s, 1 min, 2 min, ... capped at 6 h;
# ten attempts span about eight and a half hours.
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=6)
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class Subscriber:
    """A handler of relayed events, known by a name that stays the same across releases
    (delivery rows carry it: a renamed subscriber leaves its pending deliveries failing)."""

    name: str
    handler: Handler
    types: frozenset[str] | None = None  # None: every event type

    def wants(self, event_type: str) -> bool:
        return self.types is None or event_type in self.types


_subscribers: dict[str, Subscriber] = {}


def register_type(event_type: str, description: str | Promise) -> None:
    resource, _dot, verb = event_type.partition(".")
    if not resource or not verb:
        raise ValueError(f"Event types are '<resource>.<verb>', got {event_type!r}")
    EVENT_TYPES[event_type] = description


@overload
def subscribe(name: str, handler: Handler, *, types: Iterable[str] | None = None) -> Handler: ...
@overload
def subscribe(
    name: str, handler: None = None, *, types: Iterable[str] | None = None
) -> Callable[[Handler], Handler]: ...
def subscribe(
    name: str, handler: Handler | None = None, *, types: Iterable[str] | None = None
) -> Handler | Callable[[Handler], Handler]:
    """Register ``handler`` for relayed events under the stable ``name`` (as a call or a
    decorator: ``@events.subscribe("webhooks.fan_out")``); ``types`` narrows it to those
    event types. Registering the same handler again under its name changes nothing."""

    def register(fn: Handler) -> Handler:
        existing = _subscribers.get(name)
        if existing is not None and existing.handler is not fn:
            raise ValueError(f"Another subscriber is registered as {name!r}")
        _subscribers[name] = Subscriber(
            name=name, handler=fn, types=frozenset(types) if types is not None else None
        )
        return fn

    return register(handler) if handler is not None else register


def subscribers() -> list[Subscriber]:
    return sorted(_subscribers.values(), key=lambda s: s.name)


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
        subject_type=subjects.type_key(subject.__class__) if subject is not None else "",
        subject_id=getattr(subject, "pk", None),
        payload=payload or {},
        actor=actor if actor is not None and actor.pk else None,
    )
    org_id, event_id = org.pk, event.pk

    def dispatch() -> None:
        from followup.kernel.tasks import relay_event

        try:
            relay_event.delay(str(org_id), str(event_id))
        except Exception:  # noqa: BLE001 - the broker is down: the periodic relay picks it up
            logger.warning("Could not queue relay of event %s; the periodic relay will", event_id)

    transaction.on_commit(dispatch, robust=True)
    return event


def record_many(org: Organization, entries: list[dict[str, Any]]) -> list[Event]:
    """``record`` for many events of one write (a bulk upsert) in one INSERT; each entry
    has ``record``'s keywords (``type``, ``subject``, ``payload``, ``actor``). After commit
    one task relays them all (``relay_events``), instead of one task per event."""
    rows = []
    for entry in entries:
        type_, subject = entry["type"], entry.get("subject")
        if type_ not in EVENT_TYPES:
            raise ValueError(
                f"Unknown event type {type_!r}: register it with events.register_type()"
            )
        actor = entry.get("actor")
        rows.append(
            Event(
                organization=org,
                type=type_,
                subject_type=subjects.type_key(subject.__class__) if subject is not None else "",
                subject_id=getattr(subject, "pk", None),
                payload=entry.get("payload") or {},
                actor=actor if actor is not None and actor.pk else None,
            )
        )
    if not rows:
        return []
    Event.objects.bulk_create(rows)
    org_id, event_ids = org.pk, [row.pk for row in rows]

    def dispatch() -> None:
        from followup.kernel.tasks import relay_events

        try:
            relay_events.delay(str(org_id), [str(event_id) for event_id in event_ids])
        except Exception:  # noqa: BLE001 - the broker is down: the periodic relay picks it up
            logger.warning("Could not queue relay of %d events; the periodic relay will", len(rows))

    transaction.on_commit(dispatch, robust=True)
    return rows


# --- Relaying -----------------------------------------------------------------------------


def relay(event: Event) -> bool:
    """Hand ``event`` out: run each subscriber that wants it once and record a delivery of
    each outcome, all in one transaction (one commit per event, however many subscribers).

    Each subscriber runs inside its own savepoint, so a failure undoes only its own
    writes; its delivery is stored pending, with the error and the time of its retry. A
    crash before the commit leaves the event as it was, and the tick hands it out again.
    Returns False when the event had been handed out already; then its due deliveries (if
    any) run, each in its own transaction.
    """
    # Each event is handed out as its own organization, whoever relays it.
    with rls.org_context(event.organization_id), transaction.atomic():
        handed = (
            Event.objects.for_org(event.organization)
            .filter(pk=event.pk, relayed_at__isnull=True)
            .update(relayed_at=timezone.now())
        )
        if handed:
            EventDelivery.objects.bulk_create(
                [_first_attempt(event, s) for s in subscribers() if s.wants(event.type)]
            )
    if not handed:
        with rls.org_context(event.organization_id):
            _run_due(
                EventDelivery.objects.for_org(event.organization).filter(event=event), batch=100
            )
    return bool(handed)


def _first_attempt(event: Event, subscriber: Subscriber) -> EventDelivery:
    """Run ``subscriber`` on ``event`` in a savepoint; the (unsaved) delivery that says how
    it went."""
    now = timezone.now()
    delivery = EventDelivery(
        organization_id=event.organization_id,
        event=event,
        subscriber=subscriber.name,
        attempts=1,
        last_attempt_at=now,
    )
    try:
        with transaction.atomic():
            subscriber.handler(event)
    except Exception as exc:
        # Deliberately broad: whatever a subscriber raises is logged with its traceback,
        # recorded on its delivery and retried; it must not stop the other subscribers.
        logger.exception("Subscriber %s failed on event %s", subscriber.name, event.pk)
        delivery.status, delivery.last_error, delivery.next_attempt_at = _retry_state(
            1, f"{type(exc).__name__}: {exc}", now
        )
    else:
        delivery.status, delivery.succeeded_at = EventDeliveryStatus.SUCCEEDED, now
    return delivery


def relay_pending(*, older_than_seconds: int = 30, batch: int = 500) -> int:
    """The minute tick: hand out events whose dispatch was lost, then run due deliveries
    (retries, and attempts of workers that died). Returns how many events it handed out
    plus how many retries succeeded.

    Cross-tenant by nature (a beat tick): one sweep serves every organization.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    with rls.cross_tenant("outbox relay"):
        lost = list(
            Event.objects.dangerously_unscoped()
            .filter(relayed_at__isnull=True, created_at__lt=cutoff)
            .select_related("organization")
            .order_by("created_at")[:batch]
        )
        handed_out = sum(relay(event) for event in lost)  # each as its organization
        return handed_out + _run_due(EventDelivery.objects.dangerously_unscoped(), batch=batch)


def _run_due(deliveries: QuerySet[EventDelivery], *, batch: int) -> int:
    """Claim the due ones among ``deliveries`` and run each on its own."""
    now = timezone.now()
    claimed = claims.claim_due(
        deliveries.filter(status=EventDeliveryStatus.PENDING, next_attempt_at__lte=now),
        due_field="next_attempt_at",
        claimed_at_field="claimed_at",
        claim_field="claim",
        now=now,
        timeout=settings.FOLLOWUP_CLAIM_TIMEOUT,
        batch=batch,
    )
    orgs: dict[Any, Organization] = {}
    succeeded = 0
    for org_id, delivery_id in claimed.rows:
        if org_id not in orgs:
            orgs[org_id] = Organization.objects.get(pk=org_id)
        with rls.org_context(org_id):  # each delivery runs as its event's organization
            succeeded += attempt(org=orgs[org_id], delivery_id=delivery_id, token=claimed.token)
    return succeeded


class _ClaimLost(Exception):
    """Our claim timed out and another worker took the delivery over: roll back ours."""


def attempt(*, org: Organization, delivery_id: Any, token: uuid.UUID) -> bool:
    """Run one claimed delivery: its subscriber and the mark "done" in one transaction, or
    the failure recorded for a later retry. Returns True when it succeeded."""
    delivery = (
        EventDelivery.objects.for_org(org)
        .select_related("event", "event__organization", "event__actor")
        .filter(pk=delivery_id, claim=token, status=EventDeliveryStatus.PENDING)
        .first()
    )
    if delivery is None:
        return False  # done, taken over, or gone since the claim
    subscriber = _subscribers.get(delivery.subscriber)
    if subscriber is None:
        _failed(org, delivery, token, f"No subscriber {delivery.subscriber!r} is registered.")
        return False
    try:
        with transaction.atomic():
            subscriber.handler(delivery.event)
            now = timezone.now()
            done = (
                EventDelivery.objects.for_org(org)
                .filter(pk=delivery.pk, claim=token)
                .update(
                    status=EventDeliveryStatus.SUCCEEDED,
                    attempts=F("attempts") + 1,
                    last_attempt_at=now,
                    succeeded_at=now,
                    next_attempt_at=None,
                    claim=None,
                    claimed_at=None,
                    last_error="",
                )
            )
            if not done:
                raise _ClaimLost
    except _ClaimLost:
        return False  # the worker that took it over runs it; our writes rolled back
    except Exception as exc:
        # Deliberately broad: whatever a subscriber raises is logged with its traceback,
        # recorded on its delivery and retried; it must not stop the other deliveries.
        logger.exception("Subscriber %s failed on event %s", delivery.subscriber, delivery.event_id)
        _failed(org, delivery, token, f"{type(exc).__name__}: {exc}")
        return False
    return True


def backoff(attempts: int) -> timedelta:
    """The wait after ``attempts`` failed attempts: 30 s doubling, at most 6 hours."""
    doublings = min(max(attempts - 1, 0), 20)
    return min(BASE_BACKOFF * (1 << doublings), MAX_BACKOFF)


def _retry_state(attempts: int, error: str, now: datetime) -> tuple[str, str, datetime | None]:
    """Status, error and next attempt time of a delivery after ``attempts`` failed ones."""
    if attempts >= MAX_ATTEMPTS:
        return EventDeliveryStatus.FAILED, error[:2000], None
    return EventDeliveryStatus.PENDING, error[:2000], now + backoff(attempts)


def _failed(org: Organization, delivery: EventDelivery, token: uuid.UUID, error: str) -> None:
    now = timezone.now()
    attempts = delivery.attempts + 1
    status, last_error, next_attempt_at = _retry_state(attempts, error, now)
    EventDelivery.objects.for_org(org).filter(pk=delivery.pk, claim=token).update(
        status=status,
        attempts=attempts,
        last_attempt_at=now,
        next_attempt_at=next_attempt_at,
        last_error=last_error,
        claim=None,
        claimed_at=None,
    )


# --- Admins -------------------------------------------------------------------------------


class RetryRefused(Exception):
    """The delivery cannot be retried: it succeeded, or an attempt holds it right now."""


def delivery_retry(*, org: Organization, delivery_id: Any, now: datetime | None = None) -> None:
    """An admin's "retry now": the delivery is due again at once (after its last attempt
    it may have been ``failed`` for good), and a relay of its event is queued on commit."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            EventDelivery.objects.for_org(org).select_for_update().filter(pk=delivery_id).first()
        )
        if delivery is None or delivery.status == EventDeliveryStatus.SUCCEEDED:
            raise RetryRefused
        if delivery.claimed_at is not None and delivery.claimed_at > (
            now - settings.FOLLOWUP_CLAIM_TIMEOUT
        ):
            raise RetryRefused
        EventDelivery.objects.for_org(org).filter(pk=delivery.pk).update(
            status=EventDeliveryStatus.PENDING, next_attempt_at=now, claim=None, claimed_at=None
        )
        org_id, event_id = org.pk, delivery.event_id

        def dispatch() -> None:
            from followup.kernel.tasks import relay_event

            try:
                relay_event.delay(str(org_id), str(event_id))
            except Exception:  # noqa: BLE001 - the broker is down: the minute tick runs it
                logger.warning("Could not queue the retry of event %s; the tick will", event_id)

        transaction.on_commit(dispatch, robust=True)
