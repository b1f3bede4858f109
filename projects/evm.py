"""Earned value of a project, read from the database and computed by ``projects.calc.earned_value``.

The work packages are the leaves of the current baseline (their baseline budget and
planned span); progress is the dated ``ProgressRecord`` history (a package whose percent
was set before that history existed counts from the day its row last changed); actual cost
is the cost entries, summed per day in SQL. Without a baseline there is nothing to measure
against: PV and EV are zero and BAC is the live plan's budget.

A fixed number of queries whatever the size of the project (``indices``: four).
"""

from __future__ import annotations

import base64
import bisect
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, Sum, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from accounts.models import Organization
from projects import change_guard, selectors
from projects.calc import earned_value as ev
from projects.models import Baseline, BaselineItem, CostEntry, ProgressRecord, Project, WorkItem

# Longer spans than this are drawn and served week by week.
DAILY_UP_TO_DAYS = 120


@dataclass(frozen=True)
class Inputs:
    baseline: Baseline | None
    packages: list[ev.WorkPackage]
    costs: list[ev.CostEntry]
    calendar: Any
    bac: Decimal


def _text(field: str) -> Cast:
    """Ids as text, not UUID objects: 10,000 packages with three progress records each would
    otherwise parse 40,000 UUIDs only to match them (seconds, not milliseconds)."""
    return Cast(F(field), TextField())


def key_text(value: str) -> str:
    """PostgreSQL casts a uuid to its usual text; SQLite stores it as 32 hex digits."""
    return value if connection.vendor == "postgresql" else str(uuid.UUID(value))


def _packages(
    org: Organization,
    project: Project,
    baseline: Baseline,
    upto: date | None,
    rows_of: list[Any] | None = None,
    latest_only: bool = False,
) -> list[ev.WorkPackage]:
    """The baseline's work packages with their progress; with ``rows_of`` (baseline item
    ids), only those, in WBS order (a page of the drill-down). ``latest_only``: only each
    item's latest record up to ``upto`` (enough for the figures at ``upto``, not for a
    series over earlier dates)."""
    items = BaselineItem.objects.for_org(org).filter(baseline=baseline, is_summary=False)
    if rows_of is not None:
        items = items.filter(pk__in=rows_of)
    rows = list(
        items.order_by("wbs_code", "id")
        .annotate(key=_text("work_item_key"))
        .values_list("key", "budget", "planned_start", "planned_finish", "work_item_key")
    )
    history: dict[Any, list[tuple[date, Decimal]]] = {}
    records = ProgressRecord.objects.for_org(org).filter(project=project)
    legacy = WorkItem.objects.for_org(org).filter(project=project)
    if rows_of is not None:
        keys = [row[4] for row in rows]
        records = records.filter(work_item_id__in=keys)
        legacy = legacy.filter(pk__in=keys)
    ordered = records.order_by("date", "created_at")
    if upto is not None:  # what is recorded later cannot count as of ``upto``
        ordered = records.filter(date__lte=upto).order_by("date", "created_at")
        if latest_only and connection.vendor == "postgresql":
            # As of ``upto`` only each item's latest record counts: one row per item
            # (10,000), not its whole history (30,000 at bench size).
            ordered = (
                records.filter(date__lte=upto)
                .order_by("work_item_id", "-date", "-created_at")
                .distinct("work_item_id")
            )
    for item_id, day, percent in ordered.annotate(key=_text("work_item_id")).values_list(
        "key", "date", "percent_complete"
    ):
        history.setdefault(item_id, []).append((day, percent))
    # Items whose progress predates the history: today's figure, dated by their last change.
    zone = selectors.org_zone(org)
    for item_id, percent, updated in (
        legacy.filter(is_summary=False, percent_complete__gt=0)
        .filter(~Exists(ProgressRecord.objects.for_org(org).filter(work_item=OuterRef("pk"))))
        .annotate(key=_text("id"))
        .values_list("key", "percent_complete", "updated_at")
    ):
        history[item_id] = [(updated.astimezone(zone).date(), percent)]
    packages = []
    for key, budget, start, finish, _uuid in rows:
        if start is None or finish is None:
            continue
        packages.append(
            ev.WorkPackage(key, budget, start, max(start, finish), history.get(key, ()))
        )
    return packages


def _costs(
    org: Organization, project: Project, by_item: bool, upto: date | None
) -> list[ev.CostEntry]:
    entries = CostEntry.objects.for_org(org).filter(project=project)
    if upto is not None:
        entries = entries.filter(date__lte=upto)
    if not by_item:
        rows = entries.values("date").annotate(total=Sum("amount")).order_by("date")
        return [ev.CostEntry(row["date"], row["total"]) for row in rows]
    grouped = (
        entries.annotate(key=_text("work_item_id"))
        .values("date", "key")
        .annotate(total=Sum("amount"))
        .order_by("date", "key")
    )
    return [ev.CostEntry(row["date"], row["total"], row["key"]) for row in grouped]


