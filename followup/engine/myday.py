"""Extra sections of My day, provided by apps above the engine.

The engine imports no domain app (the layers point one way), so an app that has something a
person should see on My day beside their follow-ups registers a provider in its
``AppConfig.ready()``::

    from followup.engine import myday
    myday.register_section(my_provider)

A provider gets the organization, the person and their ``Day`` (the bounds of today and of
the coming week in their time zone) and returns a ``Section`` (or None when it has nothing
to show); My day renders each section with the template the section names, passing it as
``section``. Providers must cost a constant number of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from accounts.models import Organization, User
from followup.engine.selectors import Day


@dataclass(frozen=True)
class Section:
    key: str
    template: str  # e.g. "projects/partials/my_day.html", rendered with ``section``
    rows: list[Any] = field(default_factory=list)
    order: int = 100


Provider = Callable[[Organization, User, Day], Section | None]
_providers: list[Provider] = []


def register_section(provider: Provider) -> Provider:
    """Add a provider of a My day section (usable as a decorator). Idempotent."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def unregister_section(provider: Provider) -> None:
    if provider in _providers:
        _providers.remove(provider)


def sections(org: Organization, user: User, day: Day) -> list[Section]:
    found = [s for s in (provider(org, user, day) for provider in list(_providers)) if s]
    return sorted(found, key=lambda s: (s.order, s.key))
