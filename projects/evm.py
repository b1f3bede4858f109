"""Earned value of a project, read from the database and computed by ``projects.calc.earned_value``.

The work packages are the leaves of the current baseline (their baseline budget and
planned span); progress is the dated ``ProgressRecord`` history (a package whose percent
was set before that history existed counts from the day its row last changed); actual cost
is the cost entries, summed per day in SQL. Without a baseline there is nothing to measure
against: PV and EV are zero and BAC is the live plan's budget.

A fixed number of queries whatever the size of the project (``indices``: four).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import F, Sum, TextField
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


def _packages(org: Organization, project: Project, baseline: Baseline) -> list[ev.WorkPackage]:
    rows = list(
        BaselineItem.objects.for_org(org)
        .filter(baseline=baseline, is_summary=False)
        .order_by("wbs_code", "id")
        .annotate(key=_text("work_item_key"))
        .values_list("key", "budget", "planned_start", "planned_finish")
    )
    history: dict[Any, list[tuple[date, Decimal]]] = {}
    for item_id, day, percent in (
        ProgressRecord.objects.for_org(org)
        .filter(project=project)
        .order_by("date", "created_at")
        .annotate(key=_text("work_item_id"))
        .values_list("key", "date", "percent_complete")
    ):
        history.setdefault(item_id, []).append((day, percent))
    # Items whose progress predates the history: today's figure, dated by their last change.
    zone = selectors.org_zone(org)
    for item_id, percent, updated in (
        WorkItem.objects.for_org(org)
        .filter(project=project, is_summary=False, percent_complete__gt=0)
        .annotate(key=_text("id"))
        .values_list("key", "percent_complete", "updated_at")
    ):
        if item_id not in history:
            history[item_id] = [(updated.astimezone(zone).date(), percent)]
    packages = []
    for key, budget, start, finish in rows:
        if start is None or finish is None:
            continue
        packages.append(
            ev.WorkPackage(key, budget, start, max(start, finish), history.get(key, ()))
        )
    return packages


def _costs(org: Organization, project: Project, by_item: bool) -> list[ev.CostEntry]:
    entries = CostEntry.objects.for_org(org).filter(project=project)
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


def inputs(org: Organization, project: Project, *, by_item: bool = False) -> Inputs:
    from projects import control

    baseline = change_guard.current_baseline(org, project)
    calendar = selectors.project_calendar(project)
    costs = _costs(org, project, by_item)
    if baseline is None:
        return Inputs(None, [], costs, calendar, control.plan_budget(org, project))
    return Inputs(baseline, _packages(org, project, baseline), costs, calendar, baseline.budget)


def figures(org: Organization, project: Project, as_of: date) -> ev.EarnedValue:
    data = inputs(org, project)
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
    data = inputs(org, project)
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


def by_work_item(org: Organization, project: Project, as_of: date) -> list[dict[str, Any]]:
    """The drill-down: each baselined work package's figures, in WBS order."""
    data = inputs(org, project, by_item=True)
    if data.baseline is None:
        return []
    names: dict[Any, tuple[str, str]] = {
        row[0]: (row[1], row[2])
        for row in BaselineItem.objects.for_org(org)
        .filter(baseline=data.baseline, is_summary=False)
        .annotate(key=_text("work_item_key"))
        .values_list("key", "wbs_code", "name")
    }
    breakdown = ev.by_work_item(data.packages, data.costs, data.calendar, as_of)
    out = []
    for line in breakdown.items:
        code, name = names.get(line.id, ("", ""))
        row = ev.to_api(line.figures)
        row.pop("series", None)
        out.append(
            {
                "work_item": key_text(str(line.id)),
                "wbs_code": code,
                "name": name,
                **row,
                "reading": reading_words(line.figures),
            }
        )
    return out


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
    data = inputs(org, project)
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
