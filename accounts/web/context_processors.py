from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts import selectors


def organization(request: HttpRequest) -> dict[str, Any]:
    """The current organization and, lazily, the others for the switcher."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "org": getattr(request, "org", None),
        "membership": getattr(request, "membership", None),
        "my_memberships": SimpleLazyObject(lambda: list(selectors.memberships_of(user))),
    }
