"""The Gantt chart as server-drawn SVG, from plain data (no queries here).

One row per work item in WBS order: a bar for a work package (its progress inside, its
total float as a thin line after it), a bracket for a summary, a diamond for a milestone;
dependency arrows from the predecessor's start or finish to the successor's; non-working
days shaded; a line for today. Critical items and the links between them are drawn in the
accent colour *and* say "critical" in words (a label after the bar and the row's
``<title>``), so the path reads without colour, on paper and to a screen reader.

Each row is a link (``<a>``, focusable) to the work item, whose ``<title>`` gives its dates
and floats on hover and focus. Only presentation attributes and classes from the one
stylesheet are used (the CSP forbids ``style=``), and every text is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from projects.calc.calendar import WorkCalendar

ZOOMS = ("day", "week", "month")
DAY_WIDTH = {"day": 22.0, "week": 7.0, "month": 2.5}
ROW_H = 24
BAR_H = 14
HEADER_H = 44
LABEL_W = 230
PAD_DAYS = 3
LABEL_CHARS = 30
ACCENT = "#b42318"
PRIMARY = "#1f5fbf"
XFn = Callable[[date], float]
MUTED = "#55595e"


@dataclass(frozen=True, slots=True)
class Bar:
    id: str
    code: str
    name: str
    depth: int
    kind: str  # "task", "summary" or "milestone"
    start: date | None
    finish: date | None
    late_start: date | None = None
    late_finish: date | None = None
    total_float: int | None = None
    free_float: int | None = None
    critical: bool = False
    percent: Decimal = Decimal(0)
    url: str = ""
    duration: int = 0
    # The current baseline's plan (a thin ghost bar under the live one) and the slip of the
    # live finish against it, in working days (positive: later).
    baseline_start: date | None = None
    baseline_finish: date | None = None
    slip: int | None = None


@dataclass(frozen=True, slots=True)
class Arrow:
    predecessor: str
    successor: str
    type: str = "FS"
    lag: int = 0


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _num(value: float) -> str:
    """A coordinate with at most one decimal, no trailing zero (called ~20 times a row)."""
    tenths = round(value * 10)
    return str(tenths // 10) if tenths % 10 == 0 else str(tenths / 10)


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def span(
    bars: Sequence[Bar], *, start: date, finish: date | None, today: date
) -> tuple[date, date]:
    """The dates the chart shows: every bar, the project's start and target, padded."""
    days = [start] + [
        d
        for b in bars
        for d in (b.start, b.finish, b.late_finish, b.baseline_start, b.baseline_finish)
        if d
    ]
    if finish is not None:
        days.append(finish)
    first, last = min(days), max(days)
    if first - timedelta(days=30) <= today <= last + timedelta(days=30):
        first, last = min(first, today), max(last, today)
    return first - timedelta(days=PAD_DAYS), last + timedelta(days=PAD_DAYS)


