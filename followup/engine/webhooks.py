"""Outbound webhooks, as Standard Webhooks (standardwebhooks.com) and API.md describe them.

- An endpoint has a secret ``whsec_<base64>``; each delivery is signed with HMAC-SHA256 of
  ``<webhook-id>.<webhook-timestamp>.<body>`` keyed with the base64-decoded secret and sent
  as ``webhook-signature: v1,<base64>``.
- The relayed outbox event becomes one ``WebhookDelivery`` per subscribed endpoint, with
  its body frozen and a ``webhook-id`` (``msg_<event id>``) that every retry and replay
  repeats, so receivers can deduplicate.
- At least once: a failed attempt is retried with exponential backoff (``RETRY_SCHEDULE``,
  a little over a day in all); due retries live in the database (``next_attempt_at``) and a
  beat tick claims them like reminders. A delivery that exhausts its retries disables the
  endpoint and tells the organization's admins.
- SSRF: only http and https; the resolved address is checked before each attempt and
  private, loopback, link-local and reserved addresses are refused unless
  ``FOLLOWUP_WEBHOOKS_ALLOW_PRIVATE`` is on (its default is on outside production, where
  tests and a local receiver need it, and off in production). Redirects are not followed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import random
import secrets
import socket
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import Membership, Organization, User
from accounts.roles import role_can
from followup.engine import notifications
from followup.engine.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from followup.kernel import claims, events, subjects
from followup.kernel.models import Event

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
USER_AGENT = "Followup-Webhooks/1.0"
# Wait before attempt n+1 after n failed attempts: 30 s ... 8 h, about 30 h in all.
RETRY_SCHEDULE = [
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=6),
    timedelta(hours=8),
    timedelta(hours=8),
]
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1


# --- Secrets and signatures ---------------------------------------------------------------


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers_for(delivery: WebhookDelivery, secret: str, timestamp: int) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, delivery.message_id, timestamp, delivery.body),
    }


# --- Destinations ---------------------------------------------------------------------------


def validate_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValidationError({"url": _("Use an http:// or https:// address.")})
    if not parts.hostname:
        raise ValidationError({"url": _("The address needs a host name.")})
    if parts.username or parts.password:
        raise ValidationError({"url": _("Leave credentials out of the address.")})
    return url


class Refused(Exception):
    """The destination may not be called (scheme, or a private address)."""


def check_destination(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("only http and https addresses are called")
    if settings.FOLLOWUP_WEBHOOKS_ALLOW_PRIVATE:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Refused(f"cannot resolve {parts.hostname}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise Refused(f"{parts.hostname} resolves to a non-public address ({address})")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is an answer (a failure), never a new destination


_opener = urllib.request.build_opener(_NoRedirect)


def post(url: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
    """POST and return (status code, first bytes of the answer). Raises OSError/Refused."""
    check_destination(url)
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")  # noqa: S310 - scheme checked above
    try:
        with _opener.open(request, timeout=settings.FOLLOWUP_WEBHOOK_TIMEOUT) as response:
            return response.status, response.read(500).decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(500).decode(errors="replace") if exc.fp else ""


# --- Endpoints ------------------------------------------------------------------------------


def clean_event_types(values: Any) -> list[str]:
    chosen = sorted(set(values or []))
    unknown = [v for v in chosen if v not in events.EVENT_TYPES]
    if not chosen or unknown:
        raise ValidationError({"event_types": _("Choose one or more of the offered event types.")})
    return chosen


def endpoint_create(
    *,
    org: Organization,
    actor: User | None,
    url: str,
    event_types: list[str],
    description: str = "",
    enabled: bool = True,
) -> WebhookEndpoint:
    """Create an endpoint; its secret is on the returned object (show it once)."""
    endpoint = WebhookEndpoint(
        organization=org,
        url=validate_url(url),
        event_types=clean_event_types(event_types),
        description=description,
        enabled=enabled,
        secret=generate_secret(),
        created_by=actor if actor is not None and actor.pk else None,
    )
    endpoint.full_clean(exclude=["created_by"])
    with transaction.atomic():
        endpoint.save()
        audit.record(
            org=org,
            action="webhook.created",
            actor=actor,
            obj=endpoint,
            changes=audit.diff({}, _audited(endpoint)),
        )
    return endpoint


def _audited(endpoint: WebhookEndpoint) -> dict[str, Any]:
    # Never the secret: the trail is readable by every admin, the secret is shown once.
    return {
        "url": endpoint.url,
        "event_types": list(endpoint.event_types or []),
        "description": endpoint.description,
        "enabled": endpoint.enabled,
    }


EDITABLE_FIELDS = ("url", "event_types", "description", "enabled")


def endpoint_update(
    *, endpoint: WebhookEndpoint, actor: User | None = None, **changes: Any
) -> WebhookEndpoint:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {sorted(unknown)}")
    if "url" in changes:
        changes["url"] = validate_url(changes["url"])
    if "event_types" in changes:
        changes["event_types"] = clean_event_types(changes["event_types"])
    org = endpoint.organization
    with transaction.atomic():
        locked = WebhookEndpoint.objects.for_org(org).select_for_update().get(pk=endpoint.pk)
        before = _audited(locked)
        fields = [name for name, value in changes.items() if getattr(locked, name) != value]
        if changes.get("enabled") and not locked.enabled:
            locked.disabled_reason = ""
            locked.failing_since = None
            fields += ["disabled_reason", "failing_since"]
        for name in fields:
            if name in changes:
                setattr(locked, name, changes[name])
        if not fields:
            return locked
        locked.full_clean(exclude=["created_by"])
        locked.save(update_fields=fields)
        audit.record(
            org=org,
            action="webhook.updated",
            actor=actor,
            obj=locked,
            changes=audit.diff(before, _audited(locked)),
        )
    return locked


def endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, actor: User | None = None
) -> WebhookEndpoint:
    with transaction.atomic():
        locked = (
            WebhookEndpoint.objects.for_org(endpoint.organization)
            .select_for_update()
            .get(pk=endpoint.pk)
        )
        locked.secret = generate_secret()
        locked.save(update_fields=["secret"])
        audit.record(
            org=locked.organization, action="webhook.secret_rotated", actor=actor, obj=locked
        )
    return locked


def endpoint_delete(*, endpoint: WebhookEndpoint, actor: User | None = None) -> None:
    with transaction.atomic():
        audit.record(
            org=endpoint.organization,
            action="webhook.deleted",
            actor=actor,
            obj=endpoint,
            changes=audit.diff(_audited(endpoint), {}),
        )
        endpoint.delete()


# --- Fan-out from the outbox ----------------------------------------------------------------


def _object_name(event: Event) -> str:
    """The kind of object the event is about, as the API names it: the event type's
    resource (``touchpoint`` of ``touchpoint.created``) when the subject is of that model,
    else the subject model's own name (a ``phase`` of ``project.phase_changed``)."""
    resource = event.type.partition(".")[0]
    label = event.subject_type
    entry = subjects.get(label)
    model_name = (
        entry.model._meta.model_name if entry is not None else label.rpartition(".")[2]
    ) or resource
    return resource if resource.replace("_", "") == model_name else model_name


