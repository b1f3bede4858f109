"""The health score of an engagement: a pure function of explained signals.

No database, no clock: the caller gathers ``HealthInputs`` (``selectors.health_inputs``)
and the organization's ``HealthSettings`` (``Organization.settings["health"]``). Each
signal scores 0..1 and carries the numbers that explain it, so the page can say in words
(in the reader's language, see ``engagements.health_words``) why an engagement is amber or
red. Pure: no Django (import-linter checks it).

A signal without data (no rated touchpoint yet) is left out and the others' weights are
scaled up, so a new engagement is not punished for what nobody could measure yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

GREEN, AMBER, RED = "green", "amber", "red"

RECENCY = "recency"
SENTIMENT = "sentiment"
SATISFACTION = "satisfaction"
OVERDUE_FOLLOWUPS = "overdue_followups"
OPEN_RISKS = "open_risks"
SIGNALS = (RECENCY, SENTIMENT, SATISFACTION, OVERDUE_FOLLOWUPS, OPEN_RISKS)


@dataclass(frozen=True)
class HealthSettings:
    """Weights and thresholds; an organization overrides any of them in its settings."""

    weight_recency: int = 40
    weight_sentiment: int = 20
    weight_satisfaction: int = 15
    weight_overdue_followups: int = 15
    weight_open_risks: int = 10
    amber_below: int = 70  # a score under this is amber
    red_below: int = 40  # a score under this is red
    # Days since the last touch, as a multiple of the cadence: within 1x is full marks,
    # the score falls linearly to zero at this multiple, and from there the level is red
    # whatever the other signals say (silence is the earliest warning there is).
    recency_red_ratio: float = 3.0
    window: int = 6  # how many recent rated touchpoints the trends look at
    followups_zero_at: int = 3  # this many overdue follow-ups take the whole weight
    risks_zero_at: int = 2  # this many open business risks take the whole weight

    def weight(self, signal: str) -> int:
        return int(getattr(self, f"weight_{signal}"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> HealthSettings:
        """Defaults overlaid with the known, well-typed keys of ``data``; others ignored."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = (data or {}).get(f.name)
            if raw is None or isinstance(raw, bool):
                continue
            try:
                values[f.name] = float(raw) if f.type == "float" else int(raw)
            except (TypeError, ValueError):
                continue
        try:
            settings = cls(**values)
            settings.validate()
        except ValueError:
            return cls()  # a broken stored setting must not break every page
        return settings

    def validate(self) -> None:
        weights = [self.weight(s) for s in SIGNALS]
        if any(w < 0 or w > 100 for w in weights) or sum(weights) == 0:
            raise ValueError("Weights are 0..100 and at least one is positive.")
        if not 0 < self.red_below < self.amber_below <= 100:
            raise ValueError("Thresholds need 0 < red_below < amber_below <= 100.")
        if self.recency_red_ratio <= 1 or self.window < 2:
            raise ValueError("recency_red_ratio > 1 and window >= 2.")
        if self.followups_zero_at < 1 or self.risks_zero_at < 1:
            raise ValueError("The zero-at counts are at least 1.")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HealthInputs:
    cadence_days: int
    days_since_last_touch: int | None  # None: never touched
    days_since_start: int
    sentiments: Sequence[int] = ()  # newest first, -2..+2, rated touchpoints only
    satisfactions: Sequence[int] = ()  # newest first, 1..5
    overdue_followups: int = 0
    # None: the organization keeps no risk register yet, so the signal is left out (its
    # weight goes to the others) rather than scoring a reassuring "no risks".
    open_business_risks: int | None = None


@dataclass(frozen=True)
class Signal:
    key: str
    score: float  # 0..1
    weight: int
    counted: bool
    points: float  # share of the final score, 0..100
    facts: dict[str, Any] = field(default_factory=dict)
    # The most points this signal can give: its weight's share of the counted weights (a
    # signal without data is left out and the others share its weight, so a weight of 40
    # can be worth 53 points). ``points`` is ``score`` times this.
    max_points: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Health:
    score: int
    level: str
    signals: tuple[Signal, ...]
    forced_red: bool = False

    def signals_as_json(self) -> list[dict[str, Any]]:
        return [s.as_dict() for s in self.signals]


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _trend(values: Sequence[int]) -> float:
    """Mean of the newer half minus mean of the older half (values newest first)."""
    if len(values) < 2:
        return 0.0
    half = len(values) // 2
    return _mean(values[:half]) - _mean(values[half : half * 2])


