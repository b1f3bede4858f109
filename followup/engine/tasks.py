"""Celery tasks of the follow-up engine: thin. They take ``org_id`` and ids, scope every
query, and re-check state, so that running one twice (a redelivery, a duplicated beat)
does no harm."""

from __future__ import annotations

import uuid
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from accounts.models import Organization
from followup.engine import notifications, reminders, webhooks

# --- Reminders ------------------------------------------------------------------------------


@shared_task(name="followup.engine.tasks.dispatch_reminders")
def dispatch_reminders() -> int:
    """The minute tick: claim due reminders and fan them out in per-organization batches.

    Loops while full batches come back, so a backlog drains in one tick; a duplicated beat
    or a second worker running it at once claims disjoint rows.
    """
    claimed_total = 0
    for _round in range(settings.FOLLOWUP_REMINDER_MAX_ROUNDS):
        claimed = reminders.claim()
        for org_id, ids in reminders.chunks(claimed.rows, settings.FOLLOWUP_REMINDER_CHUNK):
            send_reminders.delay(org_id, ids, str(claimed.token))
        claimed_total += len(claimed.rows)
        if len(claimed.rows) < settings.FOLLOWUP_REMINDER_BATCH:
            break
    return claimed_total


@shared_task(name="followup.engine.tasks.send_reminders")
def send_reminders(org_id: str, followup_ids: list[str], token: str) -> int:
    org = Organization.objects.get(pk=org_id)
    return reminders.send_batch(org=org, followup_ids=followup_ids, token=uuid.UUID(token))


@shared_task(name="followup.engine.tasks.send_digests")
def send_digests() -> int:
    return reminders.send_digests()


# --- Notification e-mail --------------------------------------------------------------------


@shared_task(name="followup.engine.tasks.send_notification_email")
def send_notification_email(org_id: str, notification_id: str) -> bool:
    org = Organization.objects.get(pk=org_id)
    return notifications.send_email(org=org, notification_id=notification_id)


@shared_task(name="followup.engine.tasks.sweep_notification_emails")
def sweep_notification_emails() -> int:
    pending = notifications.pending_emails(older_than=timedelta(minutes=2))
    for org_id, notification_id in pending:
        send_notification_email.delay(org_id, notification_id)
    return len(pending)


# --- Webhooks -------------------------------------------------------------------------------


@shared_task(name="followup.engine.tasks.dispatch_webhooks")
def dispatch_webhooks() -> int:
    """Claim due webhook attempts (first tries and retries) and send each in its own task."""
    claimed = webhooks.claim()
    for org_id, delivery_id in claimed.rows:
        deliver_webhook.delay(str(org_id), str(delivery_id), str(claimed.token))
    return len(claimed.rows)


@shared_task(name="followup.engine.tasks.deliver_webhook")
def deliver_webhook(org_id: str, delivery_id: str, token: str) -> bool:
    org = Organization.objects.get(pk=org_id)
    return webhooks.attempt(org=org, delivery_id=delivery_id, token=uuid.UUID(token))


@shared_task(name="followup.engine.tasks.replay_webhook")
def replay_webhook(org_id: str, delivery_id: str) -> bool | None:
    org = Organization.objects.get(pk=org_id)
    return webhooks.replay(org=org, delivery_id=delivery_id)