def object_of(event: Event) -> dict[str, Any]:
    """``id``, ``object`` and ``url`` of the event's object: its API representation is at
    ``url`` (null when the event deleted it, or when the API has no such resource)."""
    name = _object_name(event)
    url = None
    if event.subject_id is not None and not event.type.endswith(".deleted"):
        try:
            url = settings.BASE_URL + reverse(
                f"{name.replace('_', '-')}-detail", kwargs={"pk": event.subject_id}
            )
        except NoReverseMatch:
            url = None
    return {
        "id": str(event.subject_id) if event.subject_id else None,
        "object": name,
        "url": url,
    }


def body_for(event: Event) -> str:
    """Standard Webhooks: ``type``, ``timestamp`` and ``data``. ``data`` names the object
    (``id``, ``object``, ``url`` of its API representation) beside the event's own fields
    (a follow-up's or a comment's representation at the time of the event), the
    organization and the event id. docs/API.md documents each event's shape."""
    return json.dumps(
        {
            "type": event.type,
            "timestamp": event.created_at.isoformat(),
            "data": {
                **event.payload,
                **object_of(event),
                "organization": str(event.organization_id),
                "event_id": str(event.pk),
            },
        },
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
        sort_keys=True,
    )


@events.subscribe("webhooks.fan_out")
def fan_out(event: Event) -> None:
    """Subscriber of the outbox relay: one delivery per endpoint that wants this type."""
    org = event.organization
    endpoints = [
        e for e in WebhookEndpoint.objects.for_org(org).filter(enabled=True) if e.wants(event.type)
    ]
    if not endpoints:
        return
    body = body_for(event)
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                organization=org,
                endpoint=endpoint,
                event=event,
                event_type=event.type,
                message_id=f"msg_{event.pk.hex}",
                body=body,
                next_attempt_at=now,
            )
            for endpoint in endpoints
        ],
        ignore_conflicts=True,  # a relay retried after a crash must not double them
    )
    transaction.on_commit(lambda: _kick(), robust=True)


def _kick() -> None:
    from followup.engine.tasks import dispatch_webhooks

    try:
        dispatch_webhooks.delay()
    except Exception:  # noqa: BLE001 - the broker is down; the minute tick dispatches them
        logger.warning("Could not queue webhook dispatch; the periodic tick will")


# --- Attempts ---------------------------------------------------------------------------------


def claim(*, now: datetime | None = None, batch: int = 200) -> claims.Claimed:
    now = now or timezone.now()
    # Cross-tenant by nature: one tick serves every organization's deliveries.
    due = WebhookDelivery.objects.dangerously_unscoped().filter(
        status=WebhookDeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__enabled=True
    )
    return claims.claim_due(
        due,
        due_field="next_attempt_at",
        claimed_at_field="claimed_at",
        claim_field="claim",
        now=now,
        timeout=settings.FOLLOWUP_CLAIM_TIMEOUT,
        batch=batch,
    )


