"""Fixed-window attempt counters in the shared cache, for the doors an attacker knocks on
without a session: failed API-key authentication, sign-up, password reset.

``hit(scope, ident, limit=..., window=...)`` counts one attempt and says whether it is
over the limit, and how long until the window ends (for ``Retry-After``). When the shared
cache (Redis) cannot be reached the counters fall back to this process's memory, with a
log line: the limit still holds per process, and nothing answers a 500.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

logger = logging.getLogger(__name__)

_local = LocMemCache("followup-ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 10000}})


#: A value of ``also`` that could not be read from the shared cache.
UNREAD = object()


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int
    #: The ``also`` keys of ``blocked``, as read from the shared cache in the same round trip.
    also: dict[str, Any] = field(default_factory=dict)


def _key(scope: str, ident: str, window: int, now: float) -> tuple[str, int]:
    start = int(now // window) * window
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}:{start}", start + window


def _count(key: str, ttl: int, *, add: bool) -> int:
    for backend in (cache, _local):
        try:
            if not add:
                return int(backend.get(key, 0))
            if backend.add(key, 1, ttl):
                return 1
            return int(backend.incr(key))
        except ValueError:  # expired between add and incr: a new window
            backend.set(key, 1, ttl)
            return 1
        except Exception as exc:  # noqa: BLE001 - the shared cache is down: count locally
            logger.warning("Rate-limit cache unreachable (%s); counting per process", exc)
    return 0


def blocked(
    scope: str, ident: str, *, limit: int, window: int, also: tuple[str, ...] = ()
) -> Verdict:
    """Whether ``ident`` has already used up its attempts (does not count one).

    ``also``: other keys of the shared cache to read in the same round trip (the API key
    stamp, ``accounts.apikey_cache``); their values are in ``Verdict.also``, ``UNREAD``
    when the shared cache could not be reached."""
    now = time.time()
    key, end = _key(scope, ident, window, now)
    if also:
        count, values = _read_many(key, also)
    else:
        count, values = _count(key, window, add=False), {}
    return Verdict(allowed=count < limit, retry_after=max(1, int(end - now) + 1), also=values)


def _read_many(key: str, also: tuple[str, ...]) -> tuple[int, dict[str, Any]]:
    try:
        found = cache.get_many([key, *also])
    except Exception as exc:  # noqa: BLE001 - the shared cache is down: count locally
        logger.warning("Rate-limit cache unreachable (%s); counting per process", exc)
        return int(_local.get(key, 0)), dict.fromkeys(also, UNREAD)
    return int(found.get(key, 0)), {name: found.get(name) for name in also}


def hit(scope: str, ident: str, *, limit: int, window: int) -> Verdict:
    """Count one attempt of ``ident``; not allowed once more than ``limit`` in the window."""
    now = time.time()
    key, end = _key(scope, ident, window, now)
    count = _count(key, window + 1, add=True)
    return Verdict(allowed=count <= limit, retry_after=max(1, int(end - now) + 1))