def inputs(
    org: Organization, project: Project, *, by_item: bool = False, upto: date | None = None
) -> Inputs:
    """What the calculation needs; with ``upto``, only progress and costs dated on or before
    it (EV and AC as of ``upto`` and before are the same; PV needs the whole baseline)."""
    from projects import control

    baseline = change_guard.current_baseline(org, project)
    calendar = selectors.project_calendar(project)
    costs = _costs(org, project, by_item, upto)
    if baseline is None:
        return Inputs(None, [], costs, calendar, control.plan_budget(org, project))
    return Inputs(
        baseline, _packages(org, project, baseline, upto), costs, calendar, baseline.budget
    )


def figures(org: Organization, project: Project, as_of: date) -> ev.EarnedValue:
    data = inputs(org, project, upto=as_of)
    return ev.earned_value(data.packages, data.costs, data.calendar, as_of, bac=data.bac)


def _span(data: Inputs, project: Project, as_of: date) -> tuple[date, date]:
    starts = [p.baseline_start for p in data.packages]
    start = min(starts) if starts else project.start_date
    return start, as_of


def step_for(start: date, end: date) -> ev.Step:
    return "day" if (end - start).days <= DAILY_UP_TO_DAYS else "week"


def series(
    data: Inputs, project: Project, start: date, end: date, step: ev.Step | None = None
) -> list[ev.SeriesPoint]:
    if end < start:
        return []
    return ev.series(
        data.packages, data.costs, data.calendar, start, end, step or step_for(start, end)
    )


def reading_words(figures: ev.EarnedValue) -> dict[str, str]:
    words = figures.reading()
    return {
        "schedule": words.schedule,
        "cost": words.cost,
        "schedule_label": _(words.schedule_label),
        "cost_label": _(words.cost_label),
        "text": _("%(schedule)s, %(cost)s")
        % {"schedule": _(words.schedule_label), "cost": _(words.cost_label)},
    }


def payload(
    org: Organization, project: Project, as_of: date, step: ev.Step | None = None
) -> dict[str, Any]:
    """API.md's earned-value payload, plus the EAC variants, the reasons of null figures,
    the plain-words reading and the baseline it measures against."""
    data = inputs(org, project, upto=as_of)
    figures = ev.earned_value(data.packages, data.costs, data.calendar, as_of, bac=data.bac)
    start, end = _span(data, project, as_of)
    body: dict[str, Any] = dict(ev.to_api(figures, series(data, project, start, end, step)))
    extra = ev.to_data(figures)
    body["eac_atypical"] = extra["eac_atypical"]
    body["eac_combined"] = extra["eac_combined"]
    body["undefined"] = {
        name: {"code": why.code, "message": _(why.message)}
        for name, why in figures.undefined.items()
    }
    body["reading"] = reading_words(figures)
    body["baseline"] = (
        {"id": str(data.baseline.pk), "number": data.baseline.number, "name": data.baseline.name}
        if data.baseline
        else None
    )
    body["currency"] = project.currency
    return body


def indices(org: Organization, project: Project, as_of: date) -> dict[str, Any]:
    """Every figure at ``as_of`` as JSON-ready data (``calc.earned_value.to_data``: money and
    indices as decimal strings, null with a reason) plus the reading: for status reports."""
    figures_ = figures(org, project, as_of)
    data = ev.to_data(figures_)
    data["reading"] = reading_words(figures_)
    return data


ITEM_ORDERS = ("wbs", "sv", "-sv", "cv", "-cv")
ITEM_PAGE_SIZE = 50
MAX_ITEM_PAGE_SIZE = 500


class BadCursor(ValueError):
    """A cursor this drill-down did not hand out (or of another order)."""


@dataclass(frozen=True)
class ItemPage:
    """One page of the drill-down: rows, cursors to the neighbouring pages, how many
    packages there are in all, and the actual cost booked to no package (which counts in
    the project's AC, never in a row)."""

    as_of: date
    order: str
    rows: list[dict[str, Any]]
    next_cursor: str | None
    previous_cursor: str | None
    count: int
    unassigned_ac: Decimal
    baseline: Baseline | None


