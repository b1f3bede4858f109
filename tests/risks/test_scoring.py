"""Risk scoring: the 5x5 matrix, inherent and residual ratings, key risk indicators (pure)."""

from decimal import Decimal

import pytest

from risks.calc import scoring
from risks.calc.scoring import (
    DEFAULT_MATRIX,
    DEFAULT_RERATING,
    IMPACT_WORDS,
    PROBABILITY_WORDS,
    SCALE,
    Indicator,
    Matrix,
    MatrixError,
    Rating,
    ReratingRule,
    ScoringError,
    assess,
    cells_data,
    matrix_cells,
    rate,
    rerate,
    scale_words,
)

RANK = {"low": 0, "medium": 1, "high": 2}


def test_the_score_is_probability_times_impact_and_the_level_comes_from_the_matrix():
    assert rate(1, 1) == Rating(1, 1, 1, "low")
    assert rate(5, 5) == Rating(5, 5, 25, "high")
    assert rate(2, 2) == Rating(2, 2, 4, "low")
    assert rate(1, 5) == Rating(1, 5, 5, "medium")  # rare but severe
    assert rate(3, 4) == Rating(3, 4, 12, "medium")
    assert rate(5, 3) == Rating(5, 3, 15, "high")


def test_the_default_matrix_bands_the_score_low_medium_high():
    for p in SCALE:
        for i in SCALE:
            score = p * i
            expected = "low" if score <= 4 else "medium" if score <= 12 else "high"
            assert DEFAULT_MATRIX.level(p, i) == expected, (p, i)


def test_the_default_matrix_is_monotone():
    for p in SCALE:
        for i in SCALE:
            here = RANK[DEFAULT_MATRIX.level(p, i)]
            if p < 5:
                assert RANK[DEFAULT_MATRIX.level(p + 1, i)] >= here
            if i < 5:
                assert RANK[DEFAULT_MATRIX.level(p, i + 1)] >= here


@pytest.mark.parametrize("value", [0, 6, -1, True, False, 2.0, "3", None])
def test_a_probability_or_impact_outside_one_to_five_is_refused(value):
    with pytest.raises(ScoringError) as probability:
        rate(value, 3)
    assert probability.value.code == "out_of_range"
    assert str(probability.value) == "probability must be a whole number from 1 to 5."
    with pytest.raises(ScoringError, match="impact"):
        rate(3, value)


def test_an_organization_matrix_is_used_as_given():
    strict = Matrix.from_scores(medium_from=3, high_from=9)
    assert rate(1, 3, strict).level == "medium"
    assert rate(3, 3, strict).level == "high"
    assert rate(1, 2, strict).level == "low"


def test_a_matrix_that_lowers_the_level_for_a_higher_probability_is_refused_naming_the_cell():
    grid = [list(row) for row in DEFAULT_MATRIX.grid]
    grid[3][1] = "low"  # P4 x I2 low, below P3 x I2 (medium, score 6)
    with pytest.raises(MatrixError) as error:
        Matrix(grid)
    assert error.value.code == "matrix_not_monotone"
    assert error.value.cell == (4, 2)
    assert "P4 x I2 is low" in str(error.value) and "P3 x I2" in str(error.value)


def test_a_matrix_that_lowers_the_level_for_a_higher_impact_is_refused():
    grid = [["low"] * 5 for _ in range(5)]
    grid[0][2] = "medium"  # P1 x I3 medium, P1 x I4 low
    with pytest.raises(MatrixError) as error:
        Matrix(grid)
    assert error.value.cell == (1, 4)


@pytest.mark.parametrize(
    ("grid", "code"),
    [
        ([["low"] * 5] * 4, "matrix_shape"),
        ([["low"] * 4] * 5, "matrix_shape"),
        ("low", "matrix_shape"),
        ([["low"] * 5] * 4 + [["low"] * 4 + ["extreme"]], "matrix_level"),
    ],
)
def test_a_matrix_of_the_wrong_shape_or_words_is_refused(grid, code):
    with pytest.raises(MatrixError) as error:
        Matrix(grid)
    assert error.value.code == code


