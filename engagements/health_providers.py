"""Counts that other apps feed into engagement health, without engagements importing them.

Health has a signal "open business risks" that the risk register knows and engagements
does not (risks sit above engagements; DESIGN.md). The risk register registers a provider
here in its ``AppConfig.ready()``; until one is registered the signal is "not counted"
(``None``), so health never pretends to know what nobody measures.

A provider takes the organization and ``{engagement id: customer id}`` and returns a count
per engagement id (absent ids count 0). It must cost a constant number of queries however
many engagements it is asked about: the customer list recomputes health in bulk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from accounts.models import Organization

CountProvider = Callable[[Organization, Mapping[Any, Any]], Mapping[Any, int]]

OPEN_BUSINESS_RISKS = "open_business_risks"
_providers: dict[str, CountProvider] = {}


def register(signal: str, provider: CountProvider) -> None:
    """Feed ``signal`` (e.g. ``OPEN_BUSINESS_RISKS``) from ``provider``. One per signal."""
    existing = _providers.get(signal)
    if existing is not None and existing is not provider:
        raise ValueError(f"{signal!r} already has a provider: {existing!r}")
    _providers[signal] = provider


def unregister(signal: str) -> None:
    _providers.pop(signal, None)


def counts(signal: str, org: Organization, customer_of: Mapping[Any, Any]) -> dict[Any, int] | None:
    """The signal's count per engagement id, or None when no app provides it."""
    provider = _providers.get(signal)
    if provider is None:
        return None
    found = provider(org, customer_of)
    return {pk: int(found.get(pk, 0)) for pk in customer_of}