def render(
    bars: Sequence[Bar],
    arrows: Sequence[Arrow],
    *,
    calendar: WorkCalendar,
    start: date,
    target: date | None,
    today: date,
    zoom: str = "week",
    title: str = "",
) -> SafeString:
    zoom = zoom if zoom in ZOOMS else "week"
    px = DAY_WIDTH[zoom]
    first, last = span(bars, start=start, finish=target, today=today)
    n_days = (last - first).days + 1
    width = LABEL_W + n_days * px + 16
    height = HEADER_H + max(1, len(bars)) * ROW_H + 8
    chart_h = height - HEADER_H

    def x(day: date) -> float:
        return LABEL_W + (day - first).days * px

    heading = title or _("Gantt chart")
    words = {
        "critical": _("critical"),
        "today": _("Today"),
        "summary": _("summary"),
        "milestone": _("milestone"),
        "target": _("Target finish"),
        # Formats of each row's title, translated once per chart, not once per row.
        "milestone_on": _("milestone on %(day)s"),
        "span": _("%(start)s to %(finish)s, %(n)s working days"),
        "floats": _("total float %(total)s, free float %(free)s"),
        "latest": _("latest %(start)s to %(finish)s"),
        "done": _("%(p)s%% done"),
        "baseline": _("baseline %(start)s to %(finish)s"),
        "slip": _("slip %(n)s working days"),
        "slip_short": _("%(n)s d"),
    }
    out: list[str] = [
        f'<svg class="gantt" xmlns="http://www.w3.org/2000/svg" width="{_num(width)}" '
        f'height="{height}" viewBox="0 0 {_num(width)} {height}" '
        f'aria-labelledby="gantt-title gantt-desc" font-size="12" '
        f'font-family="system-ui, sans-serif" data-label-width="{LABEL_W}"'
        + (f' data-today-x="{_num(x(today))}"' if first <= today <= last else "")
        + ">",
        f'<title id="gantt-title">{_e(heading)}</title>',
        '<desc id="gantt-desc">'
        + _e(
            _(
                "One row per work item in WBS order, from %(first)s to %(last)s. Critical "
                "items are drawn in red and labelled “critical”. Each row links to its work "
                "item; its title gives dates and float."
            )
            % {"first": first.isoformat(), "last": last.isoformat()}
        )
        + "</desc>",
        '<defs><marker id="gantt-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" '
        f'fill="{MUTED}" class="gantt-arrowhead"/></marker>'
        '<marker id="gantt-arrow-crit" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" '
        f'fill="{ACCENT}" class="gantt-arrowhead crit"/></marker></defs>',
        f'<rect class="gantt-bg" x="0" y="0" width="{_num(width)}" height="{height}" '
        'fill="#ffffff"/>',
    ]

    # Non-working days, merged into runs, behind everything.
    shade: list[str] = []
    day = first
    while day <= last:
        if calendar.is_working(day):
            day += timedelta(days=1)
            continue
        run_start = day
        while day <= last and not calendar.is_working(day):
            day += timedelta(days=1)
        shade.append(
            f'<rect x="{_num(x(run_start))}" y="{HEADER_H}" '
            f'width="{_num((day - run_start).days * px)}" height="{chart_h}"/>'
        )
    out.append(f'<g class="gantt-off" fill="#f0f0ed" aria-hidden="true">{"".join(shade)}</g>')

    out.append(_header(first, last, zoom, px, x, width, height))

    # Row stripes and the label column's edge.
    out.append(
        f'<line class="gantt-grid" x1="{LABEL_W}" y1="0" x2="{LABEL_W}" y2="{height}" '
        'stroke="#d9d9d4" aria-hidden="true"/>'
    )

    index = {bar.id: k for k, bar in enumerate(bars)}

    def y_mid(k: int) -> float:
        return HEADER_H + k * ROW_H + ROW_H / 2

    # Arrows under the bars.
    lines: list[str] = []
    for arrow in arrows:
        a, b = index.get(arrow.predecessor), index.get(arrow.successor)
        if a is None or b is None:
            continue
        pred, succ = bars[a], bars[b]
        if pred.start is None or succ.start is None or pred.finish is None or succ.finish is None:
            continue
        from_end = arrow.type in ("FS", "FF")
        to_start = arrow.type in ("FS", "SS")
        sx = _edge(pred, from_end, x, px)
        tx = _edge(succ, not to_start, x, px)
        sy, ty = y_mid(a), y_mid(b)
        ex = sx + 6 if from_end else sx - 6
        ax = tx - 6 if to_start else tx + 6
        if (to_start and ax >= ex) or (not to_start and ax <= ex):
            d = f"M{_num(sx)},{_num(sy)} H{_num(ex)} V{_num(ty)} H{_num(tx)}"
        else:
            mid = ty - ROW_H / 2 if ty > sy else ty + ROW_H / 2
            d = (
                f"M{_num(sx)},{_num(sy)} H{_num(ex)} V{_num(mid)} H{_num(ax)} "
                f"V{_num(ty)} H{_num(tx)}"
            )
        crit = pred.critical and succ.critical
        lines.append(
            f'<path class="gantt-link{" crit" if crit else ""}" d="{d}" fill="none" '
            f'stroke="{ACCENT if crit else MUTED}" stroke-width="{1.6 if crit else 1.1}" '
            f'marker-end="url(#{"gantt-arrow-crit" if crit else "gantt-arrow"})"/>'
        )
    out.append(f'<g class="gantt-links" aria-hidden="true">{"".join(lines)}</g>')

    rows: list[str] = []
    for k, bar in enumerate(bars):
        rows.append(_row(bar, k, x, px, words))
    out.append(f'<g class="gantt-rows">{"".join(rows)}</g>')

    if first <= today <= last:
        tx = x(today) + px / 2
        out.append(
            f'<g class="gantt-today"><line x1="{_num(tx)}" y1="{HEADER_H - 6}" x2="{_num(tx)}" '
            f'y2="{height}" stroke="{ACCENT}" stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<text x="{_num(tx + 3)}" y="26" fill="{ACCENT}" font-size="10">'
            f"{_e(words['today'])}</text></g>"
        )
    if target is not None and first <= target <= last:
        gx = x(target) + px
        out.append(
            f'<g class="gantt-target"><line x1="{_num(gx)}" y1="{HEADER_H}" x2="{_num(gx)}" '
            f'y2="{height}" stroke="{MUTED}" stroke-width="1.5"/>'
            f"<title>{_e(words['target'])}: {target.isoformat()}</title></g>"
        )
    out.append(_labels(bars, height))
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every text above went through _e()