def test_a_matrix_round_trips_through_json_settings():
    custom = Matrix.from_scores(medium_from=4, high_from=10)
    data = custom.to_data()
    assert data["levels"][4][4] == "high" and data["levels"][0][0] == "low"
    assert len(data["levels"]) == 5 and all(len(row) == 5 for row in data["levels"])
    assert Matrix.from_data(data) == custom


@pytest.mark.parametrize(
    "data",
    [None, {}, {"levels": "x"}, [], {"levels": [["high"] * 5] + [["low"] * 5] * 4}],
)
def test_broken_stored_matrix_data_falls_back_to_the_default(data):
    assert Matrix.from_data(data) == DEFAULT_MATRIX
    with pytest.raises(MatrixError):
        Matrix.from_data(data, strict=True)


def test_words_per_level_default_and_can_be_overridden_by_the_organization():
    assert PROBABILITY_WORDS[1] == "Rare" and PROBABILITY_WORDS[5] == "Almost certain"
    assert IMPACT_WORDS[1] == "Negligible" and IMPACT_WORDS[5] == "Severe"
    words = scale_words(
        IMPACT_WORDS, {"5": "Catastrophic", 2: " Small ", "9": "x", "a": "y", 3: "", 4: 7}
    )
    assert words == {1: "Negligible", 2: "Small", 3: "Moderate", 4: "Major", 5: "Catastrophic"}
    assert scale_words(PROBABILITY_WORDS, None) == PROBABILITY_WORDS


def test_a_residual_rating_below_the_inherent_one_is_plain():
    result = assess(4, 4, residual_probability=2, residual_impact=3)
    assert result.inherent == Rating(4, 4, 16, "high")
    assert result.residual == Rating(2, 3, 6, "medium")
    assert result.warnings == () and not result.residual_above_inherent


def test_a_residual_rating_above_the_inherent_one_is_flagged_not_refused():
    result = assess(2, 2, residual_probability=3, residual_impact=2)
    assert result.residual == Rating(3, 2, 6, "medium")
    assert result.residual_above_inherent
    assert result.warnings == ("residual_above_inherent",)
    assert scoring.WARNINGS["residual_above_inherent"].startswith("The residual rating")


def test_a_residual_rating_needs_both_values():
    assert assess(3, 3).residual is None
    with pytest.raises(ScoringError) as error:
        assess(3, 3, residual_probability=2)
    assert error.value.code == "residual_incomplete"


def test_the_matrix_gives_25_cells_with_counts_in_a_stable_order():
    ratings = [rate(5, 1), rate(5, 1), (3, 3), rate(1, 5)]
    cells = matrix_cells(ratings)
    assert len(cells) == 25
    assert [(c.probability, c.impact) for c in cells[:6]] == [
        (5, 1),
        (5, 2),
        (5, 3),
        (5, 4),
        (5, 5),
        (4, 1),
    ]
    assert (cells[-1].probability, cells[-1].impact) == (1, 5)
    counts = {(c.probability, c.impact): c.count for c in cells}
    assert counts[(5, 1)] == 2 and counts[(3, 3)] == 1 and counts[(1, 5)] == 1
    assert sum(counts.values()) == 4
    payload = cells_data(cells)
    assert payload["cells"][0] == {"probability": 5, "impact": 1, "count": 2, "level": "medium"}
    assert payload["cells"][4] == {"probability": 5, "impact": 5, "count": 0, "level": "high"}
    with pytest.raises(ScoringError):
        matrix_cells([(0, 3)])


def test_the_cells_take_their_level_from_the_given_matrix():
    everything_high = Matrix([["high"] * 5 for _ in range(5)])
    assert {c.level for c in matrix_cells([rate(1, 1)], everything_high)} == {"high"}


def test_an_indicator_where_higher_is_worse_has_green_amber_and_red_zones():
    price = Indicator(amber=Decimal("900"), red=Decimal("1000"))
    assert price.zone(Decimal("899.99")) == "green"
    assert price.zone(900) == "amber"  # reaching a threshold crosses it
    assert price.zone(Decimal("999.99")) == "amber"
    assert price.zone(1000) == "red"
    assert price.zone(5000) == "red"


