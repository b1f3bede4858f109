"""Server-drawn SVG of the risk register: the 5x5 heat map, the score trend, the KRI chart.

No JavaScript and no inline style (the CSP forbids them): presentation attributes only. The
level of a cell is said three ways: its colour, its word and, for high, a hatch pattern, so
nothing depends on colour alone. The charts scale to their container (``viewBox``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from risks.calc.scoring import Cell

FILL = {"low": "#e3f4e8", "medium": "#fff3d6", "high": "#fde8e6"}
INK = {"low": "#1d6b37", "medium": "#8a5300", "high": "#b42318"}
ZONE_INK = {"green": "#1d6b37", "amber": "#8a5300", "red": "#b42318"}


def level_word(level: str) -> str:
    return {
        "low": pgettext("risk level", "Low"),
        "medium": pgettext("risk level", "Medium"),
        "high": pgettext("risk level", "High"),
    }.get(level, level)


def matrix_svg(cells: Sequence[Cell], link: Callable[[int, int], str], *, title: str) -> SafeString:
    """The heat map: rows probability 5 (top) to 1, columns impact 1 to 5; each cell shows
    its count and level word and links to the register filtered to it."""
    size, pad_l, pad_b, pad_t = 64, 40, 40, 4
    width, height = pad_l + 5 * size + 4, pad_t + 5 * size + pad_b
    total = sum(c.count for c in cells)
    parts: list[str] = [
        format_html(
            '<svg class="risk-matrix" viewBox="0 0 {} {}" role="group"'
            ' aria-labelledby="matrix-title matrix-desc" xmlns="http://www.w3.org/2000/svg">',
            width,
            height,
        ),
        format_html('<title id="matrix-title">{}</title>', title),
        format_html(
            '<desc id="matrix-desc">{}</desc>',
            _(
                "Probability from 5 (top) to 1, impact from 1 (left) to 5; %(n)d risks. "
                "Each cell links to its risks."
            )
            % {"n": total},
        ),
        '<defs><pattern id="hatch-high" width="8" height="8" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="8" stroke="#b42318"'
        ' stroke-width="2" stroke-opacity="0.25"/></pattern></defs>',
    ]
    for cell in cells:
        x = pad_l + (cell.impact - 1) * size
        y = pad_t + (5 - cell.probability) * size
        label = _("Probability %(p)d, impact %(i)d: %(level)s, %(n)d risks") % {
            "p": cell.probability,
            "i": cell.impact,
            "level": level_word(cell.level),
            "n": cell.count,
        }
        parts.append(
            format_html(
                '<a href="{}" class="cell {}" aria-label="{}"><title>{}</title>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="#ffffff"'
                ' stroke-width="2"/>',
                link(cell.probability, cell.impact),
                cell.level,
                label,
                label,
                x,
                y,
                size,
                size,
                FILL[cell.level],
            )
        )
        if cell.level == "high":
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="url(#hatch-high)"/>',
                    x,
                    y,
                    size,
                    size,
                )
            )
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" font-size="22" font-weight="{}"'
                ' fill="{}">{}</text><text x="{}" y="{}" text-anchor="middle" font-size="11"'
                ' fill="{}">{}</text></a>',
                x + size / 2,
                y + size / 2 + 4,
                "700" if cell.count else "400",
                INK[cell.level] if cell.count else "#55595e",
                cell.count if cell.count else "·",
                x + size / 2,
                y + size - 8,
                INK[cell.level],
                level_word(cell.level),
            )
        )
    for p in range(1, 6):
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" font-size="13" fill="currentColor">'
                "{}</text>",
                pad_l - 6,
                pad_t + (5 - p) * size + size / 2 + 4,
                p,
            )
        )
    for i in range(1, 6):
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" font-size="13" fill="currentColor">{}'
                "</text>",
                pad_l + (i - 1) * size + size / 2,
                pad_t + 5 * size + 16,
                i,
            )
        )
    parts.append(
        format_html(
            '<text x="{}" y="{}" text-anchor="middle" font-size="12" fill="currentColor">{}</text>'
            '<text x="12" y="{}" text-anchor="middle" font-size="12" fill="currentColor"'
            ' transform="rotate(-90 12 {})">{}</text>',
            pad_l + 5 * size / 2,
            height - 6,
            _("Impact →"),
            pad_t + 5 * size / 2,
            pad_t + 5 * size / 2,
            _("Probability →"),
        )
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped by format_html


def _line_chart(
    values: Sequence[float],
    *,
    top: float,
    bottom: float,
    title: str,
    desc: str,
    chart_id: str,
    bands: Sequence[tuple[float, float, str]] = (),
    dots: Sequence[str] = (),
    labels: tuple[str, str] = ("", ""),
) -> SafeString:
    width, height = 320, 110
    pad_l, pad_r, pad_t, pad_b = 8, 8, 8, 18
    inner_w, inner_h = width - pad_l - pad_r, height - pad_t - pad_b
    span = (top - bottom) or 1.0

    def y(v: float) -> float:
        return round(pad_t + inner_h * (1 - (v - bottom) / span), 1)

    parts: list[str] = [
        format_html(
            '<svg class="chart small-chart" viewBox="0 0 {} {}" role="img"'
            ' aria-labelledby="{}-title {}-desc" xmlns="http://www.w3.org/2000/svg">',
            width,
            height,
            chart_id,
            chart_id,
        ),
        format_html('<title id="{}-title">{}</title>', chart_id, title),
        format_html('<desc id="{}-desc">{}</desc>', chart_id, desc),
    ]
    for band_top, band_bottom, colour in bands:
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" fill-opacity="0.10"/>',
                pad_l,
                y(band_top),
                inner_w,
                max(0.0, round(y(band_bottom) - y(band_top), 1)),
                colour,
            )
        )
    if values:
        n = len(values)
        step = inner_w / max(1, n - 1)
        coords = [(round(pad_l + k * step, 1), y(v)) for k, v in enumerate(values)]
        if n == 1:
            coords = [(pad_l, coords[0][1]), (width - pad_r, coords[0][1])]
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="currentColor" stroke-width="2"/>',
                " ".join(f"{cx},{cy}" for cx, cy in coords),
            )
        )
        for k, (cx, cy) in enumerate(coords[: len(dots)] if n > 1 else coords[-1:]):
            colour = dots[k] if n > 1 else dots[-1] if dots else "#55595e"
            parts.append(format_html('<circle cx="{}" cy="{}" r="3.5" fill="{}"/>', cx, cy, colour))
    for x, text, anchor in ((pad_l, labels[0], "start"), (width - pad_r, labels[1], "end")):
        if text:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="10" text-anchor="{}" fill="currentColor">{}'
                    "</text>",
                    x,
                    height - 4,
                    anchor,
                    text,
                )
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped by format_html


def score_trend_svg(points: Sequence[tuple[datetime, int, str]]) -> SafeString:
    """The score after each (re-)rating, 1..25, dots coloured by level."""
    if points:
        desc = _("%(n)d ratings, from score %(a)d to %(b)d.") % {
            "n": len(points),
            "a": points[0][1],
            "b": points[-1][1],
        }
    else:
        desc = _("Not rated yet.")
    return _line_chart(
        [float(score) for _at, score, _level in points],
        top=25,
        bottom=0,
        title=_("Score over time"),
        desc=desc,
        chart_id="score-trend",
        dots=[INK.get(level, "#55595e") for _at, _s, level in points],
        labels=(
            (points[0][0].date().isoformat(), points[-1][0].date().isoformat())
            if points
            else ("", "")
        ),
    )


def indicator_svg(
    readings: Sequence[tuple[datetime, Decimal, str]],
    *,
    amber: Decimal,
    red: Decimal,
    direction: str,
    name: str,
) -> SafeString:
    """The indicator's readings against its amber and red zones."""
    values = [float(v) for _at, v, _zone in readings]
    low = min([*values, float(amber), float(red)])
    high = max([*values, float(amber), float(red)])
    margin = (high - low) * 0.15 or 1.0
    top, bottom = high + margin, low - margin
    if direction == "up":
        bands = [(top, float(red), ZONE_INK["red"]), (float(red), float(amber), ZONE_INK["amber"])]
    else:
        bands = [
            (float(red), bottom, ZONE_INK["red"]),
            (float(amber), float(red), ZONE_INK["amber"]),
        ]
    if readings:
        desc = _("%(n)d readings of %(name)s, the latest %(value)s (%(zone)s).") % {
            "n": len(readings),
            "name": name or _("the indicator"),
            "value": readings[-1][1].normalize(),
            "zone": readings[-1][2],
        }
    else:
        desc = _("No reading yet.")
    return _line_chart(
        values,
        top=top,
        bottom=bottom,
        title=name or _("Key risk indicator"),
        desc=desc,
        chart_id="kri",
        bands=bands,
        dots=[ZONE_INK.get(zone, "#55595e") for _at, _v, zone in readings],
        labels=(
            (readings[0][0].date().isoformat(), readings[-1][0].date().isoformat())
            if readings
            else ("", "")
        ),
    )
