"""What becomes of a person's work when they leave an organization.

``accounts`` is the base layer and knows no app above it, yet a member who leaves must
hand their open follow-ups, customers and engagements to somebody (or have them
cancelled) and must lose what existed only for them there: notification choices,
notifications, calendar addresses. Each app that holds such things registers a hook here
from its ``AppConfig.ready()``:

- ``holdings(org, person)`` counts what the person holds, for the page that asks who takes
  it over before anything happens;
- ``leave(departure)`` hands it over (or cancels it) and deletes what was only theirs.

``services.membership_remove`` deletes the membership and then runs every ``leave`` hook in
its own transaction: a person leaves with everything handed over, or does not leave.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import pgettext

if TYPE_CHECKING:
    from accounts.models import Organization, User


@dataclass(frozen=True)
class Departure:
    org: Organization
    person: User  # who leaves
    successor: User | None  # who takes their open work over; None: cancel it
    actor: User | None  # who removed them (the person, when leaving; None for an API key)


@dataclass(frozen=True)
class Tally:
    """What a person holds, or what was done with it: a count and its words.

    ``key`` is stable (the API's ``counts``); ``text`` is in the active language, with the
    count in it ("3 open follow-ups went to Ann").
    """

    key: str
    count: int
    text: str


@dataclass(frozen=True)
class Hook:
    holdings: Callable[[Organization, User], list[Tally]]
    leave: Callable[[Departure], list[Tally]]


_HOOKS: dict[str, Hook] = {}


def register(
    name: str,
    *,
    holdings: Callable[[Organization, User], list[Tally]],
    leave: Callable[[Departure], list[Tally]],
) -> None:
    """Register an app's hooks under ``name`` (idempotent: ``ready()`` may run twice)."""
    _HOOKS[name] = Hook(holdings=holdings, leave=leave)


def holdings(org: Organization, person: User) -> list[Tally]:
    """What ``person`` holds in ``org`` that somebody must take over (nothing held: no line)."""
    return [
        tally for hook in _HOOKS.values() for tally in hook.holdings(org, person) if tally.count
    ]


def run(departure: Departure) -> list[Tally]:
    """Every app's ``leave`` hook; the caller holds the transaction."""
    return [tally for hook in _HOOKS.values() for tally in hook.leave(departure)]


def summary(tallies: list[Tally]) -> str:
    """What was done, in one line: "3 open follow-ups went to Ann; 1 customer went to Ann"."""
    return pgettext("list separator", "; ").join(t.text for t in tallies if t.count)
