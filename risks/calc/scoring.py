"""Risk scoring: probability x impact on an organization's 5x5 matrix, and key risk indicators.

What, following API.md and the risk register issue:

- ``probability`` and ``impact`` are integers 1..5, each level with words (organization
  settings, defaulting to ``PROBABILITY_WORDS`` / ``IMPACT_WORDS``);
- ``score`` = P x I (1..25) and ``level`` (``low`` / ``medium`` / ``high``) read from the
  organization's ``Matrix``, indexed [probability][impact];
- an inherent rating (before the response) and a residual one (after the planned response);
  a residual rating above the inherent one is allowed but flagged (``assess``);
- ``matrix_cells`` gives the 25 cells of ``GET /api/v1/risk-matrix/`` with their counts;
- a key risk indicator (KRI) watches a number fed from outside against amber and red
  thresholds (``Indicator``); a ``crossing`` from one zone to another re-rates the risk's
  probability by a rule kept as data (``ReratingRule``) and is what the service notifies the
  owner of.

The default matrix (``DEFAULT_MATRIX``) bands the score: 1-4 low, 5-12 medium, 15-25 high,
so (1, 1) is low, (5, 5) is high and a rare but severe risk (1, 5) is medium. Any matrix an
organization stores must be monotone: a higher probability or a higher impact never gives a
lower level.

Why hand-written: no maintained library implements this contract (an organization-defined,
validated 5x5 matrix with a JSON form and a fallback, KRI zones with direction and a data
re-rating rule). Pure: no Django, no I/O. Words shown to people are msgids marked with the
local ``gettext_noop``, extracted by ``makemessages`` and translated by the web layer with
Django's ``gettext``; errors carry a ``code``, a msgid and its ``%(name)s`` parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, TypeAlias, cast


def gettext_noop(message: str) -> str:
    """Mark ``message`` for translation without translating it (see the module docstring)."""
    return message


Level: TypeAlias = Literal["low", "medium", "high"]
Zone: TypeAlias = Literal["green", "amber", "red"]
Direction: TypeAlias = Literal["up", "down"]
Number: TypeAlias = int | Decimal

LEVELS: tuple[Level, ...] = ("low", "medium", "high")
_RANK: dict[str, int] = {level: rank for rank, level in enumerate(LEVELS)}
SCALE = (1, 2, 3, 4, 5)
ZONES: tuple[Zone, ...] = ("green", "amber", "red")
_ZONE_RANK: dict[str, int] = {zone: rank for rank, zone in enumerate(ZONES)}

LEVEL_LABELS: dict[Level, str] = {
    "low": gettext_noop("Low"),
    "medium": gettext_noop("Medium"),
    "high": gettext_noop("High"),
}
PROBABILITY_WORDS: dict[int, str] = {
    1: gettext_noop("Rare"),
    2: gettext_noop("Unlikely"),
    3: gettext_noop("Possible"),
    4: gettext_noop("Likely"),
    5: gettext_noop("Almost certain"),
}
IMPACT_WORDS: dict[int, str] = {
    1: gettext_noop("Negligible"),
    2: gettext_noop("Minor"),
    3: gettext_noop("Moderate"),
    4: gettext_noop("Major"),
    5: gettext_noop("Severe"),
}
ZONE_LABELS: dict[Zone, str] = {
    "green": gettext_noop("Green"),
    "amber": gettext_noop("Amber"),
    "red": gettext_noop("Red"),
}
WARNINGS: dict[str, str] = {
    "residual_above_inherent": gettext_noop(
        "The residual rating is above the inherent one: the planned response makes the risk worse."
    ),
}
CROSSING_LABELS: dict[str, str] = {
    "worse": gettext_noop("The key risk indicator moved into a worse zone."),
    "better": gettext_noop("The key risk indicator moved into a better zone."),
}

ERRORS: dict[str, str] = {
    "out_of_range": gettext_noop("%(name)s must be a whole number from 1 to 5."),
    "matrix_shape": gettext_noop("The risk matrix must have 5 rows of 5 levels."),
    "matrix_level": gettext_noop(
        "The risk matrix cell P%(probability)s x I%(impact)s must be low, medium or high."
    ),
    "matrix_not_monotone": gettext_noop(
        "The risk matrix cell P%(probability)s x I%(impact)s is %(level)s, lower than "
        "%(other_level)s at P%(other_probability)s x I%(other_impact)s: a higher probability "
        "or impact must never give a lower level."
    ),
    "residual_incomplete": gettext_noop(
        "A residual rating needs both a probability and an impact."
    ),
    "threshold_number": gettext_noop("%(name)s must be a number."),
    "thresholds_order": gettext_noop(
        "The red threshold must be beyond the amber one in the indicator's direction."
    ),
    "direction": gettext_noop('The direction must be "up" or "down".'),
    "rerating_floor": gettext_noop("%(name)s must be empty or a whole number from 1 to 5."),
    "rerating_order": gettext_noop("The red floor must not be below the amber floor."),
}


class ScoringError(ValueError):
    """Invalid scoring input: ``code`` and ``message`` (a msgid) with its ``params``."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.message = ERRORS[code]
        self.params = params
        super().__init__(self.message % params if params else self.message)


