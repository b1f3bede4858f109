"""FMEA ratings: severity, occurrence, detection (1-10), RPN and the AIAG-VDA Action Priority.

What, following API.md (``fmea``: null or ``{"severity", "occurrence", "detection"}``, with
read-only ``rpn`` and ``action_priority``) and the risk register issue:

- ``rpn(s, o, d)`` = S x O x D, 1..1000, the classic Risk Priority Number;
- ``action_priority(s, o, d)`` = ``H`` / ``M`` / ``L`` read from the Action Priority table
  for DFMEA and PFMEA of the AIAG & VDA FMEA Handbook (1st edition, 2019), kept below as
  data (``AP_TABLE``: one row per severity band x occurrence band x detection band, as the
  handbook prints it), not as nested conditions;
- the standard words per level of each factor (msgids), and ``FmeaRating`` with pre- and
  post-action support (``improvement``).

The Action Priority table. The handbook itself is not available to this project; the table
was reconstructed from knowledge of the handbook and cross-checked, cell by cell, against two
independent public transcriptions (an open-source PFMEA web application's AP matrix and the
test suite of an open-source FMEA tool that states it was verified against both printed copies
of the table, DFMEA and PFMEA); the three agree on every cell. Band edges: severity 9-10, 7-8,
4-6, 2-3, 1; occurrence 8-10, 6-7, 4-5, 2-3, 1; detection 7-10, 5-6, 2-4, 1. Severity leads but
does not override: S 9-10 with occurrence 1 is Low whatever the detection, as in the handbook.
The FMEA-MSR table (monitoring and system response) is a different table and is not used.
The table is monotone: raising any of S, O or D never lowers the Action Priority (checked for
all 1000 combinations by the tests; no exception was found).

RPN is kept because the issue asks for it and teams still read it, but the handbook
recommends against RPN thresholds for deciding on actions; the page shows AP beside it.

Why hand-written: no maintained Python library ships the AIAG-VDA AP table with this
contract. Pure: no Django, no I/O. Words shown to people are msgids marked with the local
``gettext_noop``, extracted by ``makemessages`` and translated by the web layer with
Django's ``gettext``; errors carry a ``code``, a msgid and its ``%(name)s`` parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple, TypeAlias


def gettext_noop(message: str) -> str:
    """Mark ``message`` for translation without translating it (see the module docstring)."""
    return message


Priority: TypeAlias = Literal["H", "M", "L"]
Change: TypeAlias = Literal["lowered", "unchanged", "raised"]
SCALE = tuple(range(1, 11))
PRIORITIES: tuple[Priority, ...] = ("L", "M", "H")  # ascending
_RANK: dict[str, int] = {priority: rank for rank, priority in enumerate(PRIORITIES)}

PRIORITY_LABELS: dict[Priority, str] = {
    "H": gettext_noop("High"),
    "M": gettext_noop("Medium"),
    "L": gettext_noop("Low"),
}
# What each priority asks of the team (paraphrasing the handbook).
PRIORITY_MEANINGS: dict[Priority, str] = {
    "H": gettext_noop(
        "High priority: the team must identify an action to improve prevention or detection "
        "controls, or justify and document why the current controls are adequate."
    ),
    "M": gettext_noop(
        "Medium priority: the team should identify an action to improve prevention or "
        "detection controls, or, at the organization's discretion, justify the current ones."
    ),
    "L": gettext_noop(
        "Low priority: the team could identify actions to improve prevention or detection controls."
    ),
}

# Standard words per level. Severity: the effect on the end user, one phrase per level.
# Occurrence and detection: the handbook's qualitative words, which it gives per band (so
# neighbouring levels share a word, as printed).
SEVERITY_WORDS: dict[int, str] = {
    10: gettext_noop("Affects safe operation or the health of people"),
    9: gettext_noop("Noncompliance with regulations"),
    8: gettext_noop("Loss of primary function"),
    7: gettext_noop("Degradation of primary function"),
    6: gettext_noop("Loss of secondary function"),
    5: gettext_noop("Degradation of secondary function"),
    4: gettext_noop("Very objectionable appearance, sound or feel"),
    3: gettext_noop("Moderately objectionable appearance, sound or feel"),
    2: gettext_noop("Slightly objectionable appearance, sound or feel"),
    1: gettext_noop("No discernible effect"),
}
OCCURRENCE_WORDS: dict[int, str] = {
    10: gettext_noop("Extremely high"),
    9: gettext_noop("Very high"),
    8: gettext_noop("Very high"),
    7: gettext_noop("High"),
    6: gettext_noop("High"),
    5: gettext_noop("Moderate"),
    4: gettext_noop("Moderate"),
    3: gettext_noop("Low"),
    2: gettext_noop("Low"),
    1: gettext_noop("Extremely low"),
}
DETECTION_WORDS: dict[int, str] = {
    10: gettext_noop("Very low ability to detect"),
    9: gettext_noop("Very low ability to detect"),
    8: gettext_noop("Low ability to detect"),
    7: gettext_noop("Low ability to detect"),
    6: gettext_noop("Moderate ability to detect"),
    5: gettext_noop("Moderate ability to detect"),
    4: gettext_noop("High ability to detect"),
    3: gettext_noop("High ability to detect"),
    2: gettext_noop("High ability to detect"),
    1: gettext_noop("Very high ability to detect"),
}
FACTOR_LABELS: dict[str, str] = {
    "severity": gettext_noop("Severity"),
    "occurrence": gettext_noop("Occurrence"),
    "detection": gettext_noop("Detection"),
}
CHANGE_LABELS: dict[Change, str] = {
    "lowered": gettext_noop("Action priority lowered"),
    "unchanged": gettext_noop("Action priority unchanged"),
    "raised": gettext_noop("Action priority raised"),
}
ERRORS: dict[str, str] = {
    "out_of_range": gettext_noop("%(name)s must be a whole number from 1 to 10."),
    "not_a_rating": gettext_noop("An FMEA rating needs a severity, an occurrence and a detection."),
}


class FmeaError(ValueError):
    """Invalid FMEA input: ``code`` and ``message`` (a msgid) with its ``params``."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.message = ERRORS[code]
        self.params = params
        super().__init__(self.message % params if params else self.message)