def _recency(inputs: HealthInputs, settings: HealthSettings) -> tuple[float, dict[str, Any]]:
    days = inputs.days_since_last_touch
    basis = days if days is not None else inputs.days_since_start
    ratio = max(0.0, basis) / max(1, inputs.cadence_days)
    score = 1.0 if ratio <= 1 else _clamp(1 - (ratio - 1) / (settings.recency_red_ratio - 1))
    facts = {"days": basis, "cadence": inputs.cadence_days, "never": days is None}
    return score, facts


def _rated(values: Sequence[int], window: int, low: int, high: int) -> tuple[float, float] | None:
    recent = list(values[:window])
    if not recent:
        return None
    level = (_mean(recent) - low) / (high - low)
    return level, _trend(recent)


def _score_trended(level: float, trend: float, span: int) -> float:
    # A trend of a whole point over the window moves the score by a tenth of the range per
    # point of the scale, so a falling trend pulls a decent average down early.
    return _clamp(level + 0.4 * trend / span)


def compute(inputs: HealthInputs, settings: HealthSettings | None = None) -> Health:
    settings = settings or HealthSettings()
    parts: list[tuple[str, float | None, dict[str, Any]]] = []

    recency_score, recency_facts = _recency(inputs, settings)
    parts.append((RECENCY, recency_score, recency_facts))

    sentiment = _rated(inputs.sentiments, settings.window, -2, 2)
    if sentiment is None:
        parts.append((SENTIMENT, None, {}))
    else:
        level, trend = sentiment
        recent = list(inputs.sentiments[: settings.window])
        parts.append(
            (
                SENTIMENT,
                _score_trended(level, trend, 4),
                {"mean": round(_mean(recent), 1), "trend": round(trend, 1), "n": len(recent)},
            )
        )

    satisfaction = _rated(inputs.satisfactions, settings.window, 1, 5)
    if satisfaction is None:
        parts.append((SATISFACTION, None, {}))
    else:
        level, trend = satisfaction
        recent = list(inputs.satisfactions[: settings.window])
        parts.append(
            (
                SATISFACTION,
                _score_trended(level, trend, 4),
                {"mean": round(_mean(recent), 1), "trend": round(trend, 1), "n": len(recent)},
            )
        )

    overdue = max(0, inputs.overdue_followups)
    parts.append(
        (OVERDUE_FOLLOWUPS, _clamp(1 - overdue / settings.followups_zero_at), {"count": overdue})
    )
    if inputs.open_business_risks is None:
        parts.append((OPEN_RISKS, None, {}))
    else:
        risks = max(0, inputs.open_business_risks)
        parts.append((OPEN_RISKS, _clamp(1 - risks / settings.risks_zero_at), {"count": risks}))

    counted_weight = sum(settings.weight(key) for key, score, _f in parts if score is not None)
    signals = []
    total = 0.0
    for key, score, facts in parts:
        weight = settings.weight(key)
        counted = score is not None and counted_weight > 0
        points = 100 * weight * score / counted_weight if counted else 0.0
        total += points
        signals.append(
            Signal(
                key=key,
                score=round(score if score is not None else 0.0, 3),
                weight=weight,
                counted=counted,
                points=round(points, 1),
                facts=facts,
                max_points=round(100 * weight / counted_weight, 1) if counted else 0.0,
            )
        )

    score = round(total)
    forced_red = recency_score == 0.0 and settings.weight_recency > 0
    if forced_red:
        score = min(score, settings.red_below - 1)
    return Health(
        score=score, level=level_for(score, settings), signals=tuple(signals), forced_red=forced_red
    )


def level_for(score: int, settings: HealthSettings) -> str:
    if score < settings.red_below:
        return RED
    if score < settings.amber_below:
        return AMBER
    return GREEN
