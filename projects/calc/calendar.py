"""Working calendars: which dates are worked, and counting in working days.

Pure (no Django). The scheduler, earned value and the Gantt count in working days of one
project calendar: ISO weekdays (Monday = 1, as API.md gives them) plus holidays.

``Axis`` numbers the working days from an origin (index 0 = the first working day on or
after the origin) so that the critical path method can run on integers and turn results
back into dates at the end. It grows lazily in both directions; a schedule spanning a few
thousand working days costs a few thousand list entries, built once per computation.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

ISO_WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)
MONDAY_TO_FRIDAY = frozenset({1, 2, 3, 4, 5})
ALL_WEEK = frozenset(ISO_WEEKDAYS)
# The widest span a calendar walks before giving up: a calendar whose every day is a
# holiday must fail loudly, not loop.
_MAX_SCAN_DAYS = 366 * 50


class CalendarError(ValueError):
    """The calendar cannot be used (no working weekday, a date outside its range)."""


@dataclass(frozen=True)
class WorkCalendar:
    working_days: frozenset[int] = MONDAY_TO_FRIDAY
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        days = frozenset(self.working_days)
        if not days or not days <= set(ISO_WEEKDAYS):
            raise CalendarError("working_days must be a non-empty subset of 1..7 (Monday = 1)")
        object.__setattr__(self, "working_days", days)
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    @classmethod
    def of(cls, working_days: Iterable[int], holidays: Iterable[date] = ()) -> WorkCalendar:
        return cls(frozenset(working_days), frozenset(holidays))

    def is_working(self, day: date) -> bool:
        return day.isoweekday() in self.working_days and day not in self.holidays

    def next_working(self, day: date) -> date:
        """``day`` if it is worked, else the first working day after it."""
        return self._walk(day, 1)

    def previous_working(self, day: date) -> date:
        """``day`` if it is worked, else the last working day before it."""
        return self._walk(day, -1)

    def _walk(self, day: date, step: int) -> date:
        for _ in range(_MAX_SCAN_DAYS):
            if self.is_working(day):
                return day
            try:
                day += timedelta(days=step)
            except OverflowError:
                break
        raise CalendarError("no working day found in this direction")

    def count(self, start: date, end: date) -> int:
        """Working days in ``[start, end]`` (both included); 0 when ``end < start``."""
        if end < start:
            return 0
        total_days = (end - start).days + 1
        weeks, rest = divmod(total_days, 7)
        worked = weeks * len(self.working_days)
        weekday = start.isoweekday()
        for offset in range(rest):
            if (weekday + offset - 1) % 7 + 1 in self.working_days:
                worked += 1
        if self.holidays:
            ordered = self._sorted_holidays()
            lo = bisect.bisect_left(ordered, start)
            hi = bisect.bisect_right(ordered, end)
            worked -= sum(1 for h in ordered[lo:hi] if h.isoweekday() in self.working_days)
        return worked

    def _sorted_holidays(self) -> list[date]:
        cached = self.__dict__.get("_ordered")
        if cached is None:
            cached = sorted(self.holidays)
            object.__setattr__(self, "_ordered", cached)
        return cached

    def add(self, day: date, n: int) -> date:
        """The working day ``n`` working days after working day ``day`` (before, if n < 0).

        ``day`` is first moved to a working day (forward for n >= 0, backward otherwise).
        """
        axis = Axis(self, day)
        start = axis.index_on_or_after(day) if n >= 0 else axis.index_on_or_before(day)
        return axis.date(start + n)


class Axis:
    """Working days numbered from an origin: ``date(0)`` is the first working day on or
    after ``origin``; negative indices are the working days before it."""

    def __init__(self, calendar: WorkCalendar, origin: date) -> None:
        self.calendar = calendar
        first = calendar.next_working(origin)
        self._forward: list[date] = [first]  # index 0, 1, 2, ...
        self._backward: list[date] = []  # index -1, -2, ...
        self._index: dict[date, int] = {first: 0}

    def _grow_forward(self, upto: int) -> None:
        self._grow(self._forward, upto + 1, 1)

    def _grow_backward(self, upto: int) -> None:
        self._grow(self._backward, upto, -1)

    def _grow(self, dates: list[date], length: int, step: int) -> None:
        """Append working days to ``dates`` (forward or backward) until it holds ``length``.

        One loop with local names: the scheduler grows the axis by thousands of days, and
        calling ``next_working`` per day cost more than the rest of the date conversion."""
        index, cal = self._index, self.calendar
        working, holidays = cal.working_days, cal.holidays
        day = dates[-1] if dates else self._forward[0]
        one = timedelta(days=step)
        idle = 0
        while len(dates) < length:
            try:
                day += one
            except OverflowError:
                where = "past the last" if step > 0 else "before the first"
                raise CalendarError(f"the schedule runs {where} supported date") from None
            if day.isoweekday() in working and day not in holidays:
                dates.append(day)
                index[day] = len(dates) - 1 if step > 0 else -len(dates)
                idle = 0
            else:
                idle += 1
                if idle > _MAX_SCAN_DAYS:
                    raise CalendarError("no working day found in this direction")

    def dates(self, stop: int) -> list[date]:
        """The dates of indices ``0 .. stop - 1``, in one list (cheaper than ``date(i)`` each)."""
        if stop > len(self._forward):
            self._grow_forward(stop - 1)
        return self._forward[:stop]

    def index_on_or_after(self, day: date) -> int:
        """Index of ``day`` if worked, else of the next working day."""
        return self._index_of(self.calendar.next_working(day))

    def index_on_or_before(self, day: date) -> int:
        """Index of ``day`` if worked, else of the previous working day."""
        return self._index_of(self.calendar.previous_working(day))

    def _index_of(self, day: date) -> int:
        found = self._index.get(day)
        if found is not None:
            return found
        origin = self._forward[0]
        if day > origin:
            # Jump close with arithmetic, then fill the list up to there.
            estimate = self.calendar.count(origin, day) - 1
            self._grow_forward(estimate)
        else:
            estimate = self.calendar.count(day, origin) - 1
            self._grow_backward(estimate)
        return self._index[day]

    # Last in the class: a method named ``date`` would shadow ``datetime.date`` in the
    # annotations of the methods after it.
    def date(self, index: int) -> date:
        if index >= 0:
            if index >= len(self._forward):
                self._grow_forward(index)
            return self._forward[index]
        if -index > len(self._backward):
            self._grow_backward(-index)
        return self._backward[-index - 1]
