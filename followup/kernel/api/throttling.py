from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    """A budget per API key (API.md: limits are per key), shared by every process."""

    scope = "api_key"

    def get_rate(self) -> str:
        # Read at request time, not import time, so settings overrides apply.
        return settings.FOLLOWUP_API_RATE

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiKey):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None  # unauthenticated requests fail before they cost anything
