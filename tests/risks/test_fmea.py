"""FMEA: RPN, the AIAG-VDA 2019 Action Priority table, words and pre/post-action (pure)."""

from itertools import product

import pytest

from risks.calc import fmea
from risks.calc.fmea import (
    DETECTION_WORDS,
    OCCURRENCE_WORDS,
    SEVERITY_WORDS,
    FmeaError,
    FmeaRating,
    action_priority,
    improvement,
    rpn,
)

SCALE = range(1, 11)
RANK = {"L": 0, "M": 1, "H": 2}

# A second copy of the printed table, typed independently of fmea.AP_TABLE and read with its
# own band logic: per severity band, rows occurrence 8-10, 6-7, 4-5, 2-3, 1 and columns
# detection 7-10, 5-6, 2-4, 1.
PRINTED = {
    "9-10": ["HHHH", "HHHH", "HHHM", "HMLL", "LLLL"],
    "7-8": ["HHHH", "HHHM", "HMMM", "MMLL", "LLLL"],
    "4-6": ["HHMM", "MMML", "MLLL", "LLLL", "LLLL"],
    "2-3": ["MMLL", "LLLL", "LLLL", "LLLL", "LLLL"],
    "1": ["LLLL"] * 5,
}
# Cells where raising S, O or D would lower the AP in the published table: none found.
MONOTONY_EXCEPTIONS: frozenset[tuple[tuple[int, int, int], tuple[int, int, int]]] = frozenset()


def printed(s, o, d):
    band = "9-10" if s >= 9 else "7-8" if s >= 7 else "4-6" if s >= 4 else "2-3" if s >= 2 else "1"
    row = 0 if o >= 8 else 1 if o >= 6 else 2 if o >= 4 else 3 if o >= 2 else 4
    column = 0 if d >= 7 else 1 if d >= 5 else 2 if d >= 2 else 3
    return PRINTED[band][row][column]


def test_rpn_is_severity_times_occurrence_times_detection():
    assert rpn(1, 1, 1) == 1
    assert rpn(10, 10, 10) == 1000
    assert rpn(5, 4, 3) == 60
    assert rpn(10, 1, 1) == 10
    assert rpn(2, 9, 9) == 162
    assert FmeaRating(7, 6, 5).rpn == 210


@pytest.mark.parametrize("value", [0, 11, -3, True, False, 5.0, "5", None])
def test_ratings_outside_one_to_ten_are_refused(value):
    for args, name in (
        ((value, 5, 5), "severity"),
        ((5, value, 5), "occurrence"),
        ((5, 5, value), "detection"),
    ):
        with pytest.raises(FmeaError) as error:
            rpn(*args)
        assert error.value.code == "out_of_range"
        assert str(error.value) == f"{name} must be a whole number from 1 to 10."
        with pytest.raises(FmeaError):
            action_priority(*args)
        with pytest.raises(FmeaError):
            FmeaRating(*args)


def test_the_action_priority_matches_the_printed_table_for_all_1000_combinations():
    wrong = [
        (s, o, d, action_priority(s, o, d), printed(s, o, d))
        for s, o, d in product(SCALE, SCALE, SCALE)
        if action_priority(s, o, d) != printed(s, o, d)
    ]
    assert wrong == []


def test_the_table_rows_cover_each_combination_once():
    covered = [
        (s, o, d)
        for row in fmea.AP_TABLE
        for s in range(row.severity[0], row.severity[1] + 1)
        for o in range(row.occurrence[0], row.occurrence[1] + 1)
        for d in range(row.detection[0], row.detection[1] + 1)
    ]
    assert len(covered) == len(set(covered)) == 1000
    assert len(fmea.AP_TABLE) == 69  # 4 severity bands x (4 x 4 + 1) rows, plus S 1


