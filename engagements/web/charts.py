"""Server-drawn SVG charts (no JavaScript, no inline style: the CSP forbids it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from engagements.calc.health import HealthSettings

LEVEL_COLOURS = {"green": "#1d6b37", "amber": "#8a5300", "red": "#b42318"}


def health_trend_svg(
    points: Sequence[tuple[date, int, str]],
    settings: HealthSettings,
    *,
    width: int = 640,
    height: int = 160,
) -> SafeString:
    """A line of daily scores over bands for the red, amber and green zones.

    The chart scales to its container (``viewBox``) keeping its proportions, so its text is
    never squashed on a phone; its ``<title>`` and ``<desc>`` say in words what it shows, for
    screen readers, and every day's point is focusable with its date and score as its
    ``<title>`` (shown on hover and read on focus).
    """
    pad_l, pad_r, pad_t, pad_b = 30, 8, 8, 20
    inner_w, inner_h = width - pad_l - pad_r, height - pad_t - pad_b

    def y(score: float) -> float:
        return round(pad_t + inner_h * (1 - score / 100), 1)

    parts = [
        format_html(
            '<svg class="chart" viewBox="0 0 {} {}" role="img"'
            ' aria-labelledby="trend-title trend-desc"'
            ' xmlns="http://www.w3.org/2000/svg">',
            width,
            height,
        ),
        format_html('<title id="trend-title">{}</title>', _("Health over time")),
    ]
    if points:
        first, last = points[0], points[-1]
        desc = _("%(n)d daily scores from %(first)s (%(a)d) to %(last)s (%(b)d).") % {
            "n": len(points),
            "first": first[0].isoformat(),
            "a": first[1],
            "last": last[0].isoformat(),
            "b": last[1],
        }
    else:
        desc = _("No daily scores yet; the first is taken tonight.")
    parts.append(format_html('<desc id="trend-desc">{}</desc>', desc))

    bands = [
        (100, settings.amber_below, "green"),
        (settings.amber_below, settings.red_below, "amber"),
        (settings.red_below, 0, "red"),
    ]
    for top, bottom, level in bands:
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" fill-opacity="0.08"/>',
                pad_l,
                y(top),
                inner_w,
                round(y(bottom) - y(top), 1),
                LEVEL_COLOURS[level],
            )
        )
    for tick in (0, settings.red_below, settings.amber_below, 100):
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="currentColor"'
                ' stroke-opacity="0.15"/><text x="{}" y="{}" font-size="10"'
                ' text-anchor="end" fill="currentColor">{}</text>',
                pad_l,
                width - pad_r,
                y(tick),
                y(tick),
                pad_l - 4,
                y(tick) + 3,
                tick,
            )
        )
    if points:
        n = len(points)
        step = inner_w / max(1, n - 1)
        coords = [
            (round(pad_l + i * step, 1), y(score)) for i, (_d, score, _l) in enumerate(points)
        ]
        if n == 1:
            coords = [(pad_l, coords[0][1]), (width - pad_r, coords[0][1])]
        path = " ".join(f"{x},{yy}" for x, yy in coords)
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="currentColor" stroke-width="2"'
                ' vector-effect="non-scaling-stroke"/>',
                path,
            )
        )
        if n > 1:
            for (x, yy), (day, score, _l) in zip(coords[:-1], points[:-1], strict=True):
                value = _("%(day)s: %(score)d") % {"day": day.isoformat(), "score": score}
                parts.append(
                    format_html(
                        '<g class="chart-point" tabindex="0" role="img" aria-label="{}">'
                        '<title>{}</title><circle cx="{}" cy="{}" r="4" fill="currentColor"/>'
                        "</g>",
                        value,
                        value,
                        x,
                        yy,
                    )
                )
        last_x, last_y = coords[-1]
        last_value = _("%(day)s: %(score)d") % {
            "day": points[-1][0].isoformat(),
            "score": points[-1][1],
        }
        parts.append(
            format_html(
                '<g class="chart-point chart-last" tabindex="0" role="img" aria-label="{}">'
                '<title>{}</title><circle cx="{}" cy="{}" r="3.5" fill="{}"/></g>',
                last_value,
                last_value,
                last_x,
                last_y,
                LEVEL_COLOURS.get(points[-1][2], "#55595e"),
            )
        )
        for x, label in ((pad_l, first[0]), (width - pad_r, last[0])):
            anchor = "start" if x == pad_l else "end"
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="10" text-anchor="{}"'
                    ' fill="currentColor">{}</text>',
                    x,
                    height - 5,
                    anchor,
                    escape(label.isoformat()),
                )
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped by format_html
