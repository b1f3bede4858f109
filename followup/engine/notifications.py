"""Notifications: what a person should see, rendered in the reader's language.

Apps register their kinds (``register_kind``) with a translatable title that is formatted
with the notification's ``params`` when shown. ``notify()`` stores one notification per
recipient (deduplicated by ``dedupe_key``) and, per the recipient's preferences
(``NotificationPreference``; defaults from the kind), shows it in the app and/or e-mails
it. The e-mail is sent after commit by a task that claims it with a conditional UPDATE in
the transaction that sends it, so it goes out once; a periodic sweep re-sends claims lost
to a crash. Reminder e-mails and the daily digest live in ``followup.engine.reminders``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise

from accounts import rls
from accounts import selectors as people
from accounts.models import Organization, User
from followup.engine.models import EmailMode, Notification, NotificationPreference
from followup.kernel import mail

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kind:
    title: str | Promise  # "%(engagement)s turned red", formatted with params
    description: str | Promise  # shown in notification preferences
    email_default: str = EmailMode.INSTANT  # off, instant (or digest where digestible)
    in_app_default: bool = True
    digestible: bool = False  # may be gathered into the daily digest instead


KINDS: dict[str, Kind] = {}


def register_kind(
    kind: str,
    *,
    title: str | Promise,
    description: str | Promise,
    email_default: str = EmailMode.INSTANT,
    in_app_default: bool = True,
    digestible: bool = False,
) -> None:
    if email_default not in EmailMode.values:
        raise ValueError(f"email_default must be one of {EmailMode.values}")
    KINDS[kind] = Kind(
        title=title,
        description=description,
        email_default=email_default,
        in_app_default=in_app_default,
        digestible=digestible,
    )


@dataclass(frozen=True)
class Choice:
    in_app: bool
    email: str  # EmailMode


def default_choice(kind: str) -> Choice:
    spec = KINDS.get(kind)
    if spec is None:
        return Choice(in_app=True, email=EmailMode.OFF)
    return Choice(in_app=spec.in_app_default, email=spec.email_default)


def choices_for(org: Organization, user_ids: Iterable[Any], kind: str) -> dict[Any, Choice]:
    """Each person's choice for ``kind`` (one query for all of them)."""
    ids = list(user_ids)
    choices = dict.fromkeys(ids, default_choice(kind))
    spec = KINDS.get(kind)
    rows = NotificationPreference.objects.for_org(org).filter(user_id__in=ids, kind=kind)
    for row in rows:
        email = row.email
        if email == EmailMode.DIGEST and not (spec and spec.digestible):
            email = EmailMode.INSTANT
        choices[row.user_id] = Choice(in_app=row.in_app, email=email)
    return choices


def preferences(org: Organization, user: User) -> list[tuple[str, Kind, Choice]]:
    """Every registered kind with the person's choice, for the preferences page."""
    chosen = {
        row.kind: Choice(in_app=row.in_app, email=row.email)
        for row in NotificationPreference.objects.for_org(org).filter(user=user)
    }
    return [
        (key, spec, chosen.get(key, default_choice(key)))
        for key, spec in sorted(KINDS.items(), key=lambda item: str(item[1].description))
    ]


def preference_set(
    *, org: Organization, user: User, kind: str, in_app: bool, email: str
) -> NotificationPreference:
    spec = KINDS.get(kind)
    if spec is None:
        raise ValueError(f"Unknown notification kind {kind!r}")
    if email not in EmailMode.values or (email == EmailMode.DIGEST and not spec.digestible):
        raise ValueError(f"{email!r} is not an e-mail choice for {kind!r}")
    with transaction.atomic():
        row, created = NotificationPreference.objects.for_org(org).get_or_create(
            organization=org, user=user, kind=kind, defaults={"in_app": in_app, "email": email}
        )
        if not created and (row.in_app, row.email) != (in_app, email):
            row.in_app, row.email = in_app, email
            row.save(update_fields=["in_app", "email"])
    return row


def render_title(notification: Notification) -> str:
    kind = KINDS.get(notification.kind)
    if kind is None:
        return notification.kind
    try:
        return str(kind.title) % notification.params
    except (KeyError, TypeError, ValueError):
        return str(kind.title)


