from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.utils.connection import ConnectionProxy
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiKey

logger = logging.getLogger(__name__)

#: This process's own counters, used while the shared cache (Redis) cannot be reached: the
#: limit then holds per process instead of across all of them, and the API keeps answering.
_local_cache = LocMemCache("followup-throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 10000}})
_last_warning = 0.0


def _warn_degraded(exc: Exception) -> None:
    global _last_warning  # one log line a minute per process, not one per request
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        logger.warning(
            "Throttle cache unreachable (%s: %s); limiting per process until it returns",
            type(exc).__name__,
            exc,
        )


class DegradingThrottleMixin:
    """A throttle whose shared cache may be down: it falls back to a per-process limit
    with a log line, so an outage of Redis never turns a request into a 500."""

    cache: Any

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return bool(super().allow_request(request, view))  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - any cache failure: degrade, never fail
            _warn_degraded(exc)
            self.cache = _local_cache
            return bool(super().allow_request(request, view))  # type: ignore[misc]

    def throttle_success(self) -> bool:
        try:
            return bool(super().throttle_success())  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - the write of the history failed: keep going
            _warn_degraded(exc)
            return True


def count_in_window(cache: BaseCache, key: str, ttl: int) -> int:
    """Count one more request under ``key`` (one window's counter) and return the count.

    On Redis this is one round trip (a pipeline of ``SET NX EX`` and ``INCR``); DRF's own
    throttle makes two (read the history, write it back) and moves a list of timestamps.
    Other caches (tests, the per-process fallback) use ``add`` then ``incr``."""
    if isinstance(cache, ConnectionProxy):  # django.core.cache.cache, DRF's default
        cache = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        client = cache._cache.get_client(full_key, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.set(full_key, 0, ex=ttl, nx=True)
        pipe.incr(full_key)
        return int(pipe.execute()[1])
    if cache.add(key, 1, ttl):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr: a new window
        cache.set(key, 1, ttl)
        return 1


class FixedWindowThrottle(SimpleRateThrottle):
    """DRF's rate syntax and ``Retry-After``, counted in fixed windows of the rate's
    duration: one counter per key and window, one round trip to the cache per request.
    A client can spend one window's budget at its end and the next one's at the start of
    the next window (at most twice the rate over one window); the budget itself holds."""

    _wait: float = 0.0
    duration: int  # set by SimpleRateThrottle.__init__ from the rate
    num_requests: int

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        start = int(now // self.duration) * self.duration
        count = count_in_window(self.cache, f"{self.key}:{start}", self.duration + 1)
        if count <= self.num_requests:
            return True
        self._wait = start + self.duration - now
        return False

    def wait(self) -> float:
        return max(1.0, self._wait)


class ApiKeyRateThrottle(DegradingThrottleMixin, FixedWindowThrottle):
    """A budget per API key (API.md: limits are per key), shared by every process."""

    scope = "api_key"

    def get_rate(self) -> str:
        # Read at request time, not import time, so settings overrides apply.
        return settings.FOLLOWUP_API_RATE

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiKey):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None  # unauthenticated requests fail before they cost anything