def _edge(bar: Bar, at_end: bool, x: XFn, px: float) -> float:
    assert bar.start is not None and bar.finish is not None
    if bar.kind == "milestone":
        centre = x(bar.finish) + px / 2
        return centre + 5 if at_end else centre - 5
    return (x(bar.finish)) + px if at_end else (x(bar.start))


def _row(bar: Bar, k: int, x: XFn, px: float, words: dict[str, str]) -> str:
    top = HEADER_H + k * ROW_H
    mid = top + ROW_H / 2
    classes = ["gantt-row", bar.kind]
    if bar.critical:
        classes.append("crit")
    parts = [f'<g class="{" ".join(classes)}">']
    parts.append(f'<a href="{_e(bar.url)}">' if bar.url else "<a>")
    parts.append(f"<title>{_e(_describe(bar, words))}</title>")
    stripe = "#ffffff" if k % 2 == 0 else "#fafaf8"
    parts.append(
        f'<rect class="gantt-stripe" x="0" y="{top}" width="100%" height="{ROW_H}" '
        f'fill="{stripe}" fill-opacity="0.5"/>'
    )
    if bar.baseline_start is not None and bar.baseline_finish is not None:
        # The ghost: where the baseline planned this item, a thin bar under the live one.
        gx0 = x(bar.baseline_start)
        gw = max(x(bar.baseline_finish) + px - gx0, 2.0)
        parts.append(
            f'<rect class="gantt-baseline" x="{_num(gx0)}" y="{_num(mid + BAR_H / 2 + 1)}" '
            f'width="{_num(gw)}" height="3" fill="{MUTED}" fill-opacity="0.55" '
            f'data-start="{bar.baseline_start.isoformat()}" '
            f'data-finish="{bar.baseline_finish.isoformat()}"/>'
        )
    if bar.start is not None and bar.finish is not None:
        x0 = x(bar.start)
        x1 = x(bar.finish) + px
        colour = ACCENT if bar.critical else PRIMARY
        if bar.kind == "milestone":
            cx, r = x(bar.finish) + px / 2, 7.0
            parts.append(
                f'<path class="gantt-bar" d="M{_num(cx)},{_num(mid - r)} '
                f"L{_num(cx + r)},{_num(mid)} L{_num(cx)},{_num(mid + r)} "
                f'L{_num(cx - r)},{_num(mid)} z" fill="{colour}"/>'
            )
            end = cx + r
        elif bar.kind == "summary":
            y0 = mid - 5
            parts.append(
                f'<path class="gantt-bar" d="M{_num(x0)},{_num(y0)} H{_num(x1)} V{_num(mid + 5)} '
                f'L{_num(x1 - 5)},{_num(mid)} H{_num(x0 + 5)} L{_num(x0)},{_num(mid + 5)} z" '
                f'fill="{"#7a1a12" if bar.critical else "#1d1f21"}"/>'
            )
            end = x1
        else:
            w = max(x1 - x0, 2.0)
            y0 = mid - BAR_H / 2
            parts.append(
                f'<rect class="gantt-bar" x="{_num(x0)}" y="{_num(y0)}" width="{_num(w)}" '
                f'height="{BAR_H}" rx="3" fill="{colour}"/>'
            )
            done = float(min(max(bar.percent, Decimal(0)), Decimal(100))) / 100
            if done > 0:
                parts.append(
                    f'<rect class="gantt-done" x="{_num(x0)}" y="{_num(y0)}" '
                    f'width="{_num(w * done)}" height="{BAR_H}" rx="3" fill="#000000" '
                    'fill-opacity="0.35"/>'
                )
            end = x0 + w
            unfinished = done < 1
            if (
                unfinished
                and bar.total_float
                and bar.total_float > 0
                and bar.late_finish is not None
            ):
                lx = x(bar.late_finish) + px
                if lx > end:
                    parts.append(
                        f'<line class="gantt-float" x1="{_num(end)}" y1="{_num(mid)}" '
                        f'x2="{_num(lx)}" y2="{_num(mid)}" stroke="{MUTED}" '
                        'stroke-dasharray="2 2"/>'
                    )
        label_x = end + 4
        if bar.critical:
            parts.append(
                f'<text class="gantt-crit" x="{_num(label_x)}" y="{_num(mid + 4)}" '
                f'fill="{ACCENT}" font-size="10">{_e(words["critical"])}</text>'
            )
            label_x += 44
        if bar.slip:
            parts.append(
                f'<text class="gantt-slip" x="{_num(label_x)}" y="{_num(mid + 4)}" '
                f'fill="{ACCENT if bar.slip > 0 else MUTED}" font-size="10">'
                f"{_e(words['slip_short'] % {'n': f'{bar.slip:+d}'})}</text>"
            )
    parts.append("</a></g>")
    return "".join(parts)


