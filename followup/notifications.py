"""Notifications: what a person should see, rendered in the reader's language.

Apps register their kinds (``register_kind``) with a translatable title that is formatted
with the notification's ``params`` when shown. ``notify()`` stores one in-app notification
per recipient (deduplicated by ``dedupe_key``); delivery by e-mail and preferences belong
to the follow-up engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.functional import Promise

from accounts.models import Organization, User
from followup.models import Notification


@dataclass(frozen=True)
class Kind:
    title: str | Promise  # "%(engagement)s turned red", formatted with params
    description: str | Promise  # shown in notification preferences


KINDS: dict[str, Kind] = {}


def register_kind(kind: str, *, title: str | Promise, description: str | Promise) -> None:
    KINDS[kind] = Kind(title=title, description=description)


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
) -> list[Notification]:
    if kind not in KINDS:
        raise ValueError(f"Unknown notification kind {kind!r}: register it with register_kind()")
    created = []
    for recipient in {r.pk: r for r in recipients if r is not None}.values():
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
                    )
                )
        except IntegrityError:
            continue  # already notified for this dedupe_key
    return created