def backoff(attempts: int) -> timedelta:
    """Wait after ``attempts`` failed attempts, with 10 % jitter so retries spread out."""
    base = RETRY_SCHEDULE[min(attempts, len(RETRY_SCHEDULE)) - 1]
    return base + base * random.uniform(0, 0.1)


def attempt(*, org: Organization, delivery_id: Any, token: uuid.UUID, replay: bool = False) -> bool:
    """Make one HTTP attempt of a claimed delivery. Returns True when it was delivered."""
    rows = WebhookDelivery.objects.for_org(org).select_related("endpoint", "organization")
    if not replay:
        rows = rows.filter(status=WebhookDeliveryStatus.PENDING)
    delivery = rows.filter(pk=delivery_id, claim=token).first()
    if delivery is None:
        return False  # claim lost, already delivered, or gone: nothing to do
    endpoint = delivery.endpoint
    started = time.monotonic()
    status_code, excerpt, error = None, "", ""
    try:
        status_code, excerpt = post(
            endpoint.url, delivery.body, headers_for(delivery, endpoint.secret, int(time.time()))
        )
    except Refused as exc:
        error = str(exc)
    except (OSError, ValueError) as exc:  # connection refused, timeout, TLS, bad URL
        error = f"{type(exc).__name__}: {exc}"
    duration = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    if not ok and not error:
        error = _("The receiver answered %(code)s.") % {"code": status_code}
    _record(delivery, token, ok, status_code, excerpt, error[:300], duration, replay)
    return ok


def _record(
    delivery: WebhookDelivery,
    token: uuid.UUID,
    ok: bool,
    status_code: int | None,
    excerpt: str,
    error: str,
    duration: int,
    replay: bool,
) -> None:
    org = delivery.organization
    endpoint = delivery.endpoint
    now = timezone.now()
    number = delivery.attempt_count + 1
    with transaction.atomic():
        WebhookAttempt.objects.create(
            organization=org,
            delivery=delivery,
            number=number,
            status_code=status_code,
            error="" if ok else error,
            response_excerpt=excerpt,
            duration_ms=duration,
            replay=replay,
        )
        fields: dict[str, Any] = {
            "attempt_count": number,
            "claimed_at": None,
            "claim": None,
            "last_status_code": status_code,
            "last_error": "" if ok else error,
        }
        exhausted = not ok and not replay and number >= MAX_ATTEMPTS
        if ok:
            fields.update(
                status=WebhookDeliveryStatus.SUCCEEDED, delivered_at=now, next_attempt_at=None
            )
        elif exhausted:
            fields.update(status=WebhookDeliveryStatus.FAILED, next_attempt_at=None)
        elif not replay:
            fields.update(next_attempt_at=now + backoff(number))
        # A failed replay leaves the delivery's state and retry schedule as they were.
        WebhookDelivery.objects.for_org(org).filter(pk=delivery.pk, claim=token).update(**fields)
        endpoints = WebhookEndpoint.objects.for_org(org).filter(pk=endpoint.pk)
        if ok:
            endpoints.filter(failing_since__isnull=False).update(failing_since=None)
        else:
            endpoints.filter(failing_since__isnull=True).update(failing_since=now)
        if exhausted:
            _disable(endpoint, _("Deliveries failed for more than a day."))


def _disable(endpoint: WebhookEndpoint, reason: str) -> None:
    org = endpoint.organization
    disabled = (
        WebhookEndpoint.objects.for_org(org)
        .filter(pk=endpoint.pk, enabled=True)
        .update_versioned(enabled=False, disabled_reason=reason)
    )
    if not disabled:
        return
    audit.record(
        org=org,
        action="webhook.disabled",
        obj=endpoint,
        changes={"enabled": [True, False]},
        note=reason,
    )
    admins = [
        m.user
        for m in Membership.objects.for_org(org).select_related("user")
        if role_can(m.role, "webhooks.manage")
    ]
    notifications.notify(
        org=org,
        recipients=admins,
        kind="webhooks.endpoint_disabled",
        params={"url": endpoint.url},
        url=reverse("followup:webhook_detail", kwargs={"org_slug": org.slug, "pk": endpoint.pk}),
        subject=endpoint,
        dedupe_key=f"webhook-disabled:{endpoint.pk}:{endpoint.version}",
    )


def replay(*, org: Organization, delivery_id: Any) -> bool | None:
    """Send a delivery again now, with the same body and ``webhook-id``.

    Returns whether it was delivered, or None when another attempt holds it right now.
    """
    token = uuid.uuid4()
    now = timezone.now()
    free = Q(claim__isnull=True) | Q(claimed_at__lt=now - settings.FOLLOWUP_CLAIM_TIMEOUT)
    claimed = (
        WebhookDelivery.objects.for_org(org)
        .filter(free, pk=delivery_id)
        .update(claim=token, claimed_at=now)
    )
    if not claimed:
        return None
    return attempt(org=org, delivery_id=delivery_id, token=token, replay=True)
