"""More entries for a person's calendar feed, provided by apps above the engine.

``followup.engine.calendar`` renders a person's open follow-ups; apps that have dated things
for the same person (project milestones) register a provider in their ``AppConfig.ready()``::

    from followup.engine import feeds
    feeds.register_feed_items(my_provider)

A provider gets the organization and the person and returns ``FeedItem``s: all-day entries
(a date, not a time), with a ``uid`` stable across fetches and a ``path`` on this site. The
calendar module calls ``vevents()`` once per feed and appends what it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from accounts import selectors as people
from accounts.models import Organization, User


@dataclass(frozen=True)
class FeedItem:
    uid: str  # unique and stable, e.g. "milestone-<id>"; the feed adds "@<host>"
    day: date
    summary: str
    description: str
    path: str  # the item's page on this site
    modified: datetime
    sequence: int


Provider = Callable[[Organization, User], Iterable[FeedItem]]
_providers: list[Provider] = []


def register_feed_items(provider: Provider) -> Provider:
    """Add a provider of feed entries (usable as a decorator). Idempotent."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def unregister_feed_items(provider: Provider) -> None:
    if provider in _providers:
        _providers.remove(provider)


def items_for(org: Organization, user: User) -> list[FeedItem]:
    """Every provider's entries for ``user``, who must still be a member of ``org``."""
    if not _providers or not people.is_member(org, user):
        return []
    found: list[FeedItem] = []
    for provider in list(_providers):
        found.extend(provider(org, user))
    return found


def vevents(org: Organization, user: User, *, base_url: str, host: str, now: datetime) -> list[str]:
    """The entries as RFC 5545 content lines (unfolded; the calendar module folds)."""
    from followup.engine.calendar import escape_text, stamp

    lines: list[str] = []
    for item in items_for(org, user):
        url = base_url + item.path
        description = (item.description + "\n\n" + url).strip()
        lines += [
            "BEGIN:VEVENT",
            f"UID:{item.uid}@{host}",
            "DTSTAMP:" + stamp(now),
            "DTSTART;VALUE=DATE:" + item.day.strftime("%Y%m%d"),
            "DTEND;VALUE=DATE:" + (item.day + timedelta(days=1)).strftime("%Y%m%d"),
            "LAST-MODIFIED:" + stamp(item.modified),
            f"SEQUENCE:{item.sequence}",
            "SUMMARY:" + escape_text(item.summary),
            "DESCRIPTION:" + escape_text(description),
            "URL:" + url,
            "STATUS:CONFIRMED",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    return lines
