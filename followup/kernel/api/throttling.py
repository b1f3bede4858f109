from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
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


class ApiKeyRateThrottle(DegradingThrottleMixin, SimpleRateThrottle):
    """A budget per API key (API.md: limits are per key), shared by every process."""

    scope = "api_key"

    def get_rate(self) -> str:
        # Read at request time, not import time, so settings overrides apply.
        return settings.FOLLOWUP_API_RATE

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiKey):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None  # unauthenticated requests fail before they cost anything
