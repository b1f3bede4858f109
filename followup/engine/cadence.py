"""Cadences in the reader's language: the pure recurrence module with Django's gettext."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils.translation import gettext, ngettext

from followup.engine.calc import recurrence

WORDS = recurrence.Words(gettext=gettext, ngettext=ngettext)


def describe(rule: recurrence.Rule, at: time | None = None, *, tz: str | None = None) -> str:
    """``recurrence.describe`` in the active language (``tz``: the owner's zone)."""
    return recurrence.describe(rule, at, words=WORDS, tz=tz)


@dataclass(frozen=True)
class Start:
    """Where a new cadence begins: its first due instant, its local first day and time."""

    first: datetime
    day: date
    at: time


def start(
    rule: recurrence.Rule, *, due: datetime | None, at: time | None, tz: str, now: datetime
) -> Start | None:
    """The one decision of a new follow-up's first occurrence (the preview and the save).

    The cadence starts on the due date (today when the due date is empty, then never in the
    past), on the first day its days allow, at ``at`` (or the due time). None when there is no
    time to start at, or the cadence ends before its first date.
    """
    zone = zoneinfo.ZoneInfo(tz)
    after = None
    if due is not None:
        local = due.astimezone(zone)
        day, at = local.date(), at or local.time()
    else:
        if at is None:
            return None
        day, after = now.astimezone(zone).date(), now
    at = at.replace(second=0, microsecond=0, tzinfo=None)
    first = recurrence.first_occurrence(rule, start=day, at=at, tz=tz, after=after)
    if first is None:
        return None
    return Start(first=first, day=first.astimezone(zone).date(), at=at)


def preview(
    rule: recurrence.Rule, *, due: datetime | None, at: time | None, tz: str, now: datetime
) -> list[datetime] | None:
    """The first five due instants a new follow-up with this cadence will have, starting with
    the one the save gives it ([] when the cadence has ended; None with nothing to start at)."""
    begin = start(rule, due=due, at=at, tz=tz, now=now)
    if begin is None:
        return None if due is None and at is None else []
    return recurrence.occurrences(
        rule,
        start=begin.day,
        at=begin.at,
        tz=tz,
        after=begin.first - timedelta(microseconds=1),
    )
