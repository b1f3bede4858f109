from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest

from followup.engine import notifications as notes


def notifications(request: HttpRequest) -> dict[str, Any]:
    """``unread_notifications`` for the bell: counted only if a page shows it, once."""
    org = getattr(request, "org", None)
    user = getattr(request, "user", None)
    if org is None or user is None or not user.is_authenticated:
        return {}

    @cache
    def unread() -> int:
        return notes.unread_count(org, user)

    return {"unread_notifications": unread}