@pytest.mark.parametrize(
    ("s", "o", "d", "expected"),
    [
        # Severity 9-10 with a high occurrence is high whatever the detection.
        (10, 10, 1, "H"),
        (9, 8, 1, "H"),
        (9, 6, 1, "H"),
        (10, 7, 10, "H"),
        # ... but it does not override: moderate occurrence with very high detection is medium,
        (9, 5, 1, "M"),
        (9, 4, 2, "H"),
        # low occurrence depends on detection,
        (10, 3, 7, "H"),
        (10, 2, 5, "M"),
        (10, 2, 2, "L"),
        (10, 3, 1, "L"),
        # and occurrence 1 is low for every detection.
        (10, 1, 10, "L"),
        (9, 1, 1, "L"),
        # Severity 7-8.
        (8, 8, 1, "H"),
        (7, 6, 1, "M"),
        (7, 6, 2, "H"),
        (8, 4, 7, "H"),
        (8, 4, 6, "M"),
        (7, 5, 1, "M"),
        (7, 3, 7, "M"),
        (7, 2, 5, "M"),
        (8, 2, 4, "L"),
        (8, 1, 10, "L"),
        # Severity 4-6.
        (6, 10, 7, "H"),
        (4, 8, 5, "H"),
        (5, 8, 4, "M"),
        (6, 9, 1, "M"),
        (6, 7, 10, "M"),
        (5, 6, 2, "M"),
        (6, 6, 1, "L"),
        (6, 5, 7, "M"),
        (6, 4, 6, "L"),
        (6, 3, 10, "L"),
        (7, 6, 6, "H"),
        (7, 3, 6, "M"),
        (7, 3, 4, "L"),
        (6, 6, 4, "M"),
        (6, 4, 4, "L"),
        # Severity 2-3: only a very high occurrence with poor detection is medium.
        (3, 10, 10, "M"),
        (2, 8, 5, "M"),
        (2, 8, 4, "L"),
        (3, 7, 10, "L"),
        # Severity 1 is low regardless.
        (1, 10, 10, "L"),
        (1, 1, 1, "L"),
    ],
)
def test_known_rows_of_the_handbook_table(s, o, d, expected):
    assert action_priority(s, o, d) == expected


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        # Band edges: one step across each edge.
        ((8, 5, 5), (9, 5, 5)),
        ((6, 7, 7), (7, 7, 7)),
        ((3, 8, 7), (4, 8, 7)),
        ((1, 8, 7), (2, 8, 7)),
        ((9, 3, 1), (9, 4, 1)),
        ((9, 1, 7), (9, 2, 7)),
        ((6, 7, 7), (6, 8, 7)),
        ((7, 3, 4), (7, 3, 5)),
        ((7, 4, 6), (7, 4, 7)),
        ((9, 4, 1), (9, 4, 2)),
    ],
)
def test_crossing_a_band_edge_raises_the_priority(lower, higher):
    assert RANK[action_priority(*higher)] > RANK[action_priority(*lower)]


def test_severity_one_is_low_for_every_occurrence_and_detection():
    assert {action_priority(1, o, d) for o in SCALE for d in SCALE} == {"L"}


def test_raising_any_of_severity_occurrence_or_detection_never_lowers_the_priority():
    lowered = set()
    for s, o, d in product(SCALE, SCALE, SCALE):
        here = RANK[action_priority(s, o, d)]
        for raised in ((s + 1, o, d), (s, o + 1, d), (s, o, d + 1)):
            if max(raised) <= 10 and RANK[action_priority(*raised)] < here:
                lowered.add(((s, o, d), raised))
    assert lowered == MONOTONY_EXCEPTIONS


def test_every_level_of_each_factor_has_standard_words():
    for words in (SEVERITY_WORDS, OCCURRENCE_WORDS, DETECTION_WORDS):
        assert sorted(words) == list(SCALE)
        assert all(isinstance(w, str) and w and w.strip() == w for w in words.values())
    assert SEVERITY_WORDS[1] == "No discernible effect"
    assert OCCURRENCE_WORDS[10] == "Extremely high" and OCCURRENCE_WORDS[1] == "Extremely low"
    assert DETECTION_WORDS[1] == "Very high ability to detect"
    for mapping in (fmea.PRIORITY_LABELS, fmea.PRIORITY_MEANINGS):
        assert sorted(mapping) == ["H", "L", "M"]


def test_a_rating_carries_its_rpn_and_action_priority_as_data():
    rating = FmeaRating(9, 4, 1)
    assert rating.to_data() == {
        "severity": 9,
        "occurrence": 4,
        "detection": 1,
        "rpn": 36,
        "action_priority": "M",
    }
    assert FmeaRating.from_data(rating.to_data()) == rating
    assert FmeaRating.from_data({"severity": 1, "occurrence": 1, "detection": 1}).rpn == 1
    assert FmeaRating.from_data(None) is None


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"severity": 5, "occurrence": 5}, "not_a_rating"),
        ([5, 5, 5], "not_a_rating"),
        ({"severity": 5, "occurrence": 5, "detection": 0}, "out_of_range"),
        ({"severity": "5", "occurrence": 5, "detection": 5}, "out_of_range"),
    ],
)
def test_broken_fmea_data_is_refused(data, code):
    with pytest.raises(FmeaError) as error:
        FmeaRating.from_data(data)
    assert error.value.code == code


def test_improvement_compares_pre_and_post_action_ratings():
    pre = FmeaRating(8, 6, 7)  # H, RPN 336
    post = FmeaRating(8, 3, 3)  # L, RPN 72
    result = improvement(pre, post)
    assert (pre.action_priority, post.action_priority) == ("H", "L")
    assert result.rpn_change == -264
    assert result.priority_change == "lowered"
    assert result.label == "Action priority lowered"
    assert improvement(pre, FmeaRating(8, 6, 6)).priority_change == "unchanged"
    worse = improvement(FmeaRating(5, 4, 4), FmeaRating(5, 8, 7))
    assert (worse.priority_change, worse.rpn_change) == ("raised", 200)


# --- Property: raising a factor never lowers the priority (hypothesis) ------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ratings = st.integers(min_value=1, max_value=10)


@given(s=ratings, o=ratings, d=ratings, factor=st.sampled_from([0, 1, 2]), step=ratings)
def test_property_raising_severity_occurrence_or_detection_never_lowers_ap(s, o, d, factor, step):
    before = [s, o, d]
    after = list(before)
    after[factor] = min(10, after[factor] + step)
    assert RANK[action_priority(*after)] >= RANK[action_priority(*before)]
    assert rpn(*after) >= rpn(*before)