def _describe(bar: Bar, words: dict[str, str]) -> str:
    name = f"{bar.code} {bar.name}".strip()
    if bar.start is None or bar.finish is None:
        return name
    if bar.kind == "milestone":
        when = words["milestone_on"] % {"day": bar.finish.isoformat()}
    else:
        when = words["span"] % {
            "start": bar.start.isoformat(),
            "finish": bar.finish.isoformat(),
            "n": bar.duration,
        }
        if bar.kind == "summary":
            when = f"{words['summary']}: {when}"
    floats = words["floats"] % {
        "total": bar.total_float if bar.total_float is not None else "—",
        "free": bar.free_float if bar.free_float is not None else "—",
    }
    late = ""
    if bar.late_start and bar.late_finish:
        late = "; " + words["latest"] % {
            "start": bar.late_start.isoformat(),
            "finish": bar.late_finish.isoformat(),
        }
    progress = words["done"] % {"p": _num(float(bar.percent))}
    text = f"{name}: {when}; {floats}{late}; {progress}"
    if bar.baseline_start and bar.baseline_finish:
        text += "; " + words["baseline"] % {
            "start": bar.baseline_start.isoformat(),
            "finish": bar.baseline_finish.isoformat(),
        }
        if bar.slip is not None:
            text += "; " + words["slip"] % {"n": bar.slip}
    if bar.critical:
        text += f"; {words['critical']}"
    return text


def _header(
    first: date, last: date, zoom: str, px: float, x: XFn, width: float, height: int
) -> str:
    """Month names on the top line; days, weeks (their Monday) or months below."""
    top: list[str] = []
    ticks: list[str] = []
    day = first
    while day <= last:
        room = ((day.replace(day=28) + timedelta(days=4)).replace(day=1) - day).days * px
        if day.day == 1 or (day == first and room >= 52):
            label = day.strftime("%Y-%m")
            top.append(
                f'<text x="{_num((x(day)) + 2)}" y="14" fill="{MUTED}">{label}</text>'
                f'<line x1="{_num(x(day))}" y1="0" x2="{_num(x(day))}" y2="{height}" '
                'stroke="#d9d9d4"/>'
            )
        if zoom == "day":
            ticks.append(
                f'<text x="{_num((x(day)) + px / 2)}" y="34" text-anchor="middle" '
                f'fill="{MUTED}" font-size="10">{day.day}</text>'
            )
        elif zoom == "week" and day.isoweekday() == 1:
            ticks.append(
                f'<text x="{_num((x(day)) + 2)}" y="34" fill="{MUTED}" font-size="10">'
                f"{day.strftime('%d')}</text>"
                f'<line x1="{_num(x(day))}" y1="{HEADER_H - 4}" x2="{_num(x(day))}" '
                f'y2="{height}" stroke="#ececea"/>'
            )
        day += timedelta(days=1)
    return (
        f'<g class="gantt-head" aria-hidden="true">'
        f'<rect x="0" y="0" width="{_num(width)}" height="{HEADER_H}" fill="#ffffff" '
        f'class="gantt-head-bg"/>{"".join(ticks)}{"".join(top)}'
        f'<line x1="0" y1="{HEADER_H}" x2="{_num(width)}" y2="{HEADER_H}" stroke="#d9d9d4"/></g>'
    )


def _labels(bars: Sequence[Bar], height: int) -> str:
    """The label column, drawn last so it stays on top: ``projects.js`` keeps it in view
    while the chart scrolls sideways (each row's link already carries its name, so the
    column is hidden from assistive technology)."""
    parts = [
        '<g class="gantt-labels" aria-hidden="true">',
        f'<rect class="gantt-labels-bg" x="0" y="0" width="{LABEL_W}" height="{height}" '
        'fill="#ffffff"/>',
        f'<line x1="{LABEL_W}" y1="0" x2="{LABEL_W}" y2="{height}" stroke="#d9d9d4"/>',
    ]
    for k, bar in enumerate(bars):
        depth = min(bar.depth, 8)
        mid = HEADER_H + k * ROW_H + ROW_H / 2
        label = _short(f"{bar.code} {bar.name}", LABEL_CHARS - depth)
        weight = ' font-weight="600"' if bar.kind == "summary" else ""
        crit = " crit" if bar.critical else ""
        text = (
            f'<text class="gantt-label{crit}" x="{8 + depth * 12}" y="{_num(mid + 4)}" '
            f'fill="#1d1f21"{weight}>{_e(label)}</text>'
        )
        parts.append(f'<a href="{_e(bar.url)}" tabindex="-1">{text}</a>' if bar.url else text)
    parts.append("</g>")
    return "".join(parts)
