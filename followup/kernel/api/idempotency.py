"""``Idempotency-Key`` on POST, as API.md promises.

The key is claimed by inserting a row under a unique (organization, key) constraint in its
own short, committed transaction, before the request's write transaction starts: a
concurrent retry sees the claim and gets 409, a later retry gets the stored response, a
different body gets 422. (An existing row is read before any insert, so on SQLite, where a
writer holds the database's write lock, a retry still answers at once.)

The stored response follows the write (``TenantViewSet.dispatch``): a success is stored in
the write's own transaction, so the two commit together or not at all; a refusal (4xx) is
stored after its rolled-back write, because it is the answer to that request too; a 5xx,
or a write whose commit fails, deletes the claim, so a retry runs again from scratch. A
crash between the rollback and that delete leaves an in-flight claim that a retry takes
over after ``IDEMPOTENCY_LOCK_TIMEOUT``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from accounts import rls
from accounts.models import Organization
from followup.kernel.api.problems import PROBLEM_BASE, Conflict, Unprocessable
from followup.kernel.api.serializers import Secret
from followup.kernel.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
REDACTED_MEMBER = "redacted"
_KEPT_HEADERS = ("Content-Type", "Location", "ETag")


class Replay(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _fingerprint(request: Request) -> str:
    raw = request.body
    try:
        # The same JSON with other whitespace or key order is the same request.
        canonical = json.dumps(json.loads(raw or b"null"), sort_keys=True, separators=(",", ":"))
        payload = canonical.encode()
    except ValueError:
        payload = raw
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.path.encode() + b"\n")
    digest.update(payload)
    return digest.hexdigest()


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= 255 and key.isprintable() and key.isascii()


def redact(data: Any, path: str = "") -> tuple[Any, list[str]]:
    """``data`` with every ``Secret`` replaced by None, and the dotted paths replaced."""
    if isinstance(data, Secret):
        return None, [path]
    if isinstance(data, dict):
        out, paths = {}, []
        for key, value in data.items():
            out[key], found = redact(value, f"{path}.{key}" if path else str(key))
            paths += found
        return out, paths
    if isinstance(data, list | tuple):
        items, paths = [], []
        for index, value in enumerate(data):
            item, found = redact(value, f"{path}.{index}" if path else str(index))
            items.append(item)
            paths += found
        return items, paths
    return data, []


def _content_to_keep(response: HttpResponse) -> bytes:
    data = getattr(response, "data", None)
    redacted, paths = redact(data)
    if not paths:
        return bytes(response.content)
    if isinstance(redacted, dict):
        redacted[REDACTED_MEMBER] = paths
    renderer = getattr(response, "accepted_renderer", None) or JSONRenderer()
    return bytes(
        renderer.render(
            redacted,
            getattr(response, "accepted_media_type", None),
            getattr(response, "renderer_context", None),
        )
    )


@dataclass
class Claim:
    record: IdempotencyRecord

    def store(self, response: HttpResponseBase) -> None:
        """Keep ``response`` as the answer to every retry of this key.

        Called inside the write's transaction for a success, so that the write and its
        stored answer commit together, and after the rollback for a refusal (4xx).
        """
        if not isinstance(response, HttpResponse):
            raise TypeError("A streamed response cannot be stored for Idempotency-Key replays")
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
        headers = {name: response[name] for name in _KEPT_HEADERS if response.has_header(name)}
        record = self.record
        IdempotencyRecord.objects.for_org(record.organization).filter(
            pk=record.pk
        ).update_versioned(
            response_status=response.status_code,
            response_body=_content_to_keep(response),
            response_headers=headers,
        )

    def release(self) -> None:
        """The request failed and wrote nothing (5xx, or its commit failed): free the key."""
        record = self.record
        IdempotencyRecord.objects.for_org(record.organization).filter(pk=record.pk).delete()


def begin(request: Request, org: Organization) -> Claim | None:
    """Claim the request's key, or raise Replay / Conflict / Unprocessable.

    Returns None when the request carries no key.
    """
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _valid_key(key):
        raise exceptions.ValidationError(
            {HEADER: [_("Idempotency-Key must be 1 to 255 printable ASCII characters.")]}
        )
    fingerprint = _fingerprint(request)
    records = IdempotencyRecord.objects.for_org(org)
    for _attempt in range(3):
        now = timezone.now()
        # Read before inserting: an answer or an in-flight claim needs no write (and no
        # wait for SQLite's write lock while the first request still holds it).
        existing = records.filter(key=key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        organization=org,
                        key=key,
                        fingerprint=fingerprint,
                        expires_at=now + settings.IDEMPOTENCY_TTL,
                    )
                return Claim(record)
            except IntegrityError:
                continue  # claimed by a concurrent request since our read: read it
        if existing.expires_at <= now:
            records.filter(pk=existing.pk, updated_at=existing.updated_at).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise Unprocessable(
                _("This Idempotency-Key was already used with a different request."),
                problem_type=PROBLEM_BASE + "idempotency-key-reused",
            )
        if existing.in_flight:
            stale_before = now - settings.IDEMPOTENCY_LOCK_TIMEOUT
            if existing.updated_at < stale_before:
                # The first request died without answering: take the key over, once.
                taken = records.filter(
                    pk=existing.pk, response_status__isnull=True, updated_at=existing.updated_at
                ).update_versioned()
                if taken:
                    existing.refresh_from_db()
                    return Claim(existing)
            raise Conflict(
                _("A request with this Idempotency-Key is still being processed. Retry later."),
                problem_type=PROBLEM_BASE + "idempotency-in-flight",
            )
        response = HttpResponse(
            bytes(existing.response_body or b""), status=existing.response_status
        )
        for name, value in existing.response_headers.items():
            response[name] = value
        response[REPLAYED_HEADER] = "true"
        raise Replay(response)
    raise Conflict(_("Could not claim the Idempotency-Key. Retry later."))


def purge_expired() -> int:
    with rls.cross_tenant("expired rows cleanup"):
        deleted, _rows = (
            IdempotencyRecord.objects.dangerously_unscoped()
            .filter(expires_at__lte=timezone.now())
            .delete()
        )
    return deleted
