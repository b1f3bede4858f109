"""How a person is named when they log in, sign up, are invited or reset a password.

The identifier is an e-mail address, normalised **once**, here: surrounding white space
stripped and the whole address case-folded. Every path that compares identifiers uses
this, so ``' LOCK8@Beta.test '`` and ``lock8@beta.test`` are one person to the log-in form,
to the lockout (django-axes counts failures per normalised identifier), to sign-up, to
invitations and to password reset.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def normalize_identifier(value: Any) -> str:
    """``' Ann@Example.COM '`` -> ``'ann@example.com'``."""
    if value is None:
        return ""
    return str(value).strip().casefold()


def axes_username(request: Any, credentials: dict[str, Any] | None = None) -> str:
    """``AXES_USERNAME_CALLABLE``: the lockout counts per normalised identifier, so case
    and white-space variants share one failure count."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        raw = credentials.get(field)
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        raw = data.get(field)
    return normalize_identifier(raw)
