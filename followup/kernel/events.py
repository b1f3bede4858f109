"""The event outbox: record domain changes in their own transaction, relay them after.

``record()`` must be called inside the transaction that made the change (services do);
the row commits or rolls back with it. On commit, a Celery task relays the event: it is
handed out as one ``EventDelivery`` per subscriber that wants its type (``subscribe()``,
under a stable name), and each delivery then runs on its own:

- the subscriber runs in the transaction that marks its delivery done, so its writes
  commit exactly when the delivery does, and a failed attempt leaves nothing behind;
- a failure is recorded on the delivery (error, attempt count) and retried with
  exponential backoff (``backoff()``); after ``MAX_ATTEMPTS`` it is ``failed`` and waits for
  an admin's retry (``delivery_retry``, the event deliveries page of the webhooks area);
- nothing one subscriber does, on one event, holds up another subscriber or event.

The periodic ``relay_pending`` (beat, every minute) hands out events whose on-commit
dispatch was lost (crash, broker down) and claims due deliveries, first tries and
retries, like every tick here (``followup.kernel.claims``): several workers and a
duplicated beat run each delivery once. Subscribers run once per event and must be
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

    transaction.on_commit(dispatch)
    return event


# --- Relaying -----------------------------------------------------------------------------


def relay(event: Event) -> bool:
    """Hand ``event`` out (once) and run its deliveries now.

    Returns False when the event had been handed out already; its due deliveries run
    anyway (a redelivered task finishes what a crashed one started).
    """
    token = uuid.uuid4()
    created = _hand_out(event, claim=token)
    if created is None:
        _run_due(EventDelivery.objects.for_org(event.organization).filter(event=event), batch=1000)
        return False
    for delivery_id in created:
        attempt(org=event.organization, delivery_id=delivery_id, token=token)
    return True


def _hand_out(event: Event, *, claim: uuid.UUID | None = None) -> list[Any] | None:
    """One pending delivery per subscriber that wants the event, in one transaction with
    the mark that it was handed out (so a crash cannot hand it out twice or half).

    ``claim``: the deliveries are born claimed by the caller, who runs them next (after a
    crash the claim times out and the tick runs them). Returns their ids, or None when
    the event had been handed out already.
    """
    with transaction.atomic():
        handed = (
            Event.objects.for_org(event.organization)
            .filter(pk=event.pk, relayed_at__isnull=True)
            .update(relayed_at=timezone.now())
        )
        if not handed:
            return None
        now = timezone.now()
        rows = [
            EventDelivery(
                organization_id=event.organization_id,
                event=event,
                subscriber=subscriber.name,
                next_attempt_at=now,
                claim=claim,
                claimed_at=now if claim is not None else None,
            )
            for subscriber in subscribers()
            if subscriber.wants(event.type)
        ]
        # No conflict is possible: only the transaction that set relayed_at inserts.
        EventDelivery.objects.bulk_create(rows)
    return [row.pk for row in rows]


def relay_pending(*, older_than_seconds: int = 30, batch: int = 500) -> int:
    """The minute tick: hand out events whose dispatch was lost, then run due deliveries
    (first tries whose relay died, and retries). Returns how many deliveries succeeded.

    Cross-tenant by nature (a beat tick): one sweep serves every organization.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    lost = (
        Event.objects.dangerously_unscoped()
        .filter(relayed_at__isnull=True, created_at__lt=cutoff)
        .select_related("organization")
        .order_by("created_at")[:batch]
    )
    for event in lost:
        _hand_out(event)
    return _run_due(EventDelivery.objects.dangerously_unscoped(), batch=batch)


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


def _failed(org: Organization, delivery: EventDelivery, token: uuid.UUID, error: str) -> None:
    now = timezone.now()
    attempts = delivery.attempts + 1
    exhausted = attempts >= MAX_ATTEMPTS
    EventDelivery.objects.for_org(org).filter(pk=delivery.pk, claim=token).update(
        status=EventDeliveryStatus.FAILED if exhausted else EventDeliveryStatus.PENDING,
        attempts=attempts,
        last_attempt_at=now,
        next_attempt_at=None if exhausted else now + backoff(attempts),
        last_error=error[:2000],
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

        transaction.on_commit(dispatch)