def notify(
    *,
    org: Organization,
    recipients: Iterable[User],
    kind: str,
    params: dict[str, Any] | None = None,
    url: str = "",
    subject: Any = None,
    dedupe_key: str | None = None,
    email: bool = True,
) -> list[Notification]:
    """Notify each recipient once per ``dedupe_key``, in the app and/or by e-mail as they
    chose. ``email=False`` leaves e-mail to the caller (reminders send their own)."""
    if kind not in KINDS:
        raise ValueError(f"Unknown notification kind {kind!r}: register it with register_kind()")
    wanted = {r.pk: r for r in recipients if r is not None}
    # Only the organization's people hear about its data (a former member, a stale owner
    # field or a caller's mistake must not reach anyone else).
    members = people.member_ids(org, wanted)
    recipients_by_pk = {pk: r for pk, r in wanted.items() if pk in members}
    choices = choices_for(org, recipients_by_pk, kind)
    created = []
    now = timezone.now()
    for recipient in recipients_by_pk.values():
        choice = choices[recipient.pk]
        wants_email = email and choice.email == EmailMode.INSTANT
        if not choice.in_app and not wants_email:
            continue
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        organization=org,
                        recipient=recipient,
                        kind=kind,
                        params=params or {},
                        url=url,
                        subject_type=subject._meta.model_name if subject is not None else "",
                        subject_id=getattr(subject, "pk", None),
                        dedupe_key=dedupe_key,
                        # Not wanted in the app: kept as the e-mail's record, already read.
                        read_at=None if choice.in_app else now,
                        email_pending=wants_email,
                    )
                )
        except IntegrityError:
            continue  # already notified for this dedupe_key
    pending = [(str(org.pk), str(n.pk)) for n in created if n.email_pending]
    if pending:
        transaction.on_commit(lambda: _queue_emails(pending), robust=True)
    return created


def _queue_emails(pending: list[tuple[str, str]]) -> None:
    from followup.engine.tasks import send_notification_email

    for org_id, notification_id in pending:
        try:
            send_notification_email.delay(org_id, notification_id)
        except Exception:  # noqa: BLE001 - the broker is down; sweep_pending_emails sends it
            logger.warning("Could not queue e-mail of notification %s", notification_id)


def send_email(*, org: Organization, notification_id: Any) -> bool:
    """E-mail one notification, once. Returns False when there was nothing (left) to send."""
    with transaction.atomic():
        claimed = (
            Notification.objects.for_org(org)
            .filter(pk=notification_id, email_pending=True)
            .update(email_pending=False, emailed_at=timezone.now())
        )
        if not claimed:
            return False
        notification = (
            Notification.objects.for_org(org).select_related("recipient").get(pk=notification_id)
        )
        recipient = notification.recipient
        if not people.is_member(org, recipient):
            return False  # they left (or were deactivated) since it was queued
        mail.send_to_user(
            user=recipient,
            template="followup/email/notification",
            context={
                "notification": notification,
                "title": _RenderedTitle(notification),
                "url": mail.absolute(notification.url),
                "organization": org,
            },
        )
    return True


class _RenderedTitle:
    """Renders the title lazily, inside the recipient's language override."""

    def __init__(self, notification: Notification) -> None:
        self.notification = notification

    def __str__(self) -> str:
        return render_title(self.notification)


def pending_emails(*, older_than: timedelta, batch: int = 500) -> list[tuple[str, str]]:
    """E-mails whose on-commit dispatch was lost. Cross-tenant by nature (a beat sweep)."""
    cutoff = timezone.now() - older_than
    with rls.cross_tenant("notification sweep"):
        rows = list(
            Notification.objects.dangerously_unscoped()
            .filter(email_pending=True, created_at__lt=cutoff)
            .order_by("created_at")
            .values_list("organization_id", "pk")[:batch]
        )
    return [(str(org_id), str(pk)) for org_id, pk in rows]


def person_forget(*, org: Organization, person: User) -> tuple[int, int]:
    """``person`` left ``org``: delete their notification choices and their notifications
    there (queued e-mails included). Returns (choices, notifications) deleted."""
    with transaction.atomic():
        choices, _per_model = (
            NotificationPreference.objects.for_org(org).filter(user=person).delete()
        )
        notes, _per_model = Notification.objects.for_org(org).filter(recipient=person).delete()
    return choices, notes


# --- Reading ------------------------------------------------------------------------------


def inbox(org: Organization, user: User) -> QuerySet[Notification]:
    """A person's notifications in this organization, newest first."""
    return Notification.objects.for_org(org).filter(recipient=user).order_by("-created_at", "-id")


def unread_count(org: Organization, user: User) -> int:
    return Notification.objects.for_org(org).filter(recipient=user, read_at__isnull=True).count()


def mark_read(*, org: Organization, user: User, ids: Iterable[Any] | None = None) -> int:
    """Mark the person's notifications read (all of them when ``ids`` is None)."""
    rows = Notification.objects.for_org(org).filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update_versioned(read_at=timezone.now())
