"""Resource load per week and a levelling suggestion: pure, no Django, no I/O.

A *booking* is one allocation: a resource used ``per_day`` (hours for a person, units for
material or equipment) on each working day of a work package's scheduled span, counted on
the package's own project calendar. The load of a resource in a week (Monday to Sunday) is
the sum of its bookings' working days in that week times their ``per_day``, plus, for a
person, the business-side effort logged on touchpoints that week (the same capacity serves
both). A week is over-allocated when its load exceeds the resource's capacity for that week:
a person's weekly capacity in hours, or a material's available quantity per day times the
working days of the organization's calendar in that week. A resource without a capacity is
never over-allocated.

The levelling suggestion looks, week by week, at each over-allocated resource's bookings that
are not critical and have float left, and proposes the smallest shift (in working days of
the item's calendar, at most its total float) that brings the week back under capacity
without pushing another week of that resource over; failing that, the shift that lowers the
excess most. Accepted shifts are applied before the next week is looked at (greedy), so two
suggestions never count on the same spare capacity. Shifting within total float keeps the
project's finish date; it may move successors that share that float, which the suggestion
names as its float, not as a promise.

Why hand-written: resource levelling libraries solve a whole schedule (and change it); this
only reads the schedule the projects already have and explains one possible move.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeAlias

from projects.calc.calendar import WorkCalendar

ZERO = Decimal(0)
Key: TypeAlias = Any  # an id: a resource, an item or a project (UUID in the app)
WEEK = timedelta(days=7)
MAX_SHIFT = 45  # working days tried at most per item (nine weeks)


@dataclass(frozen=True)
class Booking:
    resource: Key
    item: Key
    project: Key
    start: date
    finish: date
    per_day: Decimal
    calendar: WorkCalendar
    total_float: int | None = None
    critical: bool = False


@dataclass(frozen=True)
class Capacity:
    weekly: Decimal | None = None  # a person's hours per week
    per_day: Decimal | None = None  # material or equipment per working day


@dataclass
class Cell:
    week: date
    project: Decimal = ZERO
    business: Decimal = ZERO
    capacity: Decimal | None = None
    items: dict[Key, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return self.project + self.business

    @property
    def over(self) -> bool:
        return self.capacity is not None and self.total > self.capacity

    @property
    def excess(self) -> Decimal:
        if self.capacity is None:
            return ZERO
        return max(ZERO, self.total - self.capacity)


@dataclass(frozen=True)
class Suggestion:
    resource: Key
    week: date
    item: Key
    project: Key
    shift_days: int
    total_float: int
    new_start: date
    new_finish: date
    resolves: bool  # the week is within capacity afterwards


@dataclass
class Load:
    weeks: list[date]
    rows: dict[Key, list[Cell]]

    def over_cells(self) -> list[tuple[Key, Cell]]:
        return [(r, c) for r, cells in self.rows.items() for c in cells if c.over]


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks_from(start: date, count: int) -> list[date]:
    first = monday(start)
    return [first + WEEK * n for n in range(count)]


def contribution(
    booking: Booking, weeks: Sequence[date], start: date | None = None, finish: date | None = None
) -> dict[date, Decimal]:
    """What one booking adds to each week of ``weeks`` (optionally with another span)."""
    start = start or booking.start
    finish = finish or booking.finish
    out: dict[date, Decimal] = {}
    if not weeks or finish < start:
        return out
    window_end = weeks[-1] + timedelta(days=6)
    if finish < weeks[0] or start > window_end:
        return out
    first = max(0, (monday(start) - weeks[0]).days // 7)
    for week in weeks[first:]:
        if week > finish:
            break
        days = booking.calendar.count(max(start, week), min(finish, week + timedelta(days=6)))
        if days:
            out[week] = booking.per_day * days
    return out


def week_capacity(capacity: Capacity | None, week: date, calendar: WorkCalendar) -> Decimal | None:
    if capacity is None:
        return None
    if capacity.weekly is not None:
        return capacity.weekly
    if capacity.per_day is not None:
        return capacity.per_day * calendar.count(week, week + timedelta(days=6))
    return None


def load(
    *,
    resources: Iterable[Key],
    capacities: dict[Key, Capacity],
    bookings: Iterable[Booking],
    business: dict[tuple[Key, date], Decimal],
    weeks: Sequence[date],
    calendar: WorkCalendar,
) -> Load:
    """Each resource's load per week of ``weeks`` (Mondays), with the items causing it."""
    index = {week: n for n, week in enumerate(weeks)}
    rows: dict[Key, list[Cell]] = {}
    for resource in resources:
        cap = capacities.get(resource)
        rows[resource] = [Cell(week=w, capacity=week_capacity(cap, w, calendar)) for w in weeks]
    for booking in bookings:
        cells = rows.get(booking.resource)
        if cells is None:
            continue
        for week, amount in contribution(booking, weeks).items():
            cell = cells[index[week]]
            cell.project += amount
            cell.items[booking.item] = cell.items.get(booking.item, ZERO) + amount
    for (resource, week), hours in business.items():
        cells = rows.get(resource)
        if cells is not None and week in index:
            cells[index[week]].business += hours
    return Load(weeks=list(weeks), rows=rows)


