"""Reminders: when they are owed, how a tick claims them, and how they are sent once.

Due state lives in the database: ``FollowUp.next_remind_at`` (partial index) is the next
moment a reminder is owed and ``next_remind_offset`` which offset it is. Every minute a
beat tick (``tick``) claims due rows with one conditional UPDATE (``followup.kernel.claims``) and
hands them, in small batches per organization, to ``send_reminders`` tasks. Nothing waits
in the broker with an ETA: a lost task only delays its reminders until the claim times out
and a later tick claims them again.

Sending one reminder is one transaction: insert a ``ReminderDelivery`` per channel (unique
per occurrence, due time, offset and channel), send (in-app notification, e-mail, the
``followup.due`` event), then move ``next_remind_at`` on, conditional on still holding the
claim. A crash rolls all of it back and a retry starts clean; a second sender collides with
the unique row and sends nothing. (An SMTP server that accepted a message just before the
crash is the one case where a person can get an e-mail twice; the database never records
two.)
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import rls
from accounts import selectors as people
from accounts.models import Organization, User
from followup.engine import notifications
from followup.engine.models import (
    Channel,
    DigestDelivery,
    EmailMode,
    FollowUp,
    FollowUpStatus,
    NotificationPreference,
    ReminderDelivery,
)
from followup.kernel import claims, events, mail

logger = logging.getLogger(__name__)

REMINDER_KIND = "followup.reminder"


# --- When (pure) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    at: datetime
    offset: int  # minutes before due


def slots(due_at: datetime, offsets: Iterable[int]) -> list[Slot]:
    """Every reminder moment of a due time, earliest first. Offset 0 (due time) is always
    there: it also carries the ``followup.due`` event."""
    unique = sorted({int(o) for o in offsets} | {0}, reverse=True)
    return [Slot(at=due_at - timedelta(minutes=o), offset=o) for o in unique]


def first_slot(due_at: datetime, offsets: Iterable[int], now: datetime) -> Slot | None:
    """The first reminder still worth sending when a due time is set at ``now``.

    Moments more than the grace period in the past are dropped: a follow-up created or
    snoozed to "in 2 hours" gets no "1 day before" reminder after the fact.
    """
    floor = now - settings.FOLLOWUP_REMINDER_GRACE
    return next((slot for slot in slots(due_at, offsets) if slot.at >= floor), None)


def slot_after(due_at: datetime, offsets: Iterable[int], sent: Slot, now: datetime) -> Slot | None:
    """The reminder after the one just sent; stale ones (a long outage) are skipped."""
    floor = now - settings.FOLLOWUP_REMINDER_GRACE
    return next(
        (slot for slot in slots(due_at, offsets) if slot.offset < sent.offset and slot.at >= floor),
        None,
    )


# --- Claiming (the beat tick) -------------------------------------------------------------


def due_queryset(now: datetime) -> Any:
    # Cross-tenant by nature: one tick serves every organization.
    return FollowUp.objects.dangerously_unscoped().filter(
        status=FollowUpStatus.OPEN, next_remind_at__isnull=False, next_remind_at__lte=now
    )


def claim(*, now: datetime | None = None, batch: int | None = None) -> claims.Claimed:
    return claims.claim_due(
        due_queryset(now or timezone.now()),
        due_field="next_remind_at",
        claimed_at_field="remind_claimed_at",
        claim_field="remind_claim",
        now=now or timezone.now(),
        timeout=settings.FOLLOWUP_CLAIM_TIMEOUT,
        batch=batch or settings.FOLLOWUP_REMINDER_BATCH,
    )


def chunks(rows: Sequence[tuple[Any, Any]], size: int) -> list[tuple[str, list[str]]]:
    """(org id, [follow-up ids]) batches, never mixing organizations."""
    by_org: dict[str, list[str]] = {}
    for org_id, pk in rows:
        by_org.setdefault(str(org_id), []).append(str(pk))
    out = []
    for org_id, ids in by_org.items():
        for start in range(0, len(ids), size):
            out.append((org_id, ids[start : start + size]))
    return out


# --- Sending ------------------------------------------------------------------------------


class _LostClaim(Exception):
    """Another sender took the claim over (ours timed out): roll back, send nothing."""


def _channels(followup: FollowUp, choice: notifications.Choice) -> list[str]:
    wanted = []
    if followup.next_remind_offset == 0:
        wanted.append(Channel.EVENT)
    if followup.next_remind_offset in (followup.reminder_offsets or [0]):
        if choice.in_app:
            wanted.append(Channel.IN_APP)
        if choice.email == EmailMode.INSTANT:
            wanted.append(Channel.EMAIL)
    return wanted


def _send_channel(followup: FollowUp, channel: str) -> None:
    from followup.engine.services import followup_path, followup_payload

    org = followup.organization
    owner = followup.owner
    offset = followup.next_remind_offset or 0
    if channel == Channel.EVENT:
        events.record(
            org=org, type="followup.due", subject=followup, payload=followup_payload(followup)
        )
    elif channel == Channel.IN_APP:
        notifications.notify(
            org=org,
            recipients=[owner],
            kind=REMINDER_KIND,
            params={"title": followup.title, "offset": offset},
            url=followup_path(followup),
            subject=followup,
            dedupe_key=f"reminder:{followup.pk}:{followup.due_at.isoformat()}:{offset}",
            email=False,
        )
    elif channel == Channel.EMAIL:
        mail.send_to_user(
            user=owner,
            template="followup/email/reminder",
            context={
                "followup": followup,
                "offset": offset,
                "url": mail.absolute(followup_path(followup)),
                "organization": org,
            },
            headers={"X-Followup-Reminder": f"{followup.pk}:{offset}"},
        )


def deliver(followup: FollowUp, token: uuid.UUID, choice: notifications.Choice) -> int:
    """Send the claimed reminder of one follow-up; returns how many channels were sent.

    The row is locked and re-read before anything is sent, so a change that committed
    meanwhile is seen: a hand-over (its owner left the organization) or a snooze drops
    the claim and nothing goes out; an owner who is no longer a member gets nothing, only
    the organization's own ``followup.due`` event is recorded.
    """
    sent = 0
    org = followup.organization
    with transaction.atomic():
        current = (
            FollowUp.objects.for_org(org)
            .select_for_update(of=("self",))
            .select_related("owner", "organization")
            .filter(
                pk=followup.pk,
                remind_claim=token,
                status=FollowUpStatus.OPEN,
                next_remind_at=followup.next_remind_at,
            )
            .first()
        )
        if current is None:
            raise _LostClaim
        if current.owner_id != followup.owner_id:  # reassigned since the batch was read
            choice = notifications.choices_for(org, [current.owner_id], REMINDER_KIND)[
                current.owner_id
            ]
        channels = _channels(current, choice)
        if not people.is_member(org, current.owner):
            channels = [c for c in channels if c == Channel.EVENT]
        for channel in channels:
            try:
                with transaction.atomic():
                    ReminderDelivery.objects.create(
                        organization=org,
                        followup=current,
                        due_at=current.due_at,
                        offset_minutes=current.next_remind_offset or 0,
                        channel=channel,
                        recipient=current.owner if channel != Channel.EVENT else None,
                    )
            except IntegrityError:
                continue  # already delivered on this channel
            _send_channel(current, channel)
            sent += 1
        now = timezone.now()
        slot = Slot(at=current.next_remind_at, offset=current.next_remind_offset or 0)
        nxt = slot_after(current.due_at, current.reminder_offsets or [0], slot, now)
        moved = (
            FollowUp.objects.for_org(org)
            .filter(pk=current.pk, remind_claim=token, status=FollowUpStatus.OPEN)
            .update(
                next_remind_at=nxt.at if nxt else None,
                next_remind_offset=nxt.offset if nxt else None,
                remind_claimed_at=None,
                remind_claim=None,
            )
        )
        if not moved:
            raise _LostClaim
    return sent


def send_batch(*, org: Organization, followup_ids: Sequence[Any], token: uuid.UUID) -> int:
    """Send the reminders this claim token holds among ``followup_ids``. Safe to re-run:
    rows whose claim is gone (sent, snoozed, completed, taken over) are left alone."""
    rows = list(
        FollowUp.objects.for_org(org)
        .filter(pk__in=list(followup_ids), remind_claim=token, status=FollowUpStatus.OPEN)
        .select_related("owner", "organization")
        .order_by("next_remind_at", "pk")
    )
    if not rows:
        return 0
    choices = notifications.choices_for(org, {r.owner_id for r in rows}, REMINDER_KIND)
    sent = 0
    for followup in rows:
        try:
            sent += deliver(followup, token, choices[followup.owner_id])
        except _LostClaim:
            logger.info("Reminder claim of %s was taken over; left to its new owner", followup.pk)
    return sent


# --- Daily digest ---------------------------------------------------------------------------


def digest_items(org: Organization, user: User, local_now: datetime) -> list[FollowUp]:
    """Open follow-ups of ``user`` that are overdue or due today (their local day)."""
    end_of_day = (local_now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return list(
        FollowUp.objects.for_org(org)
        .filter(owner=user, status=FollowUpStatus.OPEN, due_at__lt=end_of_day)
        .order_by("due_at", "pk")[:200]
    )


def send_digests(*, now: datetime | None = None) -> int:
    """Send today's digest to everyone who chose it and whose local time is past 08:00.

    Runs every few minutes; a ``DigestDelivery`` row per (organization, person, local date),
    inserted in the transaction that sends the mail, makes it once a day.
    """
    now = now or timezone.now()
    sent = 0
    # Cross-tenant by nature: a beat tick for every organization's digests.
    with rls.cross_tenant("reminder tick"):
        wanted = list(
            NotificationPreference.objects.dangerously_unscoped()
            .filter(kind=REMINDER_KIND, email=EmailMode.DIGEST, user__is_active=True)
            .select_related("user", "organization")
        )
    for pref in wanted:
        with rls.org_context(pref.organization_id):
            sent += _send_digest(pref, now)
    return sent


def _send_digest(pref: NotificationPreference, now: datetime) -> int:
    """One person's digest of one organization (0 or 1 sent), as that organization."""
    from followup.engine.services import followup_path

    sent = 0
    for user, org in [(pref.user, pref.organization)]:  # one pass; `continue` skips it
        local_now = now.astimezone(mail.user_zone(user))
        if local_now.hour < settings.FOLLOWUP_DIGEST_HOUR:
            continue
        if (
            DigestDelivery.objects.for_org(org)
            .filter(user=user, local_date=local_now.date())
            .exists()
        ):
            continue
        items = digest_items(org, user, local_now)
        start_of_day = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        if not people.is_member(org, user):
            continue  # they left the organization since choosing the digest
        try:
            with transaction.atomic():
                DigestDelivery.objects.create(
                    organization=org, user=user, local_date=local_now.date(), item_count=len(items)
                )
                if items:
                    for item in items:
                        item.url = mail.absolute(followup_path(item))
                    mail.send_to_user(
                        user=user,
                        template="followup/email/digest",
                        context={
                            "organization": org,
                            "overdue": [i for i in items if i.due_at < start_of_day],
                            "today": [i for i in items if i.due_at >= start_of_day],
                            "url": mail.absolute(f"/o/{org.slug}/"),
                            "local_date": local_now.date(),
                            "count": len(items),
                        },
                    )
                    sent += 1
        except IntegrityError:
            continue  # another tick sent it meanwhile
    return sent
