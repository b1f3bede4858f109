"""Recurrence rules: a subset of RFC 5545 RRULE, evaluated in a person's time zone.

Pure: no Django, no database, no settings (import-linter checks it). The plain-words text
is written through translation functions the caller passes in (``Words``), so Django's
``gettext`` translates it in a request while a script gets English.

A rule is evaluated on *local* wall-clock time (a date to start on and a time of day, in
the owner's time zone) and every occurrence is then turned into an aware UTC instant.
"Weekly on Monday at 09:00, Europe/Berlin" therefore stays at 09:00 local
across daylight-saving changes (07:00 UTC in summer, 08:00 UTC in winter).

Supported: ``FREQ`` (DAILY, WEEKLY, MONTHLY, YEARLY), ``INTERVAL``, ``BYDAY`` (``MO``..``SU``;
with an ordinal such as ``1MO`` or ``-1FR`` for MONTHLY), ``BYMONTHDAY`` (1..31, -1..-31 for
"from the end"), ``UNTIL`` or ``COUNT``, and ``WKST`` (the first day of the week, Monday
unless said otherwise; it decides which weeks an ``INTERVAL`` of weeks counts, so
``FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU`` from Tuesday 1997-08-05 gives Aug 5, 17, 19
and 31, where ``WKST=MO`` gives Aug 5, 10, 19 and 24). As in RFC 5545, a month without the
requested day is skipped (``BYMONTHDAY=31`` has no February occurrence; use ``-1`` for "the
last day"). A local time that does not exist (clocks jump forward) is read with the offset
before the gap (02:30 becomes 03:30), an ambiguous one (clocks go back) as its first
occurrence, both as RFC 5545 section 3.3.5 says.

``UNTIL`` comes in RFC 5545's two forms, and they mean different things:

- a date (``UNTIL=20270102``) is a day on the owner's calendar: occurrences whose *local*
  date is on or before it;
- a UTC date-time (``UNTIL=20270102T000000Z``) is an instant: occurrences at or before it,
  wherever the owner lives (for an owner in Sydney that instant is 11:00 on Jan 2, for one
  in Los Angeles 16:00 on Jan 1).

A date-time without ``Z`` is refused: with a start in a time zone, RFC 5545 requires UTC.

Dates near the ends of the calendar (years 1 and 9999) cannot overflow here: a series whose
next occurrence would fall outside what ``datetime`` represents simply ends.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from dateutil import rrule as du

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_INTERVAL = 366
MAX_COUNT = 1000
# A rule that matches nothing for this many candidate dates is treated as exhausted, so a
# pathological rule can never spin a worker.
_MAX_SCAN = 5000

_DU_FREQ = {"DAILY": du.DAILY, "WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY, "YEARLY": du.YEARLY}
_DU_DAY = dict(zip(WEEKDAYS, (du.MO, du.TU, du.WE, du.TH, du.FR, du.SA, du.SU), strict=True))
_BYDAY_RE = re.compile(r"^([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$")


class RuleError(ValueError):
    """The text is not a rule this module understands; the message says why."""


@dataclass(frozen=True)
class Rule:
    freq: str
    interval: int = 1
    byday: tuple[str, ...] = ()
    bymonthday: tuple[int, ...] = ()
    # A ``date`` is a local day; an aware ``datetime`` (UTC) is an instant. ``datetime`` is
    # a subclass of ``date``: test for it first (``until_instant``).
    until: date | datetime | None = None
    count: int | None = None
    wkst: str = "MO"

    def __post_init__(self) -> None:
        validate(self)

    @property
    def until_instant(self) -> datetime | None:
        """UNTIL when it is an instant (the UTC form), else None."""
        return self.until if isinstance(self.until, datetime) else None

    @property
    def until_day(self) -> date | None:
        """UNTIL when it is a local day (the date form), else None."""
        return None if self.until is None or self.until_instant else self.until

    def to_text(self) -> str:
        parts = [f"FREQ={self.freq}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.byday:
            parts.append("BYDAY=" + ",".join(self.byday))
        if self.bymonthday:
            parts.append("BYMONTHDAY=" + ",".join(str(d) for d in self.bymonthday))
        if self.until_instant is not None:
            parts.append("UNTIL=" + self.until_instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"))
        elif self.until is not None:
            parts.append("UNTIL=" + self.until.strftime("%Y%m%d"))
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if self.wkst != "MO":  # Monday is RFC 5545's default: saying it changes nothing
            parts.append(f"WKST={self.wkst}")
        return ";".join(parts)

    @property
    def wkst_matters(self) -> bool:
        """Whether the first day of the week changes which dates this rule gives.

        Only when weeks are skipped (``INTERVAL`` > 1) and days of the week are named: the
        week that holds the start decides which days belong to the first, counted week.
        """
        return self.freq == "WEEKLY" and self.interval > 1 and bool(self.byday)

    def __str__(self) -> str:
        return self.to_text()

    def with_changes(self, **changes: object) -> Rule:
        return replace(self, **changes)  # type: ignore[arg-type]


def validate(rule: Rule) -> None:
    if rule.freq not in FREQUENCIES:
        raise RuleError(f"FREQ must be one of {', '.join(FREQUENCIES)}")
    if not isinstance(rule.interval, int) or not 1 <= rule.interval <= MAX_INTERVAL:
        raise RuleError(f"INTERVAL must be between 1 and {MAX_INTERVAL}")
    for day in rule.byday:
        match = _BYDAY_RE.match(day)
        if match is None:
            raise RuleError(f"BYDAY value {day!r} is not a weekday such as MO or 1MO")
        if match.group(1) and rule.freq != "MONTHLY":
            raise RuleError("An ordinal BYDAY (such as 1MO) needs FREQ=MONTHLY")
    if rule.byday and rule.freq not in ("WEEKLY", "MONTHLY"):
        raise RuleError("BYDAY needs FREQ=WEEKLY or FREQ=MONTHLY")
    if len(set(rule.byday)) != len(rule.byday):
        raise RuleError("BYDAY repeats a day")
    for day in rule.bymonthday:
        if not isinstance(day, int) or day == 0 or not -31 <= day <= 31:
            raise RuleError("BYMONTHDAY values are 1 to 31 or -1 to -31")
    if rule.bymonthday and rule.freq not in ("MONTHLY", "YEARLY"):
        raise RuleError("BYMONTHDAY needs FREQ=MONTHLY or FREQ=YEARLY")
    if rule.bymonthday and rule.byday:
        raise RuleError("Use BYDAY or BYMONTHDAY, not both")
    if rule.until is not None and rule.count is not None:
        raise RuleError("Use UNTIL or COUNT, not both")
    instant = rule.until_instant
    if instant is not None and instant.utcoffset() != timedelta(0):
        raise RuleError("UNTIL with a time must be in UTC, like 20261231T235959Z")
    if rule.wkst not in WEEKDAYS:
        raise RuleError(f"WKST must be one of {', '.join(WEEKDAYS)}")
    if rule.count is not None and not 1 <= rule.count <= MAX_COUNT:
        raise RuleError(f"COUNT must be between 1 and {MAX_COUNT}")


def _parse_until(value: str) -> date | datetime:
    """RFC 5545's DATE (a local day) or UTC DATE-TIME (an instant); they stay distinct."""
    text = value.strip().upper()
    match = re.fullmatch(r"(\d{8})(?:(T\d{6})(Z?))?", text)
    if match is None:
        raise RuleError(f"UNTIL {value!r} is not a date like 20261231")
    day, clock, utc = match.groups()
    if clock and not utc:
        raise RuleError(
            f"UNTIL {value!r} has a time without Z: give it in UTC (20261231T235959Z) or "
            "give only the date"
        )
    try:
        if clock:
            return datetime.strptime(day + clock, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return datetime.strptime(day, "%Y%m%d").date()
    except ValueError:
        raise RuleError(f"UNTIL {value!r} is not a real date") from None


def _parse_int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise RuleError(f"{name} must be a whole number, got {value!r}") from None


def parse(text: str) -> Rule:
    """``"FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"`` (an optional ``RRULE:`` prefix is accepted)."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError("The rule is empty")
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    values: dict[str, str] = {}
    for part in body.split(";"):
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip().upper()
        if not sep or not value.strip():
            raise RuleError(f"{part!r} is not NAME=VALUE")
        if name in values:
            raise RuleError(f"{name} appears twice")
        values[name] = value.strip()
    unknown = set(values) - {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "UNTIL", "COUNT", "WKST"}
    if unknown:
        raise RuleError(f"Unsupported parts: {', '.join(sorted(unknown))}")
    if "FREQ" not in values:
        raise RuleError("FREQ is required")
    return Rule(
        freq=values["FREQ"].upper(),
        interval=_parse_int("INTERVAL", values["INTERVAL"]) if "INTERVAL" in values else 1,
        byday=tuple(d.strip().upper() for d in values["BYDAY"].split(","))
        if "BYDAY" in values
        else (),
        bymonthday=tuple(_parse_int("BYMONTHDAY", d) for d in values["BYMONTHDAY"].split(","))
        if "BYMONTHDAY" in values
        else (),
        until=_parse_until(values["UNTIL"]) if "UNTIL" in values else None,
        count=_parse_int("COUNT", values["COUNT"]) if "COUNT" in values else None,
        wkst=values["WKST"].upper() if "WKST" in values else "MO",
    )


def _du_weekday(day: str) -> du.weekday:
    match = _BYDAY_RE.match(day)
    assert match is not None  # validated
    weekday = _DU_DAY[match.group(2)]
    return weekday(int(match.group(1))) if match.group(1) else weekday


def _local_rrule(rule: Rule, start: date, at: time) -> du.rrule:
    """The rule over naive local wall-clock times. A UTC UNTIL is not given to dateutil
    (it would compare it with local times); ``occurrences`` applies it to the instants."""
    kwargs: dict[str, object] = {
        "dtstart": datetime.combine(start, at.replace(tzinfo=None, microsecond=0)),
        "interval": rule.interval,
        "wkst": _DU_DAY[rule.wkst],
        "cache": False,
    }
    if rule.byday:
        kwargs["byweekday"] = [_du_weekday(d) for d in rule.byday]
    if rule.bymonthday:
        kwargs["bymonthday"] = list(rule.bymonthday)
    if rule.until_day is not None:
        kwargs["until"] = datetime.combine(rule.until_day, time(23, 59, 59))
    if rule.count is not None:
        kwargs["count"] = rule.count
    return du.rrule(_DU_FREQ[rule.freq], **kwargs)


def to_utc(local: datetime, tz: str) -> datetime:
    """A naive local wall-clock time in ``tz`` as an aware UTC instant (RFC 5545 rules
    for times in a gap or a fold: fold=0 means "offset before the change").

    Raises ``OverflowError`` for a local time whose instant is outside ``datetime``'s range
    (9999-12-31 20:00 in Auckland is after 9999-12-31T23:59:59Z).
    """
    zone = zoneinfo.ZoneInfo(tz)
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _iter_local(
    rule: Rule, start: date, at: time, from_local: datetime | None
) -> Iterator[datetime]:
    recurrence = _local_rrule(rule, start, at)
    iterator = (
        recurrence.xafter(from_local, inc=True) if from_local is not None else iter(recurrence)
    )
    for _scanned in range(_MAX_SCAN):
        try:
            local = next(iterator)
        except StopIteration:
            return
        except (OverflowError, ValueError):
            # dateutil stepped past year 9999: there is no next date, the series ends.
            return
        yield local


def occurrences(
    rule: Rule,
    *,
    start: date,
    at: time,
    tz: str,
    after: datetime | None = None,
    limit: int = 5,
) -> list[datetime]:
    """Up to ``limit`` occurrences (aware, UTC) strictly after ``after`` (all if None).

    ``start`` is the local date the rule starts on (DTSTART's date), ``at`` the local time
    of day, ``tz`` the IANA zone they are read in. COUNT counts from ``start``.
    """
    if after is not None and after.tzinfo is None:
        raise ValueError("after must be an aware datetime")
    from_local = None
    if after is not None:
        # A day of slack: local order and UTC order only differ inside a DST fold.
        try:
            from_local = after.astimezone(zoneinfo.ZoneInfo(tz)).replace(tzinfo=None) - (
                timedelta(days=1)
            )
        except OverflowError:
            # ``after`` is at the very edge of the calendar: start from the beginning (the
            # instant check below still skips what is not after it).
            from_local = None
    until = rule.until_instant
    found: list[datetime] = []
    for local in _iter_local(rule, start, at, from_local):
        try:
            instant = to_utc(local, tz)
        except OverflowError:
            if local.year > 1:
                break  # past the last instant ``datetime`` can hold: the series ends
            continue  # before the first one (year 1, east of UTC): not an occurrence
        if after is not None and instant <= after:
            continue
        if until is not None and instant > until:
            # Local order and instant order differ by at most the hour of a DST gap;
            # a day past UNTIL nothing can come back inside it.
            if instant - timedelta(days=1) > until:
                break
            continue
        if found and instant <= found[-1]:
            continue  # two local times that map to one instant (inside a gap)
        found.append(instant)
        if len(found) >= limit:
            break
    return found


def next_occurrence(
    rule: Rule, *, start: date, at: time, tz: str, after: datetime
) -> datetime | None:
    """The first occurrence strictly after ``after``, or None when the rule has ended."""
    found = occurrences(rule, start=start, at=at, tz=tz, after=after, limit=1)
    return found[0] if found else None


def first_occurrence(
    rule: Rule, *, start: date, at: time, tz: str, after: datetime | None = None
) -> datetime | None:
    """The first due instant of a cadence that starts on the local day ``start``.

    It is the first day on or after ``start`` that the rule's days allow (BYDAY, BYMONTHDAY;
    without them ``start`` itself), at ``at``, and strictly after ``after`` when given; the
    series then counts its interval from that day. None when UNTIL is already past.

    The cadence preview and the save both call this, so what the preview lists first is what
    the follow-up is due at: "every 2 weeks on Monday" from a Thursday is due the coming
    Monday, not the Monday of the week after (which dateutil would give, counting the
    interval from the Thursday's week).
    """
    days = rule.with_changes(interval=1, count=None)
    found = occurrences(days, start=start, at=at, tz=tz, after=after, limit=1)
    return found[0] if found else None


# --- Plain words --------------------------------------------------------------------------

Gettext = Callable[[str], str]
Ngettext = Callable[[str, str, int], str]


def _same(message: str) -> str:
    return message


def _english_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


@dataclass(frozen=True)
class Words:
    """The translation functions plain words are written with."""

    gettext: Gettext = _same
    ngettext: Ngettext = _english_plural


ENGLISH = Words()


def _weekday_names(_: Gettext) -> dict[str, str]:
    return {
        "MO": _("Monday"),
        "TU": _("Tuesday"),
        "WE": _("Wednesday"),
        "TH": _("Thursday"),
        "FR": _("Friday"),
        "SA": _("Saturday"),
        "SU": _("Sunday"),
    }


def _ordinal(n: int, _: Gettext) -> str:
    return {
        1: _("first"),
        2: _("second"),
        3: _("third"),
        4: _("fourth"),
        5: _("fifth"),
        -1: _("last"),
        -2: _("second to last"),
    }.get(n, str(n))


def _join(items: list[str], _: Gettext) -> str:
    return _(", ").join(items)


def _every(rule: Rule, ngettext: Ngettext) -> str:
    n = rule.interval
    if rule.freq == "DAILY":
        return ngettext("Every day", "Every %(n)d days", n) % {"n": n}
    if rule.freq == "WEEKLY":
        return ngettext("Every week", "Every %(n)d weeks", n) % {"n": n}
    if rule.freq == "MONTHLY":
        return ngettext("Every month", "Every %(n)d months", n) % {"n": n}
    return ngettext("Every year", "Every %(n)d years", n) % {"n": n}


def _on(rule: Rule, _: Gettext) -> str:
    names = _weekday_names(_)
    if rule.byday:
        days = []
        for day in rule.byday:
            match = _BYDAY_RE.match(day)
            assert match is not None
            name = names[match.group(2)]
            if match.group(1):
                name = _("the %(ordinal)s %(weekday)s") % {
                    "ordinal": _ordinal(int(match.group(1)), _),
                    "weekday": name,
                }
            days.append(name)
        if rule.freq == "WEEKLY" and set(rule.byday) == {"MO", "TU", "WE", "TH", "FR"}:
            return _("on weekdays")
        return _("on %(days)s") % {"days": _join(days, _)}
    if rule.bymonthday == (-1,):
        return _("on the last day of the month")
    if rule.bymonthday:
        days = [str(d) if d > 0 else _("%(n)d from the end") % {"n": -d} for d in rule.bymonthday]
        return _("on day %(days)s") % {"days": _join(days, _)}
    return ""


def _until(rule: Rule, tz: str | None, _: Gettext) -> str:
    instant = rule.until_instant
    if instant is None:
        assert rule.until is not None
        return rule.until.isoformat()
    if tz is None or tz == "UTC":
        return _("%(date)s %(time)s UTC") % {
            "date": instant.date().isoformat(),
            "time": instant.strftime("%H:%M"),
        }
    try:
        local = instant.astimezone(zoneinfo.ZoneInfo(tz))
    except OverflowError:
        local = instant
        tz = "UTC"
    return _("%(date)s %(time)s (%(zone)s)") % {
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "zone": tz,
    }


def describe(
    rule: Rule, at: time | None = None, *, words: Words | None = None, tz: str | None = None
) -> str:
    """The rule in plain words: "Every 2 weeks on Monday at 09:00".

    ``words`` carries the translation functions (Django's ``gettext``/``ngettext`` in the
    app, see ``followup.engine.cadence``); without it the text is English. ``tz`` is the
    zone a UTC UNTIL is shown in (the owner's); without it, UTC. A date UNTIL is a local
    day and is shown as the date it is.
    """
    words = words or ENGLISH
    _, ngettext = words.gettext, words.ngettext
    text = _every(rule, ngettext)
    on = _on(rule, _)
    if on:
        text = _("%(every)s %(on)s") % {"every": text, "on": on}
    if rule.wkst != "MO" and rule.wkst_matters:
        text = _("%(cadence)s (weeks start on %(weekday)s)") % {
            "cadence": text,
            "weekday": _weekday_names(_)[rule.wkst],
        }
    if at is not None:
        text = _("%(cadence)s at %(time)s") % {"cadence": text, "time": at.strftime("%H:%M")}
    if rule.until is not None:
        text = _("%(cadence)s, until %(date)s") % {
            "cadence": text,
            "date": _until(rule, tz, _),
        }
    if rule.count is not None:
        text = ngettext("%(cadence)s, once", "%(cadence)s, %(n)d times", rule.count) % {
            "cadence": text,
            "n": rule.count,
        }
    return text
