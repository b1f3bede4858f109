"""Earned value management (EVM): planned value, earned value, actual cost and their indices.

What it computes, for a project or for each of its work packages, at a status date
(``as_of``), following API.md:

- PV (planned value): each work package's baseline budget spread evenly over the working days
  of its baseline span (``WorkCalendar``), counted up to and including ``as_of``. A package
  whose baseline span holds no working day (a milestone with a budget, or a span lying wholly
  on weekends and holidays) plans its whole budget on its baseline finish date.
- EV (earned value): baseline budget x the percent complete of the latest progress record
  dated on or before ``as_of`` (0 when there is none).
- AC (actual cost): the sum of the cost entries dated on or before ``as_of``.
- SV = EV - PV, CV = EV - AC, SPI = EV / PV, CPI = EV / AC;
  EAC = BAC / CPI, with the two usual variants shown beside it:
  ``eac_atypical`` = AC + (BAC - EV) (the remaining work goes at budget rate) and
  ``eac_combined`` = AC + (BAC - EV) / (CPI x SPI) (both cost and schedule performance
  persist); ETC = EAC - AC, VAC = BAC - EAC, TCPI = (BAC - EV) / (BAC - AC).
- A cumulative PV/EV/AC series (the S-curve), daily or weekly, and the same figures per work
  package (the drill-down).

BAC is the sum of the packages' baseline budgets unless an explicit ``bac`` is passed: a
project may carry budget lines tied to no work package (contingency, a licence), which have
no schedule and no progress, so they raise BAC (hence EAC, VAC and TCPI) without adding to PV
or EV.

Why exact: money is ``Decimal`` and every intermediate value is exact (``Fraction`` for PV,
whose even spreading divides by a number of working days; ``Decimal`` under a context that
raises instead of rounding for EV and AC). Rounding happens once, at the output: money to 0.01
and indices to 4 places, ROUND_HALF_UP. Totals and ratios are computed from the unrounded
values, so EAC in the textbook example is 112,500.00 (BAC x AC / EV), not BAC / 0.8889.
A consequence, deliberate and documented: the rounded per-package figures of the drill-down
need not add up to the rounded project figure (three packages planning 33.333... each show
33.33, the project shows 100.00); the project figure is never the sum of rounded parts, so it
never drifts.

Undefined ratios (PV, AC or EV zero, BAC = AC) are ``None`` with a reason code and a msgid
explaining it, never a division error. TCPI stays defined, and negative, once AC exceeds BAC:
the budget can no longer be met at any efficiency. ``reading()`` turns SPI and CPI into words
("behind schedule", "over budget") as codes plus msgids.

The series is computed with difference arrays over working-day indices: each package adds
``budget / span`` per working day between its first and last working day in the window, all
rates being integers over one common denominator (the least common multiple of the spans,
times the budgets' decimal scale), so one pass of integer prefix sums gives every day's exact
PV; EV and AC changes are bucketed by day. With 10,000 packages and 100,000 cost entries over
a year, the daily series takes about 0.13 s and the status-date figures about 0.1 s; the
drill-down of all 10,000 packages about 0.85 s (``bench/earned_value.py``).

Why hand-written: no maintained Python library computes EVM with this contract (working-day
calendars with holidays, a percent-complete history, exact decimal money, null-with-reason
for undefined ratios, a prefix-sum S-curve). Pure: no Django, no I/O; user-facing words are
msgids marked with the local ``gettext_noop`` so that ``makemessages`` extracts them and the
web layer translates them with Django's ``gettext``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import (
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from fractions import Fraction
from typing import Literal, TypeAlias
from uuid import UUID

from projects.calc.calendar import WorkCalendar


def gettext_noop(message: str) -> str:
    """Mark ``message`` for translation without translating it (see the module docstring)."""
    return message


ItemId: TypeAlias = str | int | UUID
Step: TypeAlias = Literal["day", "week"]
ScheduleState: TypeAlias = Literal["ahead", "on", "behind", "unknown"]
CostState: TypeAlias = Literal["under", "on", "over", "unknown"]
ApiValue: TypeAlias = str | list[dict[str, str]] | None

MONEY_PLACES = 2
INDEX_PLACES = 4
# |index - 1| < DEFAULT_TOLERANCE reads as "on schedule" / "on budget", the index being the
# one shown (rounded to 4 places): SPI 0.9901 is on schedule, 0.9900 is behind.
DEFAULT_TOLERANCE = Decimal("0.01")
HUNDRED = 100

# Sums and products of money are exact: this context raises instead of rounding, so a value
# too wide to hold exactly fails loudly rather than drifting.
_EXACT = Context(
    prec=1000,
    rounding=ROUND_HALF_UP,
    traps=[Inexact, InvalidOperation, Overflow, DivisionByZero],
)

# Why a figure is None: code -> msgid shown to the user.
UNDEFINED_REASONS: dict[str, str] = {
    "no_planned_value": gettext_noop(
        "Nothing is planned up to this date, so schedule performance cannot be measured yet."
    ),
    "no_actual_cost": gettext_noop(
        "No cost is recorded up to this date, so cost performance cannot be measured yet."
    ),
    "no_earned_value": gettext_noop(
        "No progress is recorded up to this date, so the forecast cannot be based on "
        "performance yet."
    ),
    "budget_spent": gettext_noop(
        "The actual cost has reached the budget, so no efficiency can finish the remaining "
        "work within it."
    ),
}

SCHEDULE_LABELS: dict[ScheduleState, str] = {
    "ahead": gettext_noop("ahead of schedule"),
    "on": gettext_noop("on schedule"),
    "behind": gettext_noop("behind schedule"),
    "unknown": gettext_noop("schedule not measurable yet"),
}
COST_LABELS: dict[CostState, str] = {
    "under": gettext_noop("under budget"),
    "on": gettext_noop("on budget"),
    "over": gettext_noop("over budget"),
    "unknown": gettext_noop("cost not measurable yet"),
}

# The figures of the API payload, in API.md's order (``as_of`` first, ``series`` last).
API_FIGURES = ("bac", "pv", "ev", "ac", "sv", "cv", "spi", "cpi", "eac", "etc", "vac", "tcpi")


# --- input -----------------------------------------------------------------------------------


def _money_in(value: object, what: str) -> Decimal:
    if not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite amount")
    return value


def _percent_in(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"a percent complete must be an int or a Decimal, not {value!r}")
    percent = Decimal(value)
    if not percent.is_finite() or not 0 <= percent <= HUNDRED:
        raise ValueError(f"a percent complete must be between 0 and 100, not {value}")
    return percent


@dataclass(frozen=True)
class WorkPackage:
    """A work package with its baseline: budget, span (both dates included) and progress.

    ``progress`` is the history of recorded percent complete, ``(date, percent 0..100)``, in any
    order; it is kept sorted by date (a stable sort: of two records on the same date, the one
    given last wins).
    """

    id: ItemId
    baseline_budget: Decimal
    baseline_start: date
    baseline_finish: date
    progress: Sequence[tuple[date, Decimal | int]] = ()

    def __post_init__(self) -> None:
        budget = _money_in(self.baseline_budget, "baseline_budget")
        if budget < 0:
            raise ValueError(f"work package {self.id}: baseline_budget must not be negative")
        if self.baseline_finish < self.baseline_start:
            raise ValueError(f"work package {self.id}: baseline_finish is before baseline_start")
        records = sorted(
            ((day, _percent_in(percent)) for day, percent in self.progress), key=lambda r: r[0]
        )
        object.__setattr__(self, "progress", tuple(records))

    def percent_on(self, as_of: date) -> Decimal:
        """Percent complete of the latest record dated on or before ``as_of`` (0 if none)."""
        records = self.progress
        found = bisect.bisect_right([day for day, _ in records], as_of)
        return Decimal(records[found - 1][1]) if found else Decimal(0)


@dataclass(frozen=True)
class CostEntry:
    """An actual cost. Negative amounts (credit notes, reversals) are allowed."""

    date: date
    amount: Decimal
    work_item_id: ItemId | None = None

    def __post_init__(self) -> None:
        _money_in(self.amount, "amount")


# --- output ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Undefined:
    """Why a figure is None: a stable ``code`` and a msgid ``message`` for people."""

    code: str
    message: str


@dataclass(frozen=True)
class Reading:
    """Plain-words reading of the indices: state codes plus msgids for the words."""

    schedule: ScheduleState
    cost: CostState
    schedule_label: str
    cost_label: str


@dataclass(frozen=True)
class EarnedValue:
    """Every EVM figure at ``as_of``: money rounded to 0.01, indices to 4 places, or None.

    For each None figure, ``undefined`` maps its name to the reason.
    """

    as_of: date
    bac: Decimal
    pv: Decimal
    ev: Decimal
    ac: Decimal
    sv: Decimal
    cv: Decimal
    spi: Decimal | None
    cpi: Decimal | None
    eac: Decimal | None
    eac_atypical: Decimal
    eac_combined: Decimal | None
    etc: Decimal | None
    vac: Decimal | None
    tcpi: Decimal | None
    undefined: dict[str, Undefined] = field(default_factory=dict)

    def reading(self, tolerance: Decimal = DEFAULT_TOLERANCE) -> Reading:
        return reading(self, tolerance)


@dataclass(frozen=True)
class WorkItemFigures:
    """The drill-down line of one work package (its BAC is its baseline budget)."""

    id: ItemId
    figures: EarnedValue


@dataclass(frozen=True)
class Breakdown:
    """Figures per work package, plus the actual cost booked to no known package."""

    items: tuple[WorkItemFigures, ...]
    unassigned_ac: Decimal


@dataclass(frozen=True)
class SeriesPoint:
    """Cumulative PV, EV and AC at the end of ``date`` (rounded to 0.01)."""

    date: date
    pv: Decimal
    ev: Decimal
    ac: Decimal


# --- rounding --------------------------------------------------------------------------------


def _round_ratio(numerator: int, denominator: int, places: int) -> Decimal:
    """``numerator / denominator`` rounded half away from zero (ROUND_HALF_UP) to ``places``."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    scaled = numerator * 10**places
    quotient, remainder = divmod(abs(scaled), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    signed = -quotient if scaled < 0 else quotient
    return Decimal(signed).scaleb(-places, context=_EXACT)


def _round(value: Fraction, places: int) -> Decimal:
    return _round_ratio(value.numerator, value.denominator, places)


def _money(value: Fraction) -> Decimal:
    return _round(value, MONEY_PLACES)


# --- point figures ---------------------------------------------------------------------------


def _span(package: WorkPackage, calendar: WorkCalendar) -> int:
    return calendar.count(package.baseline_start, package.baseline_finish)


def _planned(package: WorkPackage, calendar: WorkCalendar, as_of: date) -> Fraction:
    budget = Fraction(package.baseline_budget)
    span = _span(package, calendar)
    if span == 0:
        return budget if as_of >= package.baseline_finish else Fraction(0)
    done = calendar.count(package.baseline_start, min(as_of, package.baseline_finish))
    return budget * done / span


def _planned_total(
    packages: Iterable[WorkPackage], calendar: WorkCalendar, as_of: date
) -> Fraction:
    """Sum of ``_planned`` over the packages, grouped by span: one division per distinct span."""
    by_span: dict[int, Decimal] = {}
    with localcontext(_EXACT):
        for package in packages:
            span = _span(package, calendar)
            if span == 0:
                done = int(as_of >= package.baseline_finish)
            else:
                done = calendar.count(package.baseline_start, min(as_of, package.baseline_finish))
            if done:
                by_span[span or 1] = by_span.get(span or 1, Decimal(0)) + (
                    package.baseline_budget * done
                )
    return sum((Fraction(total) / span for span, total in by_span.items()), Fraction(0))


def _earned(package: WorkPackage, as_of: date) -> Decimal:
    with localcontext(_EXACT):
        return package.baseline_budget * package.percent_on(as_of) / HUNDRED


def _figures(as_of: date, bac: Fraction, pv: Fraction, ev: Fraction, ac: Fraction) -> EarnedValue:
    # All four over one denominator, so that every figure is one integer ratio, rounded once:
    # as exact as Fraction arithmetic, without a gcd per operation (the drill-down runs this
    # once per work package).
    den = math.lcm(bac.denominator, pv.denominator, ev.denominator, ac.denominator)
    b, p, e, a = (x.numerator * (den // x.denominator) for x in (bac, pv, ev, ac))
    undefined: dict[str, Undefined] = {}

    def why(code: str, *names: str) -> None:
        for name in names:
            undefined[name] = Undefined(code, UNDEFINED_REASONS[code])

    def money(numerator: int, denominator: int = den) -> Decimal:
        return _round_ratio(numerator, denominator, MONEY_PLACES)

    def index(numerator: int, denominator: int) -> Decimal:
        return _round_ratio(numerator, denominator, INDEX_PLACES)

    spi = cpi = eac = etc = vac = combined = tcpi = None
    if p:
        spi = index(e, p)
    else:
        why("no_planned_value", "spi")
    if a:
        cpi = index(e, a)
    else:
        why("no_actual_cost", "cpi")

    if not a:
        why("no_actual_cost", "eac", "etc", "vac")
    elif not e:
        why("no_earned_value", "eac", "etc", "vac")
    else:
        # EAC = BAC / CPI = BAC x AC / EV, with the unrounded CPI.
        eac = money(b * a, e * den)
        etc = money(b * a - a * e, e * den)
        vac = money(b * e - b * a, e * den)

    if not a:
        why("no_actual_cost", "eac_combined")
    elif not p:
        why("no_planned_value", "eac_combined")
    elif not e:
        why("no_earned_value", "eac_combined")
    else:
        # AC + (BAC - EV) / (CPI x SPI), with CPI x SPI = EV^2 / (AC x PV).
        combined = money(a * e * e + (b - e) * a * p, e * e * den)

    if b == a:
        why("budget_spent", "tcpi")
    else:
        tcpi = index(b - e, b - a)

    return EarnedValue(
        as_of=as_of,
        bac=money(b),
        pv=money(p),
        ev=money(e),
        ac=money(a),
        sv=money(e - p),
        cv=money(e - a),
        spi=spi,
        cpi=cpi,
        eac=eac,
        eac_atypical=money(a + b - e),
        eac_combined=combined,
        etc=etc,
        vac=vac,
        tcpi=tcpi,
        undefined=undefined,
    )


def _actual(costs: Iterable[CostEntry], as_of: date) -> Decimal:
    with localcontext(_EXACT):
        return sum((c.amount for c in costs if c.date <= as_of), Decimal(0))


def earned_value(
    packages: Sequence[WorkPackage],
    costs: Iterable[CostEntry],
    calendar: WorkCalendar,
    as_of: date,
    bac: Decimal | None = None,
) -> EarnedValue:
    """The project's figures at ``as_of`` (see the module docstring for each definition).

    ``bac`` defaults to the sum of the baseline budgets; pass it to include budget lines tied
    to no work package. Every cost entry counts, whether or not it names a work package.
    """
    with localcontext(_EXACT):
        total_budget = Fraction(sum((p.baseline_budget for p in packages), Decimal(0)))
    budget = total_budget if bac is None else Fraction(_money_in(bac, "bac"))
    if budget < 0:
        raise ValueError("bac must not be negative")
    pv = _planned_total(packages, calendar, as_of)
    with localcontext(_EXACT):
        ev = sum((_earned(p, as_of) for p in packages), Decimal(0))
    ac = _actual(costs, as_of)
    return _figures(as_of, budget, pv, Fraction(ev), Fraction(ac))


def by_work_item(
    packages: Sequence[WorkPackage],
    costs: Iterable[CostEntry],
    calendar: WorkCalendar,
    as_of: date,
) -> Breakdown:
    """The same figures per work package, in the order given (the drill-down).

    A package's AC is the cost entries naming it; entries naming no package, or an unknown
    one, are summed in ``unassigned_ac`` (they count in the project's AC all the same).
    """
    ids = [p.id for p in packages]
    if len(set(ids)) != len(ids):
        raise ValueError("work package ids must be unique")
    known = set(ids)
    spent: dict[ItemId, Decimal] = {}
    unassigned = Decimal(0)
    with localcontext(_EXACT):
        for cost in costs:
            if cost.date > as_of:
                continue
            if cost.work_item_id is not None and cost.work_item_id in known:
                spent[cost.work_item_id] = spent.get(cost.work_item_id, Decimal(0)) + cost.amount
            else:
                unassigned += cost.amount
    items = tuple(
        WorkItemFigures(
            p.id,
            _figures(
                as_of,
                Fraction(p.baseline_budget),
                _planned(p, calendar, as_of),
                Fraction(_earned(p, as_of)),
                Fraction(spent.get(p.id, Decimal(0))),
            ),
        )
        for p in packages
    )
    return Breakdown(items, _money(Fraction(unassigned)))


SORT_PLACES = Decimal("0.000001")
_SORT = Context(prec=40, rounding=ROUND_FLOOR)


def variances(
    packages: Sequence[WorkPackage],
    spent: dict[ItemId, Decimal],
    calendar: WorkCalendar,
    as_of: date,
) -> dict[ItemId, tuple[Decimal, Decimal]]:
    """Each package's SV and CV at ``as_of`` as sort keys, from its AC already summed per
    item (``spent``): what the drill-down sorts by, without building every package's
    figures (only the packages of a page then go through ``by_work_item``).

    Keys, not figures: Decimal to six places rounded down (PV divides by a number of working
    days), computed in C-speed Decimal rather than ``Fraction`` (10,000 packages: tens of
    milliseconds, not a second). The figures shown are rounded to cents, so ordering by the
    keys never puts a larger shown SV before a smaller one.
    """
    out: dict[ItemId, tuple[Decimal, Decimal]] = {}
    zero = Decimal(0)
    with localcontext(_SORT):
        for p in packages:
            budget = p.baseline_budget
            earned = budget * p.percent_on(as_of) / HUNDRED
            span = _span(p, calendar)
            if span == 0:
                planned = budget if as_of >= p.baseline_finish else zero
            else:
                done = calendar.count(p.baseline_start, min(as_of, p.baseline_finish))
                planned = budget * done / span
            out[p.id] = (
                (earned - planned).quantize(SORT_PLACES),
                (earned - spent.get(p.id, zero)).quantize(SORT_PLACES),
            )
    return out


# --- reading ---------------------------------------------------------------------------------


_SCHEDULE: dict[str, ScheduleState] = {
    "above": "ahead",
    "on": "on",
    "below": "behind",
    "unknown": "unknown",
}
_COST: dict[str, CostState] = {"above": "under", "on": "on", "below": "over", "unknown": "unknown"}


def _state(index: Decimal | None, tolerance: Decimal) -> str:
    if index is None:
        return "unknown"
    if index == 1 or abs(index - 1) < tolerance:
        return "on"
    return "above" if index > 1 else "below"


def reading(figures: EarnedValue, tolerance: Decimal = DEFAULT_TOLERANCE) -> Reading:
    """Schedule state from SPI (ahead / on / behind) and cost state from CPI (under / on / over).

    An index is "on" when |index - 1| < ``tolerance`` (default 0.01), using the index as shown
    (4 places) so that the words agree with the number beside them; an undefined index reads
    "unknown". CPI above 1 is under budget (more earned than spent).
    """
    if tolerance < 0:
        raise ValueError("tolerance must not be negative")
    schedule = _SCHEDULE[_state(figures.spi, tolerance)]
    cost = _COST[_state(figures.cpi, tolerance)]
    return Reading(schedule, cost, SCHEDULE_LABELS[schedule], COST_LABELS[cost])


# --- series ----------------------------------------------------------------------------------


def _decimal_scale(amounts: Iterable[Decimal]) -> int:
    """The number of decimal places that makes every amount an integer."""
    scale = 0
    for amount in amounts:
        exponent = amount.as_tuple().exponent
        assert isinstance(exponent, int)  # finite, checked on input
        scale = max(scale, -exponent)
    return scale


def series(
    packages: Sequence[WorkPackage],
    costs: Iterable[CostEntry],
    calendar: WorkCalendar,
    start: date,
    end: date,
    step: Step = "day",
) -> list[SeriesPoint]:
    """Cumulative PV, EV and AC for each date from ``start`` to ``end`` (the S-curve).

    ``step="week"`` keeps every seventh date from ``start`` and always ``end``. Work and cost
    before ``start`` are included in the cumulative values. Each point equals what
    ``earned_value`` gives at that date, exactly (both are exact before rounding).
    """
    if end < start:
        raise ValueError("end is before start")
    if step not in ("day", "week"):
        raise ValueError('step must be "day" or "week"')
    days = (end - start).days + 1
    # worked[i]: working days in [start, start + i)
    worked = [0] * (days + 1)
    for i in range(days):
        worked[i + 1] = worked[i] + calendar.is_working(start + timedelta(days=i))

    # PV: integers over one denominator, lcm(spans) x 10^scale.
    spans = [_span(p, calendar) for p in packages]
    common = math.lcm(*{n for n in spans if n}) if any(spans) else 1
    scale = _decimal_scale(p.baseline_budget for p in packages)
    rates = [0] * (worked[days] + 1)  # difference array of per-working-day rates
    lumps = [0] * days  # zero-working-day packages, on their finish date
    planned_before = 0
    for package, span in zip(packages, spans, strict=True):
        units = int(package.baseline_budget.scaleb(scale, context=_EXACT))
        first, last = package.baseline_start, package.baseline_finish
        if span == 0:
            if last < start:
                planned_before += units * common
            elif last <= end:
                lumps[(last - start).days] += units * common
            continue
        per_day = units * (common // span)
        if first < start:
            planned_before += per_day * calendar.count(first, min(last, start - timedelta(days=1)))
        lo, hi = max(first, start), min(last, end)
        if lo <= hi:
            a, b = worked[(lo - start).days], worked[(hi - start).days + 1]
            if a < b:
                rates[a] += per_day
                rates[b] -= per_day
    denominator = common * 10**scale

    # EV and AC: exact Decimal changes bucketed by calendar day.
    zero = Decimal(0)
    earned_changes = [zero] * days
    spent_changes = [zero] * days
    earned_before = spent_before = zero
    with localcontext(_EXACT):
        for package in packages:
            previous = zero
            for day, percent in package.progress:
                if day > end:
                    break
                value = package.baseline_budget * percent / HUNDRED
                if day < start:
                    earned_before += value - previous
                else:
                    earned_changes[(day - start).days] += value - previous
                previous = value
        for cost in costs:
            if cost.date > end:
                continue
            if cost.date < start:
                spent_before += cost.amount
            else:
                spent_changes[(cost.date - start).days] += cost.amount

    keep = range(days) if step == "day" else sorted({*range(0, days, 7), days - 1})
    wanted = set(keep)
    points: list[SeriesPoint] = []
    rate = planned = lumped = 0
    earned, spent = earned_before, spent_before
    with localcontext(_EXACT):
        for i in range(days):
            if worked[i + 1] > worked[i]:
                rate += rates[worked[i]]
                planned += rate
            lumped += lumps[i]
            earned += earned_changes[i]
            spent += spent_changes[i]
            if i in wanted:
                points.append(
                    SeriesPoint(
                        date=start + timedelta(days=i),
                        pv=_round_ratio(
                            planned_before + planned + lumped, denominator, MONEY_PLACES
                        ),
                        ev=_money(Fraction(earned)),
                        ac=_money(Fraction(spent)),
                    )
                )
    return points


# --- serialization ---------------------------------------------------------------------------


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def point_data(point: SeriesPoint) -> dict[str, str]:
    """One series point as JSON-ready data: ``{"date", "pv", "ev", "ac"}``."""
    return {
        "date": point.date.isoformat(),
        "pv": str(point.pv),
        "ev": str(point.ev),
        "ac": str(point.ac),
    }


def to_api(figures: EarnedValue, points: Sequence[SeriesPoint] = ()) -> dict[str, ApiValue]:
    """Exactly the API.md payload of ``GET /api/v1/projects/<id>/earned-value/``.

    ``{"as_of", "bac", "pv", "ev", "ac", "sv", "cv", "spi", "cpi", "eac", "etc", "vac",
    "tcpi", "series"}``: money and indices as decimal strings (2 and 4 places), None as null.
    """
    payload: dict[str, ApiValue] = {"as_of": figures.as_of.isoformat()}
    for name in API_FIGURES:
        payload[name] = _text(getattr(figures, name))
    payload["series"] = [point_data(p) for p in points]
    return payload


def to_data(figures: EarnedValue) -> dict[str, object]:
    """Every figure as JSON-ready data, for the project page and the drill-down.

    API.md's payload has neither the EAC variants nor the reasons; this is their form should
    the API grow them.

    Adds to the API figures the EAC variants and, under ``undefined``, the reason of each null
    figure (``{"spi": {"code": "no_planned_value", "message": msgid}}``).
    """
    data: dict[str, object] = {"as_of": figures.as_of.isoformat()}
    for name in (*API_FIGURES, "eac_atypical", "eac_combined"):
        data[name] = _text(getattr(figures, name))
    data["undefined"] = {
        name: {"code": why.code, "message": why.message} for name, why in figures.undefined.items()
    }
    return data
