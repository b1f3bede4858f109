"""Strict parsers for settings read from the environment.

A typo in an environment variable must stop start-up with a message that names the
variable and the accepted values, instead of silently falling back to a default
(``DJANGO_DEBUG=flase`` must never mean "debug on" or "debug off" by accident).
"""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Sequence
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_MISSING = object()


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None:
        return None
    value = value.strip()
    return value if value != "" else None


def _fail(name: str, expected: str, raw: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"Environment variable {name} must be {expected}; got {raw!r}.")


def env_str(name: str, default: str | object = _MISSING) -> str:
    raw = _raw(name)
    if raw is None:
        if default is _MISSING:
            raise ImproperlyConfigured(f"Environment variable {name} is required.")
        return default  # type: ignore[return-value]
    return raw


def env_bool(name: str, default: bool) -> bool:
    raw = _raw(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _fail(name, "one of true/false, yes/no, on/off, 1/0", raw)


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _fail(name, "an integer", raw) from None
    if minimum is not None and value < minimum:
        raise _fail(name, f"an integer >= {minimum}", raw)
    return value


def env_choice(name: str, choices: Sequence[str], default: str) -> str:
    raw = _raw(name)
    if raw is None:
        return default
    if raw not in choices:
        raise _fail(name, "one of " + ", ".join(choices), raw)
    return raw


def env_list(name: str, default: Sequence[str]) -> list[str]:
    raw = _raw(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, default: str | None, *, schemes: Sequence[str]) -> str | None:
    raw = _raw(name)
    if raw is None:
        return default
    parts = urlsplit(raw)
    if parts.scheme not in schemes or not (parts.netloc or parts.path):
        raise _fail(name, "a URL with scheme " + " or ".join(schemes), raw)
    return raw


def env_timezone(name: str, default: str) -> str:
    raw = _raw(name)
    if raw is None:
        return default
    if raw not in zoneinfo.available_timezones():
        raise _fail(name, "an IANA time zone such as Europe/Berlin", raw)
    return raw


def env_rate(name: str, default: str) -> str:
    """A DRF throttle rate such as ``600/min``."""
    raw = _raw(name) or default
    count, _, period = raw.partition("/")
    if not count.isdigit() or not period or period[0] not in "smhd":
        raise _fail(name, "a rate such as 600/min or 20/s", raw)
    return raw