class MatrixError(ScoringError):
    """An invalid matrix; ``cell`` is the (probability, impact) at fault, when there is one."""

    def __init__(self, code: str, cell: tuple[int, int] | None = None, **params: object) -> None:
        self.cell = cell
        super().__init__(code, **params)


def _level_of(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in SCALE:
        raise ScoringError("out_of_range", name=name)
    return value


# --- matrix ----------------------------------------------------------------------------------


def _check_grid(grid: object) -> tuple[tuple[Level, ...], ...]:
    if not isinstance(grid, list | tuple) or len(grid) != len(SCALE):
        raise MatrixError("matrix_shape")
    rows: list[tuple[Level, ...]] = []
    for p, row in enumerate(grid, start=1):
        if not isinstance(row, list | tuple) or len(row) != len(SCALE):
            raise MatrixError("matrix_shape")
        for i, level in enumerate(row, start=1):
            if level not in _RANK:
                raise MatrixError("matrix_level", (p, i), probability=p, impact=i)
        rows.append(tuple(cast(Level, level) for level in row))
    for p in SCALE:
        for i in SCALE:
            here = rows[p - 1][i - 1]
            for other_p, other_i in ((p - 1, i), (p, i - 1)):
                if other_p < 1 or other_i < 1:
                    continue
                other = rows[other_p - 1][other_i - 1]
                if _RANK[here] < _RANK[other]:
                    raise MatrixError(
                        "matrix_not_monotone",
                        (p, i),
                        probability=p,
                        impact=i,
                        level=here,
                        other_level=other,
                        other_probability=other_p,
                        other_impact=other_i,
                    )
    return tuple(rows)


@dataclass(frozen=True)
class Matrix:
    """A 5x5 grid of levels: ``grid[probability - 1][impact - 1]``, validated on creation.

    Every cell is ``low``, ``medium`` or ``high``, and the grid is monotone (a higher
    probability or impact never gives a lower level); a ``MatrixError`` names the first cell
    breaking either rule.
    """

    grid: tuple[tuple[Level, ...], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "grid", _check_grid(self.grid))

    @classmethod
    def from_scores(cls, medium_from: int = 5, high_from: int = 15) -> Matrix:
        """The matrix banding the score P x I: low below ``medium_from``, high from
        ``high_from`` (monotone by construction)."""
        return cls(
            tuple(
                tuple(
                    "high" if p * i >= high_from else "medium" if p * i >= medium_from else "low"
                    for i in SCALE
                )
                for p in SCALE
            )
        )

    def level(self, probability: int, impact: int) -> Level:
        p = _level_of(probability, "probability")
        i = _level_of(impact, "impact")
        return self.grid[p - 1][i - 1]

    def to_data(self) -> dict[str, list[list[str]]]:
        """JSON-ready form for the organization's settings: ``{"levels": [[...] x 5] x 5}``,
        rows by probability 1..5, columns by impact 1..5."""
        return {"levels": [list(row) for row in self.grid]}

    @classmethod
    def from_data(cls, data: object, *, strict: bool = False) -> Matrix:
        """The matrix stored by ``to_data``; the default matrix when the data is missing or
        broken (a settings page must not fail on a bad stored value), unless ``strict``, which
        raises the ``MatrixError`` (for validating what a person submits)."""
        try:
            if not isinstance(data, Mapping):
                raise MatrixError("matrix_shape")
            return cls(_check_grid(data.get("levels")))
        except MatrixError:
            if strict:
                raise
            return DEFAULT_MATRIX


DEFAULT_MATRIX = Matrix.from_scores()


def scale_words(
    defaults: Mapping[int, str], overrides: Mapping[object, object] | None
) -> dict[int, str]:
    """Words per level 1..5: the organization's ``overrides`` (keys 1..5 or "1".."5", as JSON
    stores them) over the ``defaults``; a broken or empty entry keeps the default.

    The defaults are msgids; an organization's own words are not, but passing them through
    ``gettext`` returns them unchanged, so the web layer may translate every word.
    """
    words = {level: defaults[level] for level in SCALE}
    for key, text in (overrides or {}).items():
        try:
            level = int(key)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            continue
        if isinstance(key, bool) or level not in SCALE or not isinstance(text, str):
            continue
        if text.strip():
            words[level] = text.strip()
    return words


# --- ratings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rating:
    probability: int
    impact: int
    score: int
    level: Level


def rate(probability: int, impact: int, matrix: Matrix = DEFAULT_MATRIX) -> Rating:
    """Score P x I and the matrix's level; ``ScoringError`` for values outside 1..5 (bools
    are not numbers here)."""
    level = matrix.level(probability, impact)
    return Rating(probability, impact, probability * impact, level)


@dataclass(frozen=True)
class Assessment:
    """Inherent and (optional) residual ratings, with warning codes (msgids in ``WARNINGS``)."""

    inherent: Rating
    residual: Rating | None
    warnings: tuple[str, ...] = field(default=())

    @property
    def residual_above_inherent(self) -> bool:
        return "residual_above_inherent" in self.warnings


def assess(
    probability: int,
    impact: int,
    residual_probability: int | None = None,
    residual_impact: int | None = None,
    matrix: Matrix = DEFAULT_MATRIX,
) -> Assessment:
    """Rate a risk before and after its planned response.

    A residual rating above the inherent one (a higher score or a higher level) is not
    refused: a response can shift a risk (a fallback supplier may be likelier to fail) and
    the register must be able to say so. It is flagged ``residual_above_inherent`` so the
    page can warn. A residual probability without a residual impact, or the reverse, is an
    error.
    """
    inherent = rate(probability, impact, matrix)
    if residual_probability is None and residual_impact is None:
        return Assessment(inherent, None)
    if residual_probability is None or residual_impact is None:
        raise ScoringError("residual_incomplete")
    residual = rate(residual_probability, residual_impact, matrix)
    worse = residual.score > inherent.score or _RANK[residual.level] > _RANK[inherent.level]
    return Assessment(inherent, residual, ("residual_above_inherent",) if worse else ())


@dataclass(frozen=True)
class Cell:
    probability: int
    impact: int
    count: int
    level: Level


def matrix_cells(
    ratings: Iterable[Rating | tuple[int, int]], matrix: Matrix = DEFAULT_MATRIX
) -> list[Cell]:
    """The 25 cells of the heat map with the number of risks in each and the matrix's level.

    Order: probability descending, then impact ascending (the rows as drawn, top row
    "almost certain"). ``ratings`` are ``Rating``s or ``(probability, impact)`` pairs; the
    level always comes from ``matrix``.
    """
    counts = dict.fromkeys(((p, i) for p in SCALE for i in SCALE), 0)
    for rating in ratings:
        p, i = (rating.probability, rating.impact) if isinstance(rating, Rating) else rating
        counts[(_level_of(p, "probability"), _level_of(i, "impact"))] += 1
    return [
        Cell(p, i, counts[(p, i)], matrix.grid[p - 1][i - 1])
        for p in reversed(SCALE)
        for i in SCALE
    ]


def cells_data(cells: Iterable[Cell]) -> dict[str, list[dict[str, int | str]]]:
    """The ``GET /api/v1/risk-matrix/`` payload: ``{"cells": [{"probability", "impact",
    "count", "level"}]}``."""
    return {
        "cells": [
            {"probability": c.probability, "impact": c.impact, "count": c.count, "level": c.level}
            for c in cells
        ]
    }


# --- key risk indicators ---------------------------------------------------------------------


def _number(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ScoringError("threshold_number", name=name)
    number = Decimal(value)
    if not number.is_finite():
        raise ScoringError("threshold_number", name=name)
    return number


@dataclass(frozen=True)
class Crossing:
    """A KRI moving from one zone to another; ``change`` is ``worse`` or ``better``."""

    previous: Zone
    zone: Zone
    change: Literal["worse", "better"]

    @property
    def label(self) -> str:
        return CROSSING_LABELS[self.change]


@dataclass(frozen=True)
class Indicator:
    """Amber and red thresholds on a watched number (a raw-material price, delay in days).

    ``direction="up"``: higher values are worse, a value at or above ``red`` is red, at or
    above ``amber`` amber, else green (so ``amber < red``). ``direction="down"``: lower
    values are worse, mirrored (so ``amber > red``). Reaching a threshold counts as crossing
    it. Thresholds and values are ints or Decimals (a float would make the boundary fuzzy).
    """

    amber: Number
    red: Number
    direction: Direction = "up"

    def __post_init__(self) -> None:
        amber, red = _number(self.amber, "amber"), _number(self.red, "red")
        if self.direction not in ("up", "down"):
            raise ScoringError("direction")
        if (amber >= red) if self.direction == "up" else (amber <= red):
            raise ScoringError("thresholds_order")

    def zone(self, value: Number) -> Zone:
        number = _number(value, "value")
        if self.direction == "up":
            return "red" if number >= self.red else "amber" if number >= self.amber else "green"
        return "red" if number <= self.red else "amber" if number <= self.amber else "green"

    def crossing(self, previous_value: Number | None, new_value: Number) -> Crossing | None:
        """The zone change from ``previous_value`` to ``new_value``; None when the zone is
        unchanged. A first reading (``previous_value`` None) is compared with green, so a
        first value already in amber or red is a crossing."""
        before = "green" if previous_value is None else self.zone(previous_value)
        after = self.zone(new_value)
        if before == after:
            return None
        change: Literal["worse", "better"] = (
            "worse" if _ZONE_RANK[after] > _ZONE_RANK[before] else "better"
        )
        return Crossing(before, after, change)

    def to_data(self) -> dict[str, str]:
        return {"amber": str(self.amber), "red": str(self.red), "direction": self.direction}

    @classmethod
    def from_data(cls, data: Mapping[str, object]) -> Indicator:
        """From ``to_data``; raises ``ScoringError`` on broken data (an indicator without
        thresholds has no meaningful default)."""
        try:
            amber, red = Decimal(str(data["amber"])), Decimal(str(data["red"]))
        except (KeyError, ArithmeticError, ValueError):
            raise ScoringError("threshold_number", name="amber/red") from None
        direction = data.get("direction", "up")
        if direction not in ("up", "down"):
            raise ScoringError("direction")
        return cls(amber, red, direction)


def _floor(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in SCALE:
        raise ScoringError("rerating_floor", name=name)
    return value


@dataclass(frozen=True)
class ReratingRule:
    """How a KRI zone re-rates its risk's probability, as data.

    In amber the probability is at least ``amber_floor``, in red at least ``red_floor``; in
    green it is the risk's baseline probability (the one assessed without the indicator), so
    returning to green restores it. A floor of None leaves the probability alone in that zone.
    Default: amber at least 3 (possible), red at least 4 (likely). The level is then re-read
    from the matrix with ``rate``.
    """

    amber_floor: int | None = 3
    red_floor: int | None = 4

    def __post_init__(self) -> None:
        amber = _floor(self.amber_floor, "amber_floor")
        red = _floor(self.red_floor, "red_floor")
        if amber is not None and red is not None and red < amber:
            raise ScoringError("rerating_order")

    def probability(self, baseline_probability: int, zone: Zone) -> int:
        baseline = _level_of(baseline_probability, "probability")
        floor = {"green": None, "amber": self.amber_floor, "red": self.red_floor}[zone]
        return baseline if floor is None else max(baseline, floor)

    def to_data(self) -> dict[str, int | None]:
        return {"amber_floor": self.amber_floor, "red_floor": self.red_floor}

    @classmethod
    def from_data(cls, data: object) -> ReratingRule:
        """From ``to_data``; the default rule when the stored data is missing or broken."""
        if not isinstance(data, Mapping):
            return DEFAULT_RERATING
        try:
            return cls(data.get("amber_floor"), data.get("red_floor"))
        except ScoringError:
            return DEFAULT_RERATING


DEFAULT_RERATING = ReratingRule()


def rerate(
    baseline: Rating,
    zone: Zone,
    matrix: Matrix = DEFAULT_MATRIX,
    rule: ReratingRule = DEFAULT_RERATING,
) -> Rating:
    """The risk's rating while its indicator is in ``zone``: the rule's probability, the same
    impact, the level from ``matrix``."""
    return rate(rule.probability(baseline.probability, zone), baseline.impact, matrix)