def _value(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in SCALE:
        raise FmeaError("out_of_range", name=name)
    return value


# --- the Action Priority table ---------------------------------------------------------------


class _Row(NamedTuple):
    """One printed row: severity band, occurrence band, detection band (inclusive) -> AP."""

    severity: tuple[int, int]
    occurrence: tuple[int, int]
    detection: tuple[int, int]
    priority: Priority


# AIAG & VDA FMEA Handbook (2019), Action Priority for DFMEA and PFMEA, top to bottom.
AP_TABLE: tuple[_Row, ...] = (
    # S 9-10, effect very high
    _Row((9, 10), (8, 10), (7, 10), "H"),
    _Row((9, 10), (8, 10), (5, 6), "H"),
    _Row((9, 10), (8, 10), (2, 4), "H"),
    _Row((9, 10), (8, 10), (1, 1), "H"),
    _Row((9, 10), (6, 7), (7, 10), "H"),
    _Row((9, 10), (6, 7), (5, 6), "H"),
    _Row((9, 10), (6, 7), (2, 4), "H"),
    _Row((9, 10), (6, 7), (1, 1), "H"),
    _Row((9, 10), (4, 5), (7, 10), "H"),
    _Row((9, 10), (4, 5), (5, 6), "H"),
    _Row((9, 10), (4, 5), (2, 4), "H"),
    _Row((9, 10), (4, 5), (1, 1), "M"),
    _Row((9, 10), (2, 3), (7, 10), "H"),
    _Row((9, 10), (2, 3), (5, 6), "M"),
    _Row((9, 10), (2, 3), (2, 4), "L"),
    _Row((9, 10), (2, 3), (1, 1), "L"),
    _Row((9, 10), (1, 1), (1, 10), "L"),
    # S 7-8, effect high
    _Row((7, 8), (8, 10), (7, 10), "H"),
    _Row((7, 8), (8, 10), (5, 6), "H"),
    _Row((7, 8), (8, 10), (2, 4), "H"),
    _Row((7, 8), (8, 10), (1, 1), "H"),
    _Row((7, 8), (6, 7), (7, 10), "H"),
    _Row((7, 8), (6, 7), (5, 6), "H"),
    _Row((7, 8), (6, 7), (2, 4), "H"),
    _Row((7, 8), (6, 7), (1, 1), "M"),
    _Row((7, 8), (4, 5), (7, 10), "H"),
    _Row((7, 8), (4, 5), (5, 6), "M"),
    _Row((7, 8), (4, 5), (2, 4), "M"),
    _Row((7, 8), (4, 5), (1, 1), "M"),
    _Row((7, 8), (2, 3), (7, 10), "M"),
    _Row((7, 8), (2, 3), (5, 6), "M"),
    _Row((7, 8), (2, 3), (2, 4), "L"),
    _Row((7, 8), (2, 3), (1, 1), "L"),
    _Row((7, 8), (1, 1), (1, 10), "L"),
    # S 4-6, effect moderate
    _Row((4, 6), (8, 10), (7, 10), "H"),
    _Row((4, 6), (8, 10), (5, 6), "H"),
    _Row((4, 6), (8, 10), (2, 4), "M"),
    _Row((4, 6), (8, 10), (1, 1), "M"),
    _Row((4, 6), (6, 7), (7, 10), "M"),
    _Row((4, 6), (6, 7), (5, 6), "M"),
    _Row((4, 6), (6, 7), (2, 4), "M"),
    _Row((4, 6), (6, 7), (1, 1), "L"),
    _Row((4, 6), (4, 5), (7, 10), "M"),
    _Row((4, 6), (4, 5), (5, 6), "L"),
    _Row((4, 6), (4, 5), (2, 4), "L"),
    _Row((4, 6), (4, 5), (1, 1), "L"),
    _Row((4, 6), (2, 3), (7, 10), "L"),
    _Row((4, 6), (2, 3), (5, 6), "L"),
    _Row((4, 6), (2, 3), (2, 4), "L"),
    _Row((4, 6), (2, 3), (1, 1), "L"),
    _Row((4, 6), (1, 1), (1, 10), "L"),
    # S 2-3, effect low
    _Row((2, 3), (8, 10), (7, 10), "M"),
    _Row((2, 3), (8, 10), (5, 6), "M"),
    _Row((2, 3), (8, 10), (2, 4), "L"),
    _Row((2, 3), (8, 10), (1, 1), "L"),
    _Row((2, 3), (6, 7), (7, 10), "L"),
    _Row((2, 3), (6, 7), (5, 6), "L"),
    _Row((2, 3), (6, 7), (2, 4), "L"),
    _Row((2, 3), (6, 7), (1, 1), "L"),
    _Row((2, 3), (4, 5), (7, 10), "L"),
    _Row((2, 3), (4, 5), (5, 6), "L"),
    _Row((2, 3), (4, 5), (2, 4), "L"),
    _Row((2, 3), (4, 5), (1, 1), "L"),
    _Row((2, 3), (2, 3), (7, 10), "L"),
    _Row((2, 3), (2, 3), (5, 6), "L"),
    _Row((2, 3), (2, 3), (2, 4), "L"),
    _Row((2, 3), (2, 3), (1, 1), "L"),
    _Row((2, 3), (1, 1), (1, 10), "L"),
    # S 1, effect very low (no discernible effect)
    _Row((1, 1), (1, 10), (1, 10), "L"),
)


def _index(table: tuple[_Row, ...]) -> dict[tuple[int, int, int], Priority]:
    """Every (S, O, D) to its AP; the rows must cover the 1000 combinations exactly once."""
    cells: dict[tuple[int, int, int], Priority] = {}
    for row in table:
        for s in range(row.severity[0], row.severity[1] + 1):
            for o in range(row.occurrence[0], row.occurrence[1] + 1):
                for d in range(row.detection[0], row.detection[1] + 1):
                    if (s, o, d) in cells:
                        raise AssertionError(f"AP table: S{s} O{o} D{d} is in two rows")
                    cells[(s, o, d)] = row.priority
    if len(cells) != len(SCALE) ** 3:
        raise AssertionError("AP table: some S/O/D combinations are in no row")
    return cells


_AP = _index(AP_TABLE)


def rpn(severity: int, occurrence: int, detection: int) -> int:
    """Risk Priority Number S x O x D (1..1000)."""
    return (
        _value(severity, "severity")
        * _value(occurrence, "occurrence")
        * _value(detection, "detection")
    )


def action_priority(severity: int, occurrence: int, detection: int) -> Priority:
    """``H``, ``M`` or ``L`` from the AIAG-VDA table; ``FmeaError`` outside 1..10."""
    key = (
        _value(severity, "severity"),
        _value(occurrence, "occurrence"),
        _value(detection, "detection"),
    )
    return _AP[key]


# --- ratings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FmeaRating:
    """Severity, occurrence and detection (1..10, validated), with RPN and Action Priority."""

    severity: int
    occurrence: int
    detection: int

    def __post_init__(self) -> None:
        _value(self.severity, "severity")
        _value(self.occurrence, "occurrence")
        _value(self.detection, "detection")

    @property
    def rpn(self) -> int:
        return self.severity * self.occurrence * self.detection

    @property
    def action_priority(self) -> Priority:
        return _AP[(self.severity, self.occurrence, self.detection)]

    def to_data(self) -> dict[str, int | str]:
        """``{"severity", "occurrence", "detection", "rpn", "action_priority"}``; the last two
        are read-only in the API."""
        return {
            "severity": self.severity,
            "occurrence": self.occurrence,
            "detection": self.detection,
            "rpn": self.rpn,
            "action_priority": self.action_priority,
        }

    @classmethod
    def from_data(cls, data: object) -> FmeaRating | None:
        """From the API's ``fmea`` value: None for null; ``FmeaError`` for anything else that
        is not three valid ratings (``rpn`` and ``action_priority``, if sent, are ignored)."""
        if data is None:
            return None
        if not isinstance(data, Mapping) or not {"severity", "occurrence", "detection"} <= set(
            data
        ):
            raise FmeaError("not_a_rating")
        return cls(data["severity"], data["occurrence"], data["detection"])


@dataclass(frozen=True)
class Improvement:
    """Pre-action against post-action: RPN change (post - pre, negative is better) and how
    the Action Priority moved."""

    pre: FmeaRating
    post: FmeaRating
    rpn_change: int
    priority_change: Change

    @property
    def label(self) -> str:
        return CHANGE_LABELS[self.priority_change]


def improvement(pre: FmeaRating, post: FmeaRating) -> Improvement:
    """Compare the ratings before and after the recommended actions.

    A post-action rating worse than the pre-action one is reported ("raised"), not refused:
    the register must be able to record what the actions really achieved.
    """
    before, after = _RANK[pre.action_priority], _RANK[post.action_priority]
    change: Change = "lowered" if after < before else "raised" if after > before else "unchanged"
    return Improvement(pre, post, post.rpn - pre.rpn, change)