def test_an_indicator_where_lower_is_worse_mirrors_the_zones():
    stock_days = Indicator(amber=10, red=5, direction="down")
    assert stock_days.zone(11) == "green"
    assert stock_days.zone(10) == "amber"
    assert stock_days.zone(6) == "amber"
    assert stock_days.zone(5) == "red"
    assert stock_days.zone(-1) == "red"


@pytest.mark.parametrize(
    ("amber", "red", "direction"),
    [(10, 5, "up"), (5, 5, "up"), (5, 10, "down"), (5, 5, "down")],
)
def test_thresholds_out_of_order_for_the_direction_are_refused(amber, red, direction):
    with pytest.raises(ScoringError) as error:
        Indicator(amber, red, direction)
    assert error.value.code == "thresholds_order"


def test_indicator_values_must_be_exact_numbers():
    with pytest.raises(ScoringError):
        Indicator(1.5, 2)  # type: ignore[arg-type]
    with pytest.raises(ScoringError):
        Indicator(Decimal("NaN"), 2)
    with pytest.raises(ScoringError):
        Indicator(1, 2, "sideways")  # type: ignore[arg-type]
    with pytest.raises(ScoringError):
        Indicator(1, 2).zone(True)


def test_a_crossing_reports_the_zone_change_in_both_directions():
    delay = Indicator(amber=3, red=7)
    assert delay.crossing(1, 2) is None  # still green
    assert delay.crossing(4, 6) is None  # still amber
    up = delay.crossing(2, 8)
    assert (up.previous, up.zone, up.change) == ("green", "red", "worse")
    assert up.label == scoring.CROSSING_LABELS["worse"]
    down = delay.crossing(8, 5)
    assert (down.previous, down.zone, down.change) == ("red", "amber", "better")
    back = delay.crossing(5, 0)
    assert (back.previous, back.zone, back.change) == ("amber", "green", "better")


def test_a_first_reading_is_compared_with_green():
    delay = Indicator(amber=3, red=7)
    assert delay.crossing(None, 1) is None
    first = delay.crossing(None, 3)
    assert (first.previous, first.zone, first.change) == ("green", "amber", "worse")


def test_an_indicator_round_trips_through_json_settings():
    price = Indicator(Decimal("900.50"), Decimal("1000"), "up")
    assert price.to_data() == {"amber": "900.50", "red": "1000", "direction": "up"}
    assert Indicator.from_data(price.to_data()) == price
    with pytest.raises(ScoringError):
        Indicator.from_data({"amber": "x", "red": "1"})
    with pytest.raises(ScoringError):
        Indicator.from_data({"red": "1"})


def test_red_raises_probability_to_at_least_four_amber_to_three_and_green_restores_it():
    baseline = rate(2, 4)  # 8, medium
    assert rerate(baseline, "amber") == Rating(3, 4, 12, "medium")
    assert rerate(baseline, "red") == Rating(4, 4, 16, "high")
    assert rerate(baseline, "green") == baseline
    likely = rate(5, 2)
    assert rerate(likely, "amber") == likely  # never lowered by an indicator
    assert DEFAULT_RERATING.to_data() == {"amber_floor": 3, "red_floor": 4}


def test_the_rerating_rule_is_data():
    rule = ReratingRule.from_data({"amber_floor": None, "red_floor": 5})
    assert rule.probability(2, "amber") == 2
    assert rule.probability(2, "red") == 5
    assert ReratingRule.from_data(rule.to_data()) == rule
    assert ReratingRule.from_data({"amber_floor": 4, "red_floor": 3}) == DEFAULT_RERATING
    assert ReratingRule.from_data("broken") == DEFAULT_RERATING
    with pytest.raises(ScoringError):
        ReratingRule(amber_floor=6)


def test_every_word_is_a_plain_msgid():
    for words in (
        scoring.LEVEL_LABELS,
        PROBABILITY_WORDS,
        IMPACT_WORDS,
        scoring.ZONE_LABELS,
        scoring.WARNINGS,
        scoring.CROSSING_LABELS,
        scoring.ERRORS,
    ):
        for text in words.values():
            assert isinstance(text, str) and text and text.strip() == text
