"""WBS codes, moves, the 100 % roll-up and pasting an outline (pure, no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from projects.calc.wbs import (
    WEIGHT_DURATION,
    WEIGHT_EFFORT,
    WEIGHT_EQUAL,
    BadDuration,
    CannotIndent,
    CannotOutdent,
    DepthJump,
    DuplicateItemError,
    EmptyName,
    Figures,
    IndentMismatch,
    MoveUnderItself,
    OutlineLine,
    ParentCycleError,
    Placement,
    Row,
    UnknownItemError,
    codes,
    indent,
    move_after,
    move_before,
    move_into,
    outdent,
    outline_parents,
    parse_outline,
    roll_up,
)

# A (A1, A2 (A21)), B, C
ROWS = [
    Row("A", None, 1),
    Row("B", None, 2),
    Row("C", None, 3),
    Row("A1", "A", 1),
    Row("A2", "A", 2),
    Row("A21", "A2", 1),
]


def apply(rows, changes):
    return [Row(r.id, *changes[r.id]) if r.id in changes else r for r in rows]


# --- Codes -----------------------------------------------------------------------------------


def test_codes_number_each_level_in_outline_order():
    assert codes(ROWS) == {"A": "1", "A1": "1.1", "A2": "1.2", "A21": "1.2.1", "B": "2", "C": "3"}
    assert list(codes(ROWS)) == ["A", "A1", "A2", "A21", "B", "C"]


def test_codes_follow_positions_not_their_values_and_ties_keep_input_order():
    rows = [("x", None, 30), ("y", None, 10), ("z", None, 10), ("y1", "y", 7)]
    assert codes(rows) == {"y": "1", "y1": "1.1", "z": "2", "x": "3"}


def test_codes_refuse_broken_trees():
    with pytest.raises(DuplicateItemError) as twice:
        codes([("a", None, 1), ("a", None, 2)])
    assert twice.value.item == "a"
    with pytest.raises(UnknownItemError) as unknown:
        codes([("a", "ghost", 1)])
    assert unknown.value.item == "ghost"
    with pytest.raises(ParentCycleError) as loop:
        codes([("r", None, 1), ("a", "b", 1), ("b", "c", 1), ("c", "a", 1)])
    assert loop.value.items == ["a", "b", "c"]


# --- Moves -----------------------------------------------------------------------------------


def test_indent_makes_an_item_the_last_child_of_its_previous_sibling():
    changes = indent(ROWS, "B")
    assert changes == {"B": Placement("A", 3), "C": Placement(None, 2)}
    assert codes(apply(ROWS, changes)) == {
        "A": "1", "A1": "1.1", "A2": "1.2", "A21": "1.2.1", "B": "1.3", "C": "2",
    }  # fmt: skip


def test_indent_carries_the_subtree_and_returns_only_what_changes():
    changes = indent(ROWS, "A2")  # under A1, with A21 still under it
    assert changes == {"A2": Placement("A1", 1)}
    assert codes(apply(ROWS, changes))["A21"] == "1.1.1.1"


def test_the_first_sibling_cannot_be_indented():
    with pytest.raises(CannotIndent) as refused:
        indent(ROWS, "A1")
    assert refused.value.item == "A1"


def test_outdent_makes_an_item_the_next_sibling_of_its_parent():
    rows = [*ROWS, Row("A3", "A", 3)]
    changes = outdent(rows, "A2")
    # A2 follows A at the top; A3 stays under A (now its second child); B and C move down.
    assert changes == {
        "A2": Placement(None, 2),
        "A3": Placement("A", 2),
        "B": Placement(None, 3),
        "C": Placement(None, 4),
    }
    assert codes(apply(rows, changes)) == {
        "A": "1", "A1": "1.1", "A3": "1.2", "A2": "2", "A21": "2.1", "B": "3", "C": "4",
    }  # fmt: skip


def test_a_top_level_item_cannot_be_outdented():
    with pytest.raises(CannotOutdent):
        outdent(ROWS, "B")


def test_move_before_and_after_a_target():
    assert codes(apply(ROWS, move_before(ROWS, "C", "A")))["C"] == "1"
    moved = apply(ROWS, move_after(ROWS, "A1", "A21"))
    assert codes(moved)["A1"] == "1.1.2"
    assert codes(moved)["A2"] == "1.1"
    assert move_after(ROWS, "B", "A") == {}  # already there
    assert move_before(ROWS, "B", "B") == {}


def test_move_into_appends_under_the_target_or_at_the_top():
    changes = move_into(ROWS, "C", "A21")
    assert changes == {"C": Placement("A21", 1)}
    assert codes(apply(ROWS, move_into(ROWS, "A1", None)))["A1"] == "4"


def test_no_move_puts_an_item_under_itself():
    for move, target in [(move_into, "A21"), (move_into, "A"), (move_before, "A1")]:
        with pytest.raises(MoveUnderItself) as refused:
            move(ROWS, "A", target)
        assert (refused.value.item, refused.value.target) == ("A", target)
    with pytest.raises(UnknownItemError):
        move_into(ROWS, "A", "ghost")
    with pytest.raises(UnknownItemError):
        indent(ROWS, "ghost")


def test_a_move_renumbers_the_lists_it_touches_from_one():
    rows = [("a", None, 10), ("b", None, 20), ("c", None, 30), ("z", None, 0)]
    # z is first already; moving c before b renumbers the top level 1..4.
    assert move_before(rows, "c", "b") == {
        "z": Placement(None, 1), "a": Placement(None, 2),
        "c": Placement(None, 3), "b": Placement(None, 4),
    }  # fmt: skip


# --- Roll-up ---------------------------------------------------------------------------------

TREE = [
    Row("P", None, 1),
    Row("S", "P", 1),
    Row("a", "S", 1),
    Row("b", "S", 2),
    Row("c", "P", 2),
]


def test_effort_and_budget_roll_up_as_exact_sums():
    figures = {
        "a": Figures(Decimal("12.5"), Decimal("1000.10"), Decimal(50)),
        "b": Figures(Decimal("7.25"), Decimal("0.20"), Decimal(0)),
        "c": Figures(Decimal("0.25"), Decimal("0.70"), Decimal(100)),
    }
    rolled = roll_up(TREE, figures)
    assert rolled["S"].effort_hours == Decimal("19.75")
    assert rolled["S"].budget == Decimal("1000.30")
    assert rolled["P"].effort_hours == Decimal("20.00")
    assert rolled["P"].budget == Decimal("1001.00")  # 0.1 + 0.2 + 0.7 is exactly 1.0 here
    assert rolled["a"].budget == Decimal("1000.10")
    assert list(rolled) == ["P", "S", "a", "b", "c"]


def test_a_thousand_cents_sum_to_exactly_ten():
    rows = [Row("P", None, 1)] + [Row(f"w{k}", "P", k) for k in range(1000)]
    rolled = roll_up(rows, {f"w{k}": Figures(budget=Decimal("0.01")) for k in range(1000)})
    assert rolled["P"].budget == Decimal("10.00")


def test_percent_complete_is_weighted_by_effort_hours():
    figures = {
        "a": Figures(effort_hours=Decimal(10), percent_complete=Decimal(50)),
        "b": Figures(effort_hours=Decimal(30), percent_complete=Decimal(100)),
        "c": Figures(effort_hours=Decimal(0), percent_complete=Decimal(0)),  # a milestone
    }
    rolled = roll_up(TREE, figures)
    assert (rolled["S"].percent_complete, rolled["S"].weighted_by) == (
        Decimal("87.50"),
        WEIGHT_EFFORT,
    )  # (10 x 50 + 30 x 100) / 40
    assert rolled["P"].percent_complete == Decimal("87.50")  # c weighs nothing
    assert rolled["a"].weighted_by is None


def test_percent_complete_falls_back_to_durations_then_to_equal_weights():
    by_duration = roll_up(
        TREE,
        {
            "a": Figures(duration_days=1, percent_complete=Decimal(0)),
            "b": Figures(duration_days=3, percent_complete=Decimal(100)),
        },
    )
    assert (by_duration["S"].percent_complete, by_duration["S"].weighted_by) == (
        Decimal("75.00"),
        WEIGHT_DURATION,
    )
    equal = roll_up(TREE, {"a": Figures(percent_complete=Decimal(100))})
    assert (equal["P"].percent_complete, equal["P"].weighted_by) == (
        Decimal("33.33"),
        WEIGHT_EQUAL,
    )  # (100 + 0 + 0) / 3, rounded half up
    done = Figures(percent_complete=Decimal(100))
    assert roll_up(TREE, {"a": done, "b": done})["P"].percent_complete == Decimal("66.67")


def test_a_summary_percent_comes_from_its_leaves_not_from_rounded_children():
    # S: a (1 h, 100 %), b (2 h, 0 %) -> 33.333... shown 33.33; P adds c (1 h, 66.02 %).
    # From the leaves: (100 + 0 + 66.02) / 4 = 41.505 -> 41.51; from S's rounded 33.33 it
    # would be (99.99 + 66.02) / 4 = 41.5025 -> 41.50.
    figures = {
        "a": Figures(Decimal(1), percent_complete=Decimal(100)),
        "b": Figures(Decimal(2), percent_complete=Decimal(0)),
        "c": Figures(Decimal(1), percent_complete=Decimal("66.02")),
    }
    rolled = roll_up(TREE, figures)
    assert rolled["S"].percent_complete == Decimal("33.33")
    assert rolled["P"].percent_complete == Decimal("41.51")


def test_dates_roll_up_as_earliest_start_and_latest_finish():
    figures = {
        "a": Figures(start=date(2027, 1, 4), finish=date(2027, 1, 8)),
        "b": Figures(start=date(2027, 1, 6), finish=date(2027, 1, 20)),
        "c": Figures(),  # undated
    }
    rolled = roll_up(TREE, figures)
    assert (rolled["S"].start, rolled["S"].finish) == (date(2027, 1, 4), date(2027, 1, 20))
    assert (rolled["P"].start, rolled["P"].finish) == (date(2027, 1, 4), date(2027, 1, 20))
    assert (rolled["c"].start, rolled["c"].finish) == (None, None)


def test_figures_given_for_a_summary_are_ignored():
    rolled = roll_up(
        TREE,
        {"S": Figures(Decimal(999), Decimal(999)), "a": Figures(Decimal(2), Decimal(5))},
    )
    assert (rolled["S"].effort_hours, rolled["S"].budget) == (Decimal(2), Decimal(5))


def test_floats_are_refused_where_decimals_belong():
    with pytest.raises(TypeError):
        roll_up(TREE, {"a": Figures(budget=0.1)})  # type: ignore[arg-type]


# --- Pasting an outline ----------------------------------------------------------------------


def test_an_indented_outline_gives_depths_names_and_durations():
    text = "Design\n  Spec | 3d\n  Review | 0D\n\nBuild\n\tWeld|5d\n\t\tPaint\nClose\n"
    lines = parse_outline(text)
    assert lines == [
        OutlineLine(0, "Design", None),
        OutlineLine(1, "Spec", 3),
        OutlineLine(1, "Review", 0),
        OutlineLine(0, "Build", None),
        OutlineLine(1, "Weld", 5),
        OutlineLine(2, "Paint", None),
        OutlineLine(0, "Close", None),
    ]
    assert outline_parents(lines) == [None, 0, 0, None, 3, 4, None]


def test_any_deeper_indentation_is_one_level_and_dedents_line_up():
    lines = parse_outline("A\n        B\n          C\n        D\nE")
    assert [line.depth for line in lines] == [0, 1, 2, 1, 0]
    assert [line.depth for line in parse_outline("  A\n  B\n    C")] == [0, 0, 1]


def test_a_numbered_outline_takes_its_depths_from_the_numbers():
    text = "1 Design\n  1.1 Spec | 2d\n1.2. Review\n2. Build\n2.1 Weld | 5d\n2.1.1 Paint"
    assert parse_outline(text) == [
        OutlineLine(0, "Design", None),
        OutlineLine(1, "Spec", 2),
        OutlineLine(1, "Review", None),
        OutlineLine(0, "Build", None),
        OutlineLine(1, "Weld", 5),
        OutlineLine(2, "Paint", None),
    ]


def test_bullets_windows_newlines_and_blank_lines():
    text = "- Design\r\n\r\n   \r\n  * Spec | 1d\r\n  \u2022 Review\r\n"
    assert parse_outline(text) == [
        OutlineLine(0, "Design", None),
        OutlineLine(1, "Spec", 1),
        OutlineLine(1, "Review", None),
    ]
    assert parse_outline("") == [] and parse_outline("\n \n") == []


@pytest.mark.parametrize(
    ("text", "error", "line"),
    [
        ("A\n    B\n  C", IndentMismatch, 3),  # lines up with no earlier level
        ("A\n\tB\n  C", IndentMismatch, 3),  # spaces where the sibling has a tab
        ("\n\nA\n  B\n\tC", IndentMismatch, 5),  # blank lines count
        ("1 A\n1.1.1 B", DepthJump, 2),
        ("1.1 A", DepthJump, 1),
        ("Design | three days", BadDuration, 1),
        ("A\nB | 3 days", BadDuration, 2),
        ("A\n  | 3d", EmptyName, 2),
        ("A\n- ", EmptyName, 2),
    ],
)
def test_unreadable_outlines_name_the_line(text, error, line):
    with pytest.raises(error) as caught:
        parse_outline(text)
    assert caught.value.line == line
