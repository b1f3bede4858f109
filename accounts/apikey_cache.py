"""API keys remembered per process, so an API request does not look its key up every time.

Every request carries its key; looking it up is one query and two model instances, a fifth
of a warm customer-list request. Each process keeps the keys it has seen for ``TTL``
seconds, together with the **stamp** it read from the shared cache (Redis) before it loaded
them. Any change to a key or an organization (revocation, role or name change, deletion,
``organization_update``: ``post_save`` / ``post_delete`` here, and an explicit ``bump()``
after bulk updates) writes a new stamp once its transaction commits. Every request reads
the stamp in the round trip it already makes for the failed-attempt counter
(``ratelimit.blocked(..., also=...)``), and a process whose remembered stamp differs loads
the key again: a revoked key is refused on the very next request, in every process.

When the stamp cannot be read (the shared cache is down) nothing remembered is trusted and
the key is looked up every time; if a stamp could not be written, the TTL bounds how long
another process may go on trusting what it remembered.
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from accounts import ratelimit, rls
from accounts.models import ApiKey, Organization

logger = logging.getLogger(__name__)

STAMP_KEY = "api-keys:stamp"
TTL = 60.0  # seconds a process trusts a key it looked up, whatever the stamp says
LAST_USED_EVERY = timedelta(minutes=1)
#: What ``ratelimit.blocked`` returns for a stamp it could not read from the shared cache.
UNREADABLE = ratelimit.UNREAD


@dataclass
class _Entry:
    api_key: ApiKey
    stamp: Any
    loaded: float


class KeyCache:
    """One process's remembered keys (a module-level instance; tests make others to play
    the part of another process)."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def lookup(self, plain: str, *, stamp: Any) -> ApiKey | None:
        """The active key ``plain`` names, or None. ``stamp`` is the shared stamp as read
        at the start of this request (``UNREADABLE`` if it could not be)."""
        prefix = ApiKey.parse_prefix(plain)
        if prefix is None:
            return None
        now = time.monotonic()
        entry = self._entries.get(prefix)
        if entry is None or stamp is UNREADABLE or entry.stamp != stamp or now - entry.loaded > TTL:
            api_key = _load(prefix)
            if api_key is None:
                self._entries.pop(prefix, None)
                return None
            entry = _Entry(api_key=api_key, stamp=stamp, loaded=now)
            if stamp is not UNREADABLE:
                if len(self._entries) > 10_000:  # keys of a process are few; never unbounded
                    self._entries.clear()
                self._entries[prefix] = entry
        if not entry.api_key.matches(plain):
            return None
        _touch(entry.api_key)
        return _private_copy(entry.api_key)

    def clear(self) -> None:
        self._entries.clear()


def _load(prefix: str) -> ApiKey | None:
    # The key is the credential and names its organization: cross-tenant lookup by design.
    with rls.cross_tenant("api key"):
        return (
            ApiKey.objects.dangerously_unscoped()
            .select_related("organization")
            .filter(prefix=prefix, revoked_at__isnull=True)
            .first()
        )


def _touch(api_key: ApiKey) -> None:
    """``last_used_at``: one write a minute per key at most, whatever the processes."""
    now = timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_EVERY:
        return
    api_key.last_used_at = now  # remembered: this process does not try again for a minute
    with rls.org_context(api_key.organization):
        (
            ApiKey.objects.for_org(api_key.organization)
            .filter(pk=api_key.pk)
            .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY))
            .update(last_used_at=now)
        )


def _private_copy(api_key: ApiKey) -> ApiKey:
    """Each request gets its own instances: nothing it sets leaks into the next one."""
    mine = copy.copy(api_key)
    mine.organization = copy.copy(api_key.organization)
    return mine


def bump() -> None:
    """A key or an organization changed: every process looks its keys up again, once the
    change is committed (a stamp written before the commit could be read, and the old row
    loaded and remembered under it, by a request racing the transaction)."""
    transaction.on_commit(_write_stamp, robust=True)


def _write_stamp() -> None:
    try:
        cache.set(STAMP_KEY, uuid.uuid4().hex, None)
    except Exception as exc:  # noqa: BLE001 - the TTL bounds what another process trusts
        logger.warning("Could not write the API key stamp (%s); keys expire in %ss", exc, TTL)


def _changed(sender: type, **kwargs: Any) -> None:
    bump()


post_save.connect(_changed, sender=ApiKey, dispatch_uid="apikey-cache-key-saved")
post_delete.connect(_changed, sender=ApiKey, dispatch_uid="apikey-cache-key-deleted")
post_save.connect(_changed, sender=Organization, dispatch_uid="apikey-cache-org-saved")
post_delete.connect(_changed, sender=Organization, dispatch_uid="apikey-cache-org-deleted")

keys = KeyCache()
