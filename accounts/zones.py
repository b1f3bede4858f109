"""Time zones and secrets' digests: the two small helpers that every layer needs once.

``zone(name)`` is the one "this zone, or UTC when it is unknown" rule (an organization's,
a person's, an import job's zone); ``token_digest`` is the one way a long random token (an
API key, a calendar-feed token) is stored and looked up.
"""

from __future__ import annotations

import hashlib
import zoneinfo
from functools import lru_cache


@lru_cache(maxsize=512)
def zone(name: str | None) -> zoneinfo.ZoneInfo:
    """The zone called ``name``; UTC for an empty, unknown or malformed name."""
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def token_digest(token: str) -> str:
    """SHA-256 of a long random token. A fast hash is enough for random secrets (they are
    not passwords) and keeps per-request authentication cheap."""
    return hashlib.sha256(token.encode()).hexdigest()
