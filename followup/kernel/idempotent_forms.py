"""``Idempotency-Key`` on a page's form post: the offline quick log's outbox resends a
touchpoint until the server has answered, and must never log it twice.

The same record as the API's (``IdempotencyRecord``, one key per organization), claimed the
same way: a row under the unique (organization, key) constraint, inserted in its own
committed transaction before the work, so a concurrent retry collides and gets 409, a later
retry gets the stored answer again (``Idempotent-Replayed: true``) and the same key with
another form gets 422. Unlike the API's ``begin()``/``finish()`` pair, the answer is stored
in the transaction that does the work: the work and "it was done" commit together, so a
crash between them cannot leave a key that looks unused after its touchpoint was saved.

The fingerprint is the form's fields without ``csrfmiddlewaretoken``: a retry that had to
fetch a fresh CSRF token is still the same request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.models import Organization
from followup.kernel.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
#: A form answered with its errors (200, so htmx swaps it): nothing was saved.
INVALID_HEADER = "X-Form-Invalid"
_KEPT_HEADERS = ("Content-Type", "Location", "HX-Trigger", INVALID_HEADER)
_NOT_FINGERPRINTED = frozenset({"csrfmiddlewaretoken"})


def valid_key(key: str) -> bool:
    return 0 < len(key) <= 255 and key.isprintable() and key.isascii()


def fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(f"FORM {request.method} {request.path}\n".encode())
    for name in sorted(set(request.POST) - _NOT_FINGERPRINTED):
        for value in request.POST.getlist(name):
            digest.update(f"{name}={value}\n".encode())
    return digest.hexdigest()


def _text(status: int, message: str) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body or b""), status=record.response_status)
    for name, value in (record.response_headers or {}).items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _claim(org: Organization, key: str, print_: str) -> IdempotencyRecord | HttpResponse:
    records = IdempotencyRecord.objects.for_org(org)
    for _attempt in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    organization=org,
                    key=key,
                    fingerprint=print_,
                    expires_at=now + settings.IDEMPOTENCY_TTL,
                )
        except IntegrityError:
            pass
        existing = records.filter(key=key).first()
        if existing is None:
            continue  # purged between our insert and our read: claim again
        if existing.expires_at <= now:
            records.filter(pk=existing.pk, updated_at=existing.updated_at).delete()
            continue
        if existing.fingerprint != print_:
            return _text(422, "This Idempotency-Key was already used with a different request.")
        if not existing.in_flight:
            return _replay(existing)
        if existing.updated_at < now - settings.IDEMPOTENCY_LOCK_TIMEOUT:
            # Its request died (the work rolled back with it, the answer was never stored):
            # take the key over, once.
            taken = records.filter(
                pk=existing.pk, response_status__isnull=True, updated_at=existing.updated_at
            ).update_versioned()
            if taken:
                existing.refresh_from_db()
                return existing
        return _text(409, "A request with this Idempotency-Key is still being processed.")
    return _text(409, "Could not claim the Idempotency-Key. Retry later.")


def _release(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.for_org(record.organization).filter(pk=record.pk).delete()


def run(request: HttpRequest, org: Organization, work: Callable[[], HttpResponse]) -> HttpResponse:
    """Answer a form post once per ``Idempotency-Key`` (posts without one just run)."""
    key = request.headers.get(HEADER)
    if key is None:
        return work()
    if not valid_key(key):
        return _text(400, "Idempotency-Key must be 1 to 255 printable ASCII characters.")
    claimed = _claim(org, key, fingerprint(request))
    if isinstance(claimed, HttpResponse):
        return claimed
    record = claimed
    try:
        with transaction.atomic():
            response = work()
            render = getattr(response, "render", None)
            if render is not None and not getattr(response, "is_rendered", True):
                render()
            if response.status_code < 500:
                headers = {n: response[n] for n in _KEPT_HEADERS if response.has_header(n)}
                IdempotencyRecord.objects.for_org(org).filter(pk=record.pk).update_versioned(
                    response_status=response.status_code,
                    response_body=bytes(response.content),
                    response_headers=headers,
                )
    except BaseException:
        _release(record)  # nothing was done: the client may retry with the same key
        raise
    if response.status_code >= 500:
        _release(record)
    return response