def _excess(totals: dict[date, Decimal], caps: dict[date, Decimal | None], week: date) -> Decimal:
    cap = caps.get(week)
    if cap is None:
        return ZERO
    return max(ZERO, totals.get(week, ZERO) - cap)


def suggest(load_: Load, bookings: Iterable[Booking]) -> list[Suggestion]:
    """Moves of non-critical items within their float that level over-allocated weeks."""
    weeks = load_.weeks
    by_resource: dict[Key, list[Booking]] = defaultdict(list)
    for booking in bookings:
        by_resource[booking.resource].append(booking)
    out: list[Suggestion] = []
    for resource, cells in load_.rows.items():
        if not any(cell.over for cell in cells):
            continue
        totals = {cell.week: cell.total for cell in cells}
        caps = {cell.week: cell.capacity for cell in cells}
        moved: set[Key] = set()
        for cell in cells:
            if _excess(totals, caps, cell.week) <= 0:
                continue
            candidates = [
                b
                for b in by_resource.get(resource, [])
                if not b.critical
                and (b.total_float or 0) > 0
                and b.item not in moved
                and b.start <= cell.week + timedelta(days=6)
                and b.finish >= cell.week
            ]
            candidates.sort(key=lambda b: (-(b.total_float or 0), str(b.item)))
            for booking in candidates:
                best = _best_shift(booking, weeks, totals, caps, cell.week)
                if best is None:
                    continue
                shift, new_start, new_finish, after = best
                totals = after
                moved.add(booking.item)
                resolves = _excess(totals, caps, cell.week) <= 0
                out.append(
                    Suggestion(
                        resource=resource,
                        week=cell.week,
                        item=booking.item,
                        project=booking.project,
                        shift_days=shift,
                        total_float=booking.total_float or 0,
                        new_start=new_start,
                        new_finish=new_finish,
                        resolves=resolves,
                    )
                )
                if resolves:
                    break
    return out


def _shifted(booking: Booking, limit: int) -> list[tuple[int, date, date]]:
    """The booking's span moved 1..limit working days later (walked day by day: cheap)."""
    out: list[tuple[int, date, date]] = []
    start, finish = booking.start, booking.finish
    cal = booking.calendar
    for shift in range(1, limit + 1):
        start = cal.next_working(start + timedelta(days=1))
        finish = cal.next_working(finish + timedelta(days=1))
        out.append((shift, start, finish))
    return out


def _best_shift(
    booking: Booking,
    weeks: Sequence[date],
    totals: dict[date, Decimal],
    caps: dict[date, Decimal | None],
    week: date,
) -> tuple[int, date, date, dict[date, Decimal]] | None:
    """The smallest shift that levels ``week`` without pushing another week over, else the
    one that lowers the total excess most. Only the weeks the booking touches (before or
    after the shift) are looked at, so each try costs a few weeks, not the whole window."""
    before = contribution(booking, weeks)
    best: tuple[Decimal, int, date, date, dict[date, Decimal]] | None = None
    limit = min(booking.total_float or 0, MAX_SHIFT)
    for shift, new_start, new_finish in _shifted(booking, limit):
        after_part = contribution(booking, weeks, new_start, new_finish)
        changed = {
            w: totals.get(w, ZERO) - before.get(w, ZERO) + after_part.get(w, ZERO)
            for w in set(before) | set(after_part)
        }
        delta = sum((_excess(changed, caps, w) - _excess(totals, caps, w) for w in changed), ZERO)
        if delta >= 0:
            continue
        if _excess({**totals, **changed}, caps, week) <= 0 and not any(
            _excess(changed, caps, w) > _excess(totals, caps, w) for w in changed if w != week
        ):
            return shift, new_start, new_finish, {**totals, **changed}
        if best is None or delta < best[0]:
            best = (delta, shift, new_start, new_finish, {**totals, **changed})
    if best is None:
        return None
    return best[1], best[2], best[3], best[4]
