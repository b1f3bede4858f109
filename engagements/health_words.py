"""Health signals in words, in the reader's language (the score itself is the pure
``engagements.calc.health``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from engagements.calc.health import (
    OPEN_RISKS,
    OVERDUE_FOLLOWUPS,
    RECENCY,
    SATISFACTION,
    SENTIMENT,
)

SIGNAL_LABELS = {
    RECENCY: gettext_lazy("Last touchpoint"),
    SENTIMENT: gettext_lazy("Sentiment"),
    SATISFACTION: gettext_lazy("Satisfaction"),
    OVERDUE_FOLLOWUPS: gettext_lazy("Overdue follow-ups"),
    OPEN_RISKS: gettext_lazy("Open business risks"),
}


def _trend_words(trend: float) -> str:
    if trend <= -0.5:
        return _("falling")
    if trend >= 0.5:
        return _("rising")
    return _("steady")


def describe(signal: Mapping[str, Any]) -> str:
    """One sentence, in the active language, saying what a stored signal measured."""
    key, facts = signal.get("key"), signal.get("facts") or {}
    if key == RECENCY:
        if facts.get("never"):
            return ngettext(
                "No touchpoint since the start, %(days)d day ago; cadence: %(cadence)d days.",
                "No touchpoint since the start, %(days)d days ago; cadence: %(cadence)d days.",
                facts.get("days", 0),
            ) % {"days": facts.get("days", 0), "cadence": facts.get("cadence", 0)}
        return ngettext(
            "Last touchpoint %(days)d day ago; the cadence is every %(cadence)d days.",
            "Last touchpoint %(days)d days ago; the cadence is every %(cadence)d days.",
            facts.get("days", 0),
        ) % {"days": facts.get("days", 0), "cadence": facts.get("cadence", 0)}
    if key in (SENTIMENT, SATISFACTION):
        if not signal.get("counted"):
            if key == SENTIMENT:
                return _("No touchpoint with a sentiment yet; not counted.")
            return _("No satisfaction score yet; not counted.")
        params = {
            "mean": f"{facts.get('mean', 0):+.1f}" if key == SENTIMENT else f"{facts['mean']:.1f}",
            "n": facts.get("n", 0),
            "trend": _trend_words(facts.get("trend", 0)),
        }
        if key == SENTIMENT:
            return (
                _("Sentiment averages %(mean)s over the last %(n)d rated touchpoints, %(trend)s.")
                % params
            )
        return (
            _("Satisfaction averages %(mean)s of 5 over the last %(n)d scores, %(trend)s.") % params
        )
    if key == OVERDUE_FOLLOWUPS:
        return ngettext(
            "%(count)d overdue follow-up.", "%(count)d overdue follow-ups.", facts.get("count", 0)
        ) % {"count": facts.get("count", 0)}
    if key == OPEN_RISKS:
        if not signal.get("counted"):
            return _("No risk register in use yet; not counted.")
        return ngettext(
            "%(count)d open business risk.", "%(count)d open business risks.", facts.get("count", 0)
        ) % {"count": facts.get("count", 0)}
    return ""