def _spent_by_item(
    org: Organization, project: Project, upto: date, keys: list[Any] | None = None
) -> dict[Any, Decimal]:
    """AC per work item up to ``upto`` in one grouped query (10,000 rows at most, not one per
    item and day), or of the items ``keys`` only; entries on no item are under ``None``."""
    entries = CostEntry.objects.for_org(org).filter(project=project, date__lte=upto)
    if keys is not None:
        entries = entries.filter(work_item_id__in=keys)
    rows = (
        entries.annotate(key=_text("work_item_id"))
        .values("key")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {row["key"]: row["total"] for row in rows}


def _cursor_out(order: str, key: tuple[Any, ...], direction: str) -> str:
    raw = json.dumps({"o": order, "d": direction, "k": [str(part) for part in key]})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor_in(order: str, cursor: str) -> tuple[str, tuple[Any, ...]]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if raw["o"] != order or raw["d"] not in ("n", "p"):
            raise BadCursor(cursor)
        parts = raw["k"]
        if order == "wbs":
            key: tuple[Any, ...] = (str(parts[0]), uuid.UUID(str(parts[1])))
        else:
            key = (Decimal(parts[0]), int(parts[1]))
            if not key[0].is_finite():
                raise BadCursor(cursor)
    except (BadCursor, ArithmeticError, ValueError, TypeError, KeyError, IndexError):
        raise BadCursor(cursor) from None
    return raw["d"], key


def work_item_page(
    org: Organization,
    project: Project,
    as_of: date,
    *,
    order: str = "wbs",
    cursor: str | None = None,
    size: int = ITEM_PAGE_SIZE,
) -> ItemPage:
    """A page of the drill-down, in WBS order or by SV / CV (``-sv``: largest first).

    Set-based: AC is summed per item in SQL, and the sort needs only each package's SV and
    CV (``calc.earned_value.variances``, plain arithmetic); the full figures, their words
    and the row dictionaries are built for the page's packages alone. A cursor is the sort
    key of the last (or first) row shown, so a page never skips or repeats a package.
    Queries: a fixed number (the baseline, its items, the progress history, items with
    progress but no history, the costs per item)."""
    if order not in ITEM_ORDERS:
        raise ValueError(order)
    size = max(1, min(size, MAX_ITEM_PAGE_SIZE))
    baseline = change_guard.current_baseline(org, project)
    if baseline is None:
        return ItemPage(as_of, order, [], None, None, 0, Decimal(0), None)
    calendar = selectors.project_calendar(project)
    if order == "wbs":
        return _wbs_page(org, project, baseline, calendar, as_of, cursor, size)
    packages = _packages(org, project, baseline, as_of, latest_only=True)
    spent = _spent_by_item(org, project, as_of)
    known = {p.id for p in packages}
    unassigned = sum((v for k, v in spent.items() if k not in known), Decimal(0))
    figures_ = ev.variances(packages, spent, calendar, as_of)
    which = 0 if order.endswith("sv") else 1
    sign = -1 if order.startswith("-") else 1
    keyed = sorted(((sign * figures_[p.id][which], n), p) for n, p in enumerate(packages))
    keys = [k for k, _p in keyed]
    begin = 0
    if cursor:
        direction, key = _cursor_in(order, cursor)
        if direction == "n":
            begin = bisect.bisect_right(keys, key)
        else:
            begin = max(0, bisect.bisect_left(keys, key) - size)
    chosen = keyed[begin : begin + size]
    end = begin + len(chosen)
    return _page(
        org,
        baseline,
        calendar,
        as_of,
        order,
        [p for _k, p in chosen],
        spent,
        next_cursor=_cursor_out(order, keys[end - 1], "n") if end < len(keys) else None,
        previous_cursor=_cursor_out(order, keys[begin], "p") if begin > 0 else None,
        count=len(keys),
        unassigned=unassigned,
    )


def _wbs_page(
    org: Organization,
    project: Project,
    baseline: Baseline,
    calendar: Any,
    as_of: date,
    cursor: str | None,
    size: int,
) -> ItemPage:
    """WBS order pages in SQL (keyset on the WBS code and the baseline item's id): only the
    page's packages, their progress and their costs are read, so a page of a 10,000-package
    project costs about what one of a 50-package project does."""
    items = BaselineItem.objects.for_org(org).filter(
        baseline=baseline,
        is_summary=False,
        planned_start__isnull=False,
        planned_finish__isnull=False,
    )
    count = items.count()
    direction, key = _cursor_in("wbs", cursor) if cursor else ("n", None)
    if direction == "n":
        forward = items.order_by("wbs_code", "id")
        if key is not None:
            forward = forward.filter(Q(wbs_code__gt=key[0]) | Q(wbs_code=key[0], id__gt=key[1]))
        found = list(forward.values_list("id", "wbs_code")[: size + 1])
        more_before, more_after = key is not None, len(found) > size
        found = found[:size]
    else:
        assert key is not None  # a "previous" cursor always holds the first row's key
        backward = items.order_by("-wbs_code", "-id").filter(
            Q(wbs_code__lt=key[0]) | Q(wbs_code=key[0], id__lt=key[1])
        )
        found = list(backward.values_list("id", "wbs_code")[: size + 1])
        more_before, more_after = len(found) > size, True
        found = found[:size][::-1]
    packages = _packages(
        org, project, baseline, as_of, rows_of=[pk for pk, _code in found], latest_only=True
    )
    spent = _spent_by_item(org, project, as_of, keys=[key_id(str(p.id)) for p in packages])
    unassigned = (
        CostEntry.objects.for_org(org)
        .filter(project=project, date__lte=as_of)
        .exclude(
            work_item_id__in=items.values("work_item_key")  # set-based: no id list in Python
        )
        .aggregate(total=Sum("amount"))["total"]
    ) or Decimal(0)
    first = (found[0][1], found[0][0]) if found else None
    last = (found[-1][1], found[-1][0]) if found else None
    return _page(
        org,
        baseline,
        calendar,
        as_of,
        "wbs",
        packages,
        spent,
        next_cursor=_cursor_out("wbs", last, "n") if more_after and last else None,
        previous_cursor=_cursor_out("wbs", first, "p") if more_before and first else None,
        count=count,
        unassigned=unassigned,
    )


def _page(
    org: Organization,
    baseline: Baseline,
    calendar: Any,
    as_of: date,
    order: str,
    page_packages: list[ev.WorkPackage],
    spent: dict[Any, Decimal],
    *,
    next_cursor: str | None,
    previous_cursor: str | None,
    count: int,
    unassigned: Decimal,
) -> ItemPage:
    """The rows of a page: full figures, names and words for its packages only."""
    names: dict[Any, tuple[str, str]] = {
        row[0]: (row[1], row[2])
        for row in BaselineItem.objects.for_org(org)
        .filter(baseline=baseline, work_item_key__in=[key_id(str(p.id)) for p in page_packages])
        .annotate(key=_text("work_item_key"))
        .values_list("key", "wbs_code", "name")
    }
    costs = [ev.CostEntry(as_of, spent[p.id], p.id) for p in page_packages if p.id in spent]
    breakdown = ev.by_work_item(page_packages, costs, calendar, as_of)
    rows = []
    for line in breakdown.items:
        code, name = names.get(line.id, ("", ""))
        row = ev.to_api(line.figures)
        row.pop("series", None)
        rows.append(
            {
                "work_item": key_text(str(line.id)),
                "wbs_code": code,
                "name": name,
                **row,
                "reading": reading_words(line.figures),
            }
        )
    return ItemPage(
        as_of=as_of,
        order=order,
        rows=rows,
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
        count=count,
        unassigned_ac=unassigned,
        baseline=baseline,
    )


def key_id(value: str) -> uuid.UUID:
    return uuid.UUID(value)


# --- The S-curve (SVG drawn on the server) --------------------------------------------------


@dataclass(frozen=True)
class Curve:
    width: int
    height: int
    pv: str
    ev: str
    ac: str
    today_x: float | None
    ticks: Sequence[tuple[float, str]]
    y_ticks: Sequence[tuple[float, str]]
    empty: bool


def s_curve(org: Organization, project: Project, as_of: date) -> Curve:
    """PV over the whole baseline, EV and AC up to ``as_of``, as SVG polyline points."""
    width, height, left, bottom, top = 640, 240, 64, 24, 12
    data = inputs(org, project, upto=as_of)
    if data.baseline is None or not data.packages:
        return Curve(width, height, "", "", "", None, (), (), True)
    start = min(p.baseline_start for p in data.packages)
    end = max(max(p.baseline_finish for p in data.packages), as_of)
    points = series(data, project, start, end)
    if not points:
        return Curve(width, height, "", "", "", None, (), (), True)
    top_value = max([data.bac, *(max(p.pv, p.ev, p.ac) for p in points)]) or Decimal(1)
    span = max((end - start).days, 1)

    def x(day: date) -> float:
        return round(left + (width - left - 8) * (day - start).days / span, 1)

    def y(value: Decimal) -> float:
        return round(height - bottom - (height - bottom - top) * float(value / top_value), 1)

    def line(values: list[tuple[date, Decimal]]) -> str:
        return " ".join(f"{x(d)},{y(v)}" for d, v in values)

    upto = [p for p in points if p.date <= as_of]
    ticks = []
    day = start
    step = timedelta(days=max(7, span // 6))
    while day <= end:
        ticks.append((x(day), day.isoformat()))
        day += step
    y_ticks = [(y(top_value * k / 4), f"{(top_value * k / 4):,.0f}") for k in range(5)]
    return Curve(
        width,
        height,
        line([(p.date, p.pv) for p in points]),
        line([(p.date, p.ev) for p in upto]),
        line([(p.date, p.ac) for p in upto]),
        x(as_of) if start <= as_of <= end else None,
        ticks,
        y_ticks,
        False,
    )
