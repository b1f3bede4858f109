"""Critical path method on working calendars (pure, no database).

Hand-worked cases first (each expected date is worked out in a comment), then 10,000 seeded
random networks checked against an independent longest-path computation with networkx
(Bellman-Ford on the point graph, forward from a source and backward from a sink).

On the 7-day calendar from Friday 2027-01-01, working day i is simply ``day(i)``.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import networkx as nx
import pytest

from projects.calc.calendar import ALL_WEEK, WorkCalendar
from projects.calc.scheduling import (
    ActualDatesError,
    AncestorLinkError,
    CycleError,
    DuplicateItemError,
    DuplicateLinkError,
    Item,
    Link,
    LinkTypeError,
    NegativeDurationError,
    ParentCycleError,
    Schedule,
    SelfLinkError,
    UnknownItemError,
    compute,
    would_close_cycle,
)

EVERY_DAY = WorkCalendar(ALL_WEEK)
JAN1 = date(2027, 1, 1)
# Monday-Friday with a holiday on Wednesday 2027-01-13, from Monday 2027-01-04.
HOLIDAY = date(2027, 1, 13)
OFFICE = WorkCalendar.of({1, 2, 3, 4, 5}, {HOLIDAY})
MON4 = date(2027, 1, 4)


def day(i: int) -> date:
    return JAN1 + timedelta(days=i)


def plan(items, links=(), calendar=EVERY_DAY, start=JAN1) -> Schedule:
    return compute(list(items), list(links), calendar=calendar, start=start)


def dates(schedule: Schedule, item_id) -> tuple[date, date]:
    it = schedule.items[item_id]
    return it.early_start, it.early_finish


def late(schedule: Schedule, item_id) -> tuple[date, date]:
    it = schedule.items[item_id]
    return it.late_start, it.late_finish


def floats(schedule: Schedule) -> dict:
    return {k: v.total_float for k, v in schedule.items.items()}


def critical(schedule: Schedule) -> set:
    return {k for k, v in schedule.items.items() if v.critical}


# --- The worked examples of API.md ---------------------------------------------------------

EXAMPLE_1_ITEMS = [Item(k, d) for k, d in zip("ABCDEF", [3, 4, 2, 5, 3, 2], strict=True)]
EXAMPLE_1_LINKS = [Link(a, b) for a, b in ["AB", "AC", "BD", "CE", "DF", "EF"]]
EXAMPLE_2_ITEMS = [Item("A", 5), Item("B", 4), Item("C", 3)]
EXAMPLE_2_LINKS = [Link("A", "B", "SS", 2), Link("B", "C"), Link("A", "C")]


def test_the_first_worked_example_lasts_14_days_on_a_seven_day_calendar():
    s = plan(EXAMPLE_1_ITEMS, EXAMPLE_1_LINKS)
    # A 0-2, B 3-6, C 3-4, D 7-11, E 5-7, F 12-13 (working day = calendar day here).
    assert (s.start, s.finish, s.duration_days) == (day(0), day(13), 14)
    assert dates(s, "A") == (day(0), day(2))
    assert dates(s, "B") == (day(3), day(6))
    assert dates(s, "C") == (day(3), day(4))
    assert dates(s, "D") == (day(7), day(11))
    assert dates(s, "E") == (day(5), day(7))
    assert dates(s, "F") == (day(12), day(13))
    assert s.critical_path == ["A", "B", "D", "F"]
    assert floats(s) == {"A": 0, "B": 0, "C": 4, "D": 0, "E": 4, "F": 0}
    # C may start 4 days later (7-8) and E too (9-11) without moving F.
    assert late(s, "C") == (day(7), day(8))
    assert late(s, "E") == (day(9), day(11))
    # C's slip delays E at once; E can slip 4 days before F notices.
    assert s.items["C"].free_float == 0
    assert s.items["E"].free_float == 4


def test_the_first_worked_example_skips_weekends_and_the_holiday():
    s = plan(EXAMPLE_1_ITEMS, EXAMPLE_1_LINKS, OFFICE, MON4)
    # Working days: 0 Mon 4, 1 Tue 5, 2 Wed 6, 3 Thu 7, 4 Fri 8, 5 Mon 11, 6 Tue 12,
    # (Wed 13 holiday) 7 Thu 14, 8 Fri 15, 9 Mon 18, 10 Tue 19, 11 Wed 20, 12 Thu 21, 13 Fri 22.
    jan = lambda d: date(2027, 1, d)  # noqa: E731
    assert (s.start, s.finish, s.duration_days) == (jan(4), jan(22), 14)
    assert dates(s, "A") == (jan(4), jan(6))
    assert dates(s, "B") == (jan(7), jan(12))
    assert dates(s, "C") == (jan(7), jan(8))
    assert dates(s, "D") == (jan(14), jan(20))  # days 7-11, over the holiday
    assert dates(s, "E") == (jan(11), jan(14))  # days 5-7: Mon, Tue, then Thu
    assert dates(s, "F") == (jan(21), jan(22))
    assert late(s, "C") == (jan(14), jan(15))  # days 7-8
    assert late(s, "E") == (jan(18), jan(20))  # days 9-11
    assert s.critical_path == ["A", "B", "D", "F"]
    assert floats(s) == {"A": 0, "B": 0, "C": 4, "D": 0, "E": 4, "F": 0}


def test_the_second_worked_example_lasts_9_days_with_all_three_critical():
    s = plan(EXAMPLE_2_ITEMS, EXAMPLE_2_LINKS)
    # A 0-4; B starts 2 days after A starts: 2-5; C after both A (4) and B (5): 6-8.
    assert (s.finish, s.duration_days) == (day(8), 9)
    assert dates(s, "A") == (day(0), day(4))
    assert dates(s, "B") == (day(2), day(5))
    assert dates(s, "C") == (day(6), day(8))
    assert s.critical_path == ["A", "B", "C"]
    assert floats(s) == {"A": 0, "B": 0, "C": 0}


def test_the_second_worked_example_on_the_office_calendar():
    s = plan(EXAMPLE_2_ITEMS, EXAMPLE_2_LINKS, OFFICE, MON4)
    # A Mon 4 - Fri 8; B Wed 6 - Mon 11; C Tue 12, (holiday), Thu 14, Fri 15.
    assert (s.start, s.finish, s.duration_days) == (MON4, date(2027, 1, 15), 9)
    assert dates(s, "B") == (date(2027, 1, 6), date(2027, 1, 11))
    assert dates(s, "C") == (date(2027, 1, 12), date(2027, 1, 15))
    assert s.critical_path == ["A", "B", "C"]
    assert set(floats(s).values()) == {0}


# --- Link types and lags ---------------------------------------------------------------------

# P: 3 days (days 0-2); S: 2 days. (type, lag, S's days, total float of P, of S).
LINK_CASES = [
    ("FS", 0, (3, 4), 0, 0),  # the day after P's last day
    ("FS", 2, (5, 6), 0, 0),  # two working days later
    ("FS", -1, (2, 3), 0, 0),  # a one-day lead: on P's last day
    ("FS", -10, (0, 1), 0, 1),  # a big lead stops at the project start; S ends day 1 of 2
    ("SS", 0, (0, 1), 0, 1),  # with P; S can slip to days 1-2
    ("SS", 1, (1, 2), 0, 0),  # a day after P starts
    ("SS", -2, (0, 1), 0, 1),  # never before the project start
    ("FF", 0, (1, 2), 0, 0),  # finishes with P: 1-2
    ("FF", 2, (3, 4), 0, 0),  # finishes 2 days after P: day 4
    ("FF", -1, (0, 1), 0, 1),  # finishes by day 1, no earlier than P's end - 1
    ("SF", 0, (0, 1), 0, 1),  # finish no earlier than P's start: no push at all
    ("SF", 4, (2, 3), 0, 0),  # finish >= start of P + 4 days: ends on day 3
    ("SF", 6, (4, 5), 0, 0),  # ends on day 5
]


@pytest.mark.parametrize(("kind", "lag", "days", "float_p", "float_s"), LINK_CASES)
def test_each_link_type_and_lag_moves_the_successor_as_worked_out(
    kind, lag, days, float_p, float_s
):
    s = plan([Item("P", 3), Item("S", 2)], [Link("P", "S", kind, lag)])
    assert dates(s, "S") == (day(days[0]), day(days[1]))
    assert dates(s, "P") == (day(0), day(2))
    assert (s.items["P"].total_float, s.items["S"].total_float) == (float_p, float_s)


def test_a_negative_sf_lag_reaches_back_before_a_late_predecessor():
    # P may not start before day 4 (days 4-6); S (2 days) must finish no earlier than the
    # start of P minus 1 day, i.e. at the end of day 2 at the earliest: days 1-2.
    s = plan(
        [Item("P", 3, start_no_earlier_than=day(4)), Item("S", 2)],
        [Link("P", "S", "SF", -1)],
    )
    assert dates(s, "S") == (day(1), day(2))
    assert s.finish == day(6)


def test_no_late_date_runs_past_the_project_finish():
    # P (4 days, 0-3) FF -3 -> S (2 days): S must finish by the end of day 0 at the earliest,
    # so it runs 0-1. The mirrored bound would let P finish 3 days after S's late finish
    # (day 6); the project finish (day 3) caps it.
    s = plan([Item("P", 4), Item("S", 2)], [Link("P", "S", "FF", -3)])
    assert dates(s, "S") == (day(0), day(1))
    assert s.finish == day(3)
    assert late(s, "P") == (day(0), day(3))
    assert late(s, "S") == (day(2), day(3))  # no successor: late finish = project finish
    assert floats(s) == {"P": 0, "S": 2}
    assert s.items["S"].free_float == 2


def test_an_item_without_predecessors_starts_on_the_first_working_day():
    saturday = date(2027, 1, 2)
    s = plan([Item("A", 2)], calendar=OFFICE, start=saturday)
    assert (s.start, s.finish) == (MON4, date(2027, 1, 5))
    assert dates(s, "A") == (MON4, date(2027, 1, 5))


def test_an_empty_project_lasts_zero_days_from_its_first_working_day():
    s = plan([], calendar=OFFICE, start=date(2027, 1, 2))
    assert (s.start, s.finish, s.duration_days, s.critical_path, s.items) == (
        MON4,
        MON4,
        0,
        [],
        {},
    )


# --- Milestones ------------------------------------------------------------------------------


def test_a_milestone_without_predecessors_sits_on_the_project_start():
    s = plan([Item("M", 0)])
    assert dates(s, "M") == (day(0), day(0))
    assert (s.finish, s.duration_days, s.critical_path) == (day(0), 1, ["M"])


def test_a_milestone_sits_on_the_day_its_predecessors_finish():
    s = plan([Item("A", 3), Item("B", 5), Item("M", 0)], [Link("A", "M"), Link("B", "M")])
    assert dates(s, "M") == (day(4), day(4))  # B's last day
    assert s.duration_days == 5


def test_an_fs_successor_of_a_milestone_starts_the_next_working_day():
    # Putting a milestone between A and B moves nothing: B starts the day after A's end.
    s = plan(
        [Item("A", 3), Item("M", 0), Item("B", 2)],
        [Link("A", "M"), Link("M", "B")],
        OFFICE,
        date(2027, 1, 6),  # Wednesday: A Wed-Fri, M Friday, B Mon-Tue
    )
    assert dates(s, "M") == (date(2027, 1, 8), date(2027, 1, 8))
    assert dates(s, "B") == (date(2027, 1, 11), date(2027, 1, 12))
    assert s.critical_path == ["A", "M", "B"]


def test_the_fs_successor_of_a_kickoff_milestone_starts_the_day_after_it():
    s = plan([Item("Kickoff", 0), Item("A", 3)], [Link("Kickoff", "A")])
    assert dates(s, "Kickoff") == (day(0), day(0))
    assert dates(s, "A") == (day(1), day(3))


def test_an_ss_successor_of_a_milestone_starts_on_the_milestone_day():
    # A milestone's start is the beginning of its day (API.md), so SS may start that day.
    s = plan(
        [Item("Kickoff", 0), Item("A", 3), Item("Done", 0), Item("B", 2)],
        [Link("Kickoff", "A", "SS"), Link("A", "Done"), Link("Done", "B", "SS")],
    )
    assert dates(s, "A") == (day(0), day(2))
    assert dates(s, "Done") == (day(2), day(2))
    assert dates(s, "B") == (day(2), day(3))


def test_links_into_a_milestone_from_a_start_or_a_finish():
    p = Item("P", 3, start_no_earlier_than=day(2))  # days 2-4
    ss = plan([p, Item("M", 0)], [Link("P", "M", "SS")])
    assert dates(ss, "M") == (day(2), day(2))  # on P's first day
    ff = plan([p, Item("M", 0)], [Link("P", "M", "FF")])
    assert dates(ff, "M") == (day(4), day(4))  # on P's last day, like FS
    sf = plan([p, Item("M", 0)], [Link("P", "M", "SF")])
    assert dates(sf, "M") == (day(1), day(1))  # its end no earlier than P's beginning


def test_an_ff_successor_of_a_milestone_finishes_no_earlier_than_its_day():
    s = plan(
        [Item("A", 3), Item("M", 0), Item("B", 2)],
        [Link("A", "M"), Link("M", "B", "FF")],
    )
    assert dates(s, "M") == (day(2), day(2))
    assert dates(s, "B") == (day(1), day(2))


def test_a_milestone_without_successors_may_slip_to_the_project_finish():
    s = plan([Item("A", 3), Item("B", 6), Item("M", 0)], [Link("A", "M")])
    assert dates(s, "M") == (day(2), day(2))
    assert late(s, "M") == (day(5), day(5))
    assert s.items["M"].total_float == 3
    assert s.items["A"].total_float == 3


# --- Start no earlier than and actual dates --------------------------------------------------


def test_start_no_earlier_than_a_weekend_moves_to_monday():
    saturday = date(2027, 1, 9)
    s = plan([Item("A", 2, start_no_earlier_than=saturday)], calendar=OFFICE, start=MON4)
    assert dates(s, "A") == (date(2027, 1, 11), date(2027, 1, 12))
    assert s.duration_days == 7  # Mon 4 .. Tue 12


def test_start_no_earlier_than_before_the_project_start_changes_nothing():
    s = plan([Item("A", 2, start_no_earlier_than=date(2026, 6, 1))])
    assert dates(s, "A") == (day(0), day(1))


def test_start_no_earlier_than_on_a_milestone_is_its_day():
    s = plan([Item("M", 0, start_no_earlier_than=day(4))])
    assert dates(s, "M") == (day(4), day(4))


def test_an_actual_start_overrides_the_predecessors():
    # B planned after A (days 3-4) but started on day 1: it is forecast to finish after its
    # planned 2 days, on day 2; C follows B.
    s = plan(
        [Item("A", 3), Item("B", 2, actual_start=day(1)), Item("C", 1)],
        [Link("A", "B"), Link("B", "C")],
    )
    assert dates(s, "B") == (day(1), day(2))
    assert dates(s, "C") == (day(3), day(3))
    # The link into B no longer binds A: A may slip to the project finish (C, day 3).
    assert late(s, "A") == (day(1), day(3))
    assert (s.items["A"].total_float, s.items["A"].free_float) == (1, 1)


def test_actual_start_and_finish_set_the_duration():
    s = plan(
        [Item("A", 2, actual_start=day(1), actual_finish=day(5)), Item("B", 1)],
        [Link("A", "B")],
    )
    assert dates(s, "A") == (day(1), day(5))  # 5 days instead of the planned 2
    assert dates(s, "B") == (day(6), day(6))


def test_an_actual_finish_alone_means_it_took_its_planned_duration():
    s = plan([Item("A", 3, actual_finish=day(6))])
    assert dates(s, "A") == (day(4), day(6))


def test_actual_dates_on_non_working_days_move_inside_the_span():
    s = plan(
        [Item("A", 3, actual_start=date(2027, 1, 9), actual_finish=date(2027, 1, 17))],
        calendar=OFFICE,
        start=MON4,
    )
    # Saturday 9 -> Monday 11; Sunday 17 -> Friday 15.
    assert dates(s, "A") == (date(2027, 1, 11), date(2027, 1, 15))


def test_an_achieved_milestone_is_on_its_actual_day():
    s = plan(
        [Item("A", 3), Item("M", 0, actual_finish=day(1)), Item("B", 1)],
        [Link("A", "M"), Link("M", "B")],
    )
    assert dates(s, "M") == (day(1), day(1))
    assert dates(s, "B") == (day(2), day(2))


def test_actual_dates_before_the_project_start_are_moved_to_it():
    s = plan([Item("A", 3, actual_start=day(-5))])
    assert dates(s, "A") == (day(0), day(2))


def test_an_actual_finish_before_the_actual_start_is_refused():
    with pytest.raises(ActualDatesError) as caught:
        plan([Item("A", 3, actual_start=day(4), actual_finish=day(2))])
    assert caught.value.item == "A"


# --- Summaries -------------------------------------------------------------------------------


def wbs(*leaves: Item) -> list[Item]:
    return [Item("S"), *leaves]


def test_a_link_into_a_summary_constrains_every_leaf_below_it():
    # X (3 days, 0-2) FS -> S; S holds a (2) and b (4), unlinked: both start on day 3, and a
    # milestone under S sits on X's last day, as if each were linked to X directly.
    items = [Item("X", 3), *wbs(Item("a", 2, "S"), Item("b", 4, "S"), Item("m", 0, "S"))]
    s = plan(items, [Link("X", "S")])
    assert dates(s, "a") == (day(3), day(4))
    assert dates(s, "b") == (day(3), day(6))
    assert dates(s, "m") == (day(2), day(2))
    assert dates(s, "S") == (day(2), day(6))
    assert s.items["S"].is_summary and not s.items["a"].is_summary
    assert s.critical_path == ["X", "b"]
    assert s.items["S"].critical  # it holds b
    assert s.items["X"].free_float == 0  # slipping X delays m and b at once


def test_each_link_type_into_a_summary_applies_to_its_leaves():
    x = Item("X", 3)  # days 0-2
    kids = [Item("a", 2, "S"), Item("b", 4, "S")]
    ss = plan([x, *wbs(*kids)], [Link("X", "S", "SS", 1)])
    assert dates(ss, "a")[0] == dates(ss, "b")[0] == day(1)
    ff = plan([x, *wbs(*kids)], [Link("X", "S", "FF", 1)])
    assert dates(ff, "a") == (day(2), day(3))  # finishes no earlier than day 3
    assert dates(ff, "b") == (day(0), day(3))
    sf = plan([x, *wbs(*kids)], [Link("X", "S", "SF", 4)])
    assert dates(sf, "a")[1] == dates(sf, "b")[1] == day(3)


def test_a_link_into_a_grandparent_reaches_the_grandchildren():
    items = [Item("X", 2), Item("G"), Item("S", parent="G"), Item("a", 1, "S"), Item("b", 3, "G")]
    s = plan(items, [Link("X", "G")])
    assert dates(s, "a") == (day(2), day(2))
    assert dates(s, "b") == (day(2), day(4))
    assert dates(s, "G") == (day(2), day(4))


def test_a_link_out_of_a_summary_waits_for_its_last_leaf():
    items = [*wbs(Item("a", 2, "S"), Item("b", 4, "S")), Item("Y", 1)]
    s = plan(items, [Link("S", "Y")])
    assert dates(s, "Y") == (day(4), day(4))
    assert floats(s) == {"S": 0, "a": 2, "b": 0, "Y": 0}
    assert s.items["a"].free_float == 2  # a may end as late as b without delaying Y


def test_an_ss_link_out_of_a_summary_starts_from_its_earliest_leaf():
    # a: 2 days from day 1 (1-2), b: 3 days from day 3 (3-5); S runs 1-5. Y (1 day) SS +1
    # from S starts on day 2. Y may slip to the project finish (day 5); the summary's start
    # may then slip to day 4, which binds a (it drives S's start) but not b.
    items = [
        *wbs(
            Item("a", 2, "S", start_no_earlier_than=day(1)),
            Item("b", 3, "S", start_no_earlier_than=day(3)),
        ),
        Item("Y", 1),
    ]
    s = plan(items, [Link("S", "Y", "SS", 1)])
    assert dates(s, "S") == (day(1), day(5))
    assert dates(s, "Y") == (day(2), day(2))
    assert late(s, "Y") == (day(5), day(5))
    assert late(s, "a") == (day(4), day(5))  # a's own late finish caps it too
    assert floats(s) == {"S": 0, "a": 3, "b": 0, "Y": 3}
    assert s.items["a"].free_float == 0  # a's slip moves S's start, hence Y at once
    assert s.critical_path == ["b"]


def test_a_link_between_an_item_and_its_own_ancestor_is_refused():
    items = [Item("G"), Item("S", parent="G"), Item("a", 1, "S")]
    for link in (Link("G", "a"), Link("a", "G"), Link("S", "a", "SS"), Link("G", "S")):
        with pytest.raises(AncestorLinkError) as caught:
            plan(items, [link])
        assert (caught.value.predecessor, caught.value.successor) == (
            link.predecessor,
            link.successor,
        )


def test_start_no_earlier_than_on_a_summary_applies_to_every_leaf_below_it():
    items = [
        Item("S", start_no_earlier_than=day(3)),
        Item("a", 2, "S"),
        Item("b", 1, "S", start_no_earlier_than=day(5)),  # the later bound wins
        Item("m", 0, "S"),
    ]
    s = plan(items)
    assert dates(s, "a") == (day(3), day(4))
    assert dates(s, "b") == (day(5), day(5))
    assert dates(s, "m") == (day(3), day(3))
    assert dates(s, "S") == (day(3), day(5))


def test_a_summary_ignores_its_own_duration():
    s = plan([Item("S", 40), Item("a", 2, "S")])
    assert dates(s, "S") == (day(0), day(1))
    assert s.duration_days == 2


# --- Validation and cycles -------------------------------------------------------------------


def test_a_cycle_is_refused_naming_its_items_in_order():
    items = [Item("A", 1), Item("B", 1), Item("C", 1), Item("D", 1)]
    links = [Link("D", "A"), Link("B", "C", "SS"), Link("C", "A"), Link("A", "B")]
    with pytest.raises(CycleError) as caught:
        plan(items, links)
    assert caught.value.items == ["A", "B", "C"]
    assert caught.value.links == [links[3], links[1], links[2]]


def test_a_cycle_through_a_summary_names_the_summary():
    # X -> S (so X -> a, inside S), a -> X: the loop is X, S (holding a), a.
    items = [Item("X", 1), Item("S"), Item("a", 1, "S"), Item("b", 1, "S")]
    with pytest.raises(CycleError) as caught:
        plan(items, [Link("X", "S"), Link("a", "X")])
    assert caught.value.items == ["X", "S", "a"]
    # S -> Y and Y -> S: the loop is S, Y.
    items = [Item("S"), Item("a", 1, "S"), Item("Y", 1)]
    with pytest.raises(CycleError) as caught:
        plan(items, [Link("S", "Y"), Link("Y", "S", "SS")])
    assert caught.value.items == ["S", "Y"]


def test_would_close_cycle_names_the_loop_a_new_link_would_make():
    parents = {"A": None, "B": None, "C": None, "S": None, "a": "S"}
    links = [Link("A", "B"), Link("B", "C"), Link("C", "S")]
    assert would_close_cycle(links, Link("C", "A"), parents) == ["A", "B", "C"]
    assert would_close_cycle(links, Link("a", "A", "SS"), parents) == ["A", "B", "C", "S", "a"]
    assert would_close_cycle(links, Link("A", "C"), parents) is None
    assert would_close_cycle(links, Link("S", "B"), parents) == ["B", "C", "S"]
    assert would_close_cycle([], Link("A", "B"), parents) is None
    with pytest.raises(SelfLinkError):
        would_close_cycle(links, Link("A", "A"), parents)
    with pytest.raises(AncestorLinkError):
        would_close_cycle(links, Link("a", "S"), parents)
    with pytest.raises(UnknownItemError):
        would_close_cycle(links, Link("A", "Z"), parents)


def test_invalid_input_is_refused_with_the_ids_concerned():
    with pytest.raises(SelfLinkError) as self_link:
        plan([Item("A", 1)], [Link("A", "A")])
    assert self_link.value.item == "A"
    with pytest.raises(UnknownItemError) as unknown:
        plan([Item("A", 1)], [Link("A", "Z")])
    assert unknown.value.item == "Z"
    with pytest.raises(UnknownItemError) as unknown_parent:
        plan([Item("A", 1, parent="P")])
    assert unknown_parent.value.item == "P"
    with pytest.raises(NegativeDurationError) as negative:
        plan([Item("A", -1)])
    assert (negative.value.item, negative.value.duration) == ("A", -1)
    with pytest.raises(DuplicateLinkError) as duplicate:
        plan([Item("A", 1), Item("B", 1)], [Link("A", "B"), Link("A", "B", "SS", 2)])
    assert (duplicate.value.predecessor, duplicate.value.successor) == ("A", "B")
    with pytest.raises(DuplicateItemError) as twice:
        plan([Item("A", 1), Item("A", 2)])
    assert twice.value.item == "A"
    with pytest.raises(LinkTypeError) as bad_type:
        plan([Item("A", 1), Item("B", 1)], [Link("A", "B", "XX")])
    assert bad_type.value.type == "XX"
    with pytest.raises(ParentCycleError) as loop:
        plan([Item("A", 1), Item("B", parent="C"), Item("C", parent="D"), Item("D", parent="B")])
    assert loop.value.items == ["B", "C", "D"]
    with pytest.raises(ParentCycleError):
        plan([Item("A", 1, parent="A")])


def test_the_opposite_links_between_two_items_are_a_cycle_not_a_duplicate():
    with pytest.raises(CycleError) as caught:
        plan([Item("A", 1), Item("B", 1)], [Link("A", "B"), Link("B", "A", "SS")])
    assert caught.value.items == ["A", "B"]


# --- Random networks against networkx --------------------------------------------------------


def random_network(rng: random.Random) -> tuple[list[Item], list[Link]]:
    """2-15 items, some summaries (up to two levels), milestones, start-no-earlier-than and
    actual dates; links of every type and lags -3..3 between random pairs (which may close
    cycles), except that links out of a summary are FS or FF (see ``point_graph``)."""
    n = rng.randint(2, 15)
    ids = [f"i{k}" for k in range(n)]
    parent: dict[str, str | None] = dict.fromkeys(ids)
    if n > 3 and rng.random() < 0.5:
        for k in rng.sample(range(1, n), rng.randint(1, n - 2)):
            candidate = ids[rng.randrange(0, k)]  # an earlier item: no loops of parents
            if parent[candidate] is None or rng.random() < 0.5:
                parent[ids[k]] = candidate
    items = []
    for k in ids:
        roll = rng.random()
        duration = 0 if roll < 0.2 else rng.randint(1, 6)
        snet = day(rng.randint(-2, 8)) if rng.random() < 0.15 else None
        actual_start = actual_finish = None
        roll = rng.random()
        if roll < 0.06:
            actual_start = day(rng.randint(-1, 6))
        elif roll < 0.1:
            actual_finish = day(rng.randint(0, 9))
        elif roll < 0.13:
            actual_start = day(rng.randint(0, 4))
            actual_finish = actual_start + timedelta(days=rng.randint(0, 5))
        items.append(Item(k, duration, parent[k], snet, actual_start, actual_finish))
    summaries = {p for p in parent.values() if p is not None}

    def ancestors(k: str) -> set[str]:
        found = set()
        while parent[k] is not None:
            k = parent[k]
            found.add(k)
        return found

    # Most networks follow one random order of the items (cycles may still come through
    # summaries); one in six takes any pairs, so that cycles are common enough to check.
    order = {k: rng.random() for k in ids}
    anything_goes = rng.random() < 1 / 6
    links, seen = [], set()
    for _ in range(rng.randint(0, 2 * n)):
        a, b = rng.sample(ids, 2)
        if order[a] > order[b] and not anything_goes:
            a, b = b, a
        if (a, b) in seen or a in ancestors(b) or b in ancestors(a):
            continue
        seen.add((a, b))
        types = ["FS", "FF"] if a in summaries else ["FS", "FS", "SS", "FF", "SF"]
        links.append(Link(a, b, rng.choice(types), rng.choice([0, 0, 0, 1, 2, -1, -3, 3])))
    return items, links


def reference_points(item: Item) -> tuple[int, int] | None:
    """Start and finish points of an item with actual dates on the 7-day calendar (index =
    days since JAN1), per the rules in the module docstring; None if it has none."""
    a_s, a_f = item.actual_start, item.actual_finish
    if a_s is None and a_f is None:
        return None
    index = lambda d: (d - JAN1).days  # noqa: E731
    if item.duration == 0:
        m = max(0, index(a_f if a_f is not None else a_s))
        return m, m + 1
    if a_s is not None:
        s = max(0, index(a_s))
        return (s, s + item.duration) if a_f is None else (s, max(index(a_f) + 1, s + 1))
    f = max(1, index(a_f) + 1)
    return max(0, f - item.duration), f


def point_graph(items: list[Item], links: list[Link]) -> tuple[nx.DiGraph, nx.DiGraph, dict]:
    """The network as a networkx graph of points, with summaries expanded: a link into a
    summary becomes one link into each of its leaves, a link out of it (FS / FF) one link
    out of each of its leaves. Nodes ("s", id) and ("f", id) per leaf; edge weight ``w``.
    Also the graph of the links between leaves, those into actual dates included, whose
    cycles are the network's."""
    children: dict[str, list[str]] = {}
    for it in items:
        if it.parent is not None:
            children.setdefault(it.parent, []).append(it.id)
    by_id = {it.id: it for it in items}

    def leaves(k: str) -> list[str]:
        if k not in children:
            return [k]
        return [leaf for c in children[k] for leaf in leaves(c)]

    def start_no_earlier_than(it: Item) -> int:
        bound = 0  # the project start; a summary's bound applies to its leaves
        while True:
            if it.start_no_earlier_than is not None:
                bound = max(bound, (it.start_no_earlier_than - JAN1).days)
            if it.parent is None:
                return bound
            it = by_id[it.parent]

    graph = nx.DiGraph()
    logic = nx.DiGraph()
    box: dict[str, int] = {}
    fixed = set()
    for it in items:
        if it.id in children:
            continue
        points = reference_points(it)
        if points is None:
            graph.add_edge("src", ("s", it.id), w=start_no_earlier_than(it))
            box[it.id] = it.duration or 1  # a milestone is a one-day box
        else:
            fixed.add(it.id)
            graph.add_edge("src", ("s", it.id), w=points[0])
            box[it.id] = points[1] - points[0]
        graph.add_edge(("s", it.id), ("f", it.id), w=box[it.id])
        graph.add_edge(("f", it.id), "sink", w=0)
    for link in links:
        for p in leaves(link.predecessor):
            for q in leaves(link.successor):
                logic.add_edge(p, q)
                if q in fixed:
                    continue  # actual dates: no link pushes them
                source = ("s", p) if link.type in ("SS", "SF") else ("f", p)
                finish_side = link.type in ("FF", "SF") or (
                    link.type == "FS" and by_id[q].duration == 0
                )
                weight = link.lag - box[q] if finish_side else link.lag
                old = graph.get_edge_data(source, ("s", q))
                if old is None or old["w"] < weight:
                    graph.add_edge(source, ("s", q), w=weight)
    for _, _, data in graph.edges(data=True):
        data["negative"] = -data["w"]
    return graph, logic, children


def descendants_leaves(children: dict, k: str) -> list[str]:
    if k not in children:
        return [k]
    return [leaf for c in children[k] for leaf in descendants_leaves(children, c)]


def check_against_networkx(items: list[Item], links: list[Link]) -> str:
    graph, logic, children = point_graph(items, links)
    if not nx.is_directed_acyclic_graph(logic):
        with pytest.raises(CycleError) as caught:
            plan(items, links)
        loop = caught.value.links
        ends = {lk.predecessor for lk in loop} | {lk.successor for lk in loop}
        assert loop and set(caught.value.items) == ends
        # Consecutive links share a leaf: each one's successor holds the next one's source.
        for here, there in zip(loop, loop[1:] + loop[:1], strict=True):
            shared = set(descendants_leaves(children, here.successor))
            assert shared & set(descendants_leaves(children, there.predecessor))
        return "cycle"
    schedule = plan(items, links)
    early = nx.single_source_bellman_ford_path_length(graph, "src", weight="negative")
    to_sink = nx.single_source_bellman_ford_path_length(
        graph.reverse(copy=False), "sink", weight="negative"
    )
    finish = max(-early[("f", it.id)] for it in items if it.id not in children)
    assert schedule.duration_days == finish
    assert schedule.finish == day(finish - 1)
    expected_critical = []
    for it in items:
        if it.id in children:
            continue
        es, ef = -early[("s", it.id)], -early[("f", it.id)]
        ls = finish + to_sink[("s", it.id)]  # minus the longest path to the sink
        lf = ls + (ef - es)
        got = schedule.items[it.id]
        assert (got.early_start, got.early_finish) == (day(es), day(ef - 1)), it
        assert (got.late_start, got.late_finish) == (day(ls), day(lf - 1)), it
        assert got.total_float == ls - es >= 0
        # Free float: the least slack over the item's outgoing edges, or up to the finish.
        slack = finish - ef
        for node in (("s", it.id), ("f", it.id)):
            for target, data in graph.succ[node].items():
                if target not in ("sink", ("f", it.id)):
                    slack = min(slack, -early[target] + early[node] - data["w"])
        assert got.free_float == slack, it
        if ls == es:
            expected_critical.append(it.id)
    assert [k for k in schedule.critical_path] == sorted(
        expected_critical,
        key=lambda k: (schedule.items[k].early_start, schedule.items[k].early_finish),
    )
    for k in children:  # summaries roll their leaves up
        under = [schedule.items[leaf] for leaf in descendants_leaves(children, k)]
        got = schedule.items[k]
        assert got.early_start == min(u.early_start for u in under)
        assert got.early_finish == max(u.early_finish for u in under)
        assert got.late_start == min(u.late_start for u in under)
        assert got.late_finish == max(u.late_finish for u in under)
        assert got.total_float == min(u.total_float for u in under)
        assert got.free_float == min(u.free_float for u in under)
    return "scheduled"


def test_ten_thousand_random_networks_agree_with_networkx():
    rng = random.Random(20270104)
    outcomes = {"cycle": 0, "scheduled": 0}
    for _ in range(10_000):
        outcomes[check_against_networkx(*random_network(rng))] += 1
    # Both kinds of outcome are well represented, so both paths are really checked.
    assert outcomes["scheduled"] > 7_000 and outcomes["cycle"] > 1_000, outcomes


# --- SS / SF links out of summaries: a brute-force fixpoint ----------------------------------
# A summary's rolled-up start is a minimum, which no longest path expresses; these networks are
# checked against plain repetition of every constraint until nothing moves (early dates) and
# against the constraints themselves (the late schedule must be feasible).


def rolled(leaves_of: dict, at: dict[str, tuple[int, int]], k: str) -> tuple[int, int]:
    leaves = leaves_of[k]
    return min(at[x][0] for x in leaves), max(at[x][1] for x in leaves)


def constraints_on(leaf: str, items_by_id: dict, links: list[Link]) -> list[Link]:
    """The links that bind ``leaf``: into it, or into one of its ancestors."""
    holders, k = {leaf}, leaf
    while items_by_id[k].parent is not None:
        k = items_by_id[k].parent
        holders.add(k)
    return [link for link in links if link.successor in holders]


def required_start(leaf: Item, box: int, link: Link, value: tuple[int, int]) -> int:
    """The earliest start of ``leaf`` that ``link`` allows, its predecessor being at
    ``value`` (start, finish points)."""
    base = value[0] if link.type in ("SS", "SF") else value[1]
    finish_side = link.type in ("FF", "SF") or (link.type == "FS" and leaf.duration == 0)
    return base + link.lag - (box if finish_side else 0)


def test_ss_and_sf_links_out_of_summaries_agree_with_a_fixpoint_and_stay_feasible():
    rng = random.Random(4)
    checked = 0
    while checked < 2_000:
        items, links = random_network(rng)
        links = [
            Link(lk.predecessor, lk.successor, rng.choice(["SS", "SF", lk.type]), lk.lag)
            for lk in links
        ]
        graph, logic, children = point_graph(items, links)
        if not nx.is_directed_acyclic_graph(logic):
            continue
        checked += 1
        schedule = plan(items, links)
        by_id = {it.id: it for it in items}
        leaves_of = {it.id: descendants_leaves(children, it.id) for it in items}
        leaves = [it for it in items if it.id not in children]
        box = {it.id: graph[("s", it.id)][("f", it.id)]["w"] for it in leaves}
        binding = {it.id: constraints_on(it.id, by_id, links) for it in leaves}
        fixed = {it.id: reference_points(it) for it in leaves}
        lower = {it.id: graph["src"][("s", it.id)]["w"] for it in leaves}
        at = {k: (lower[k], lower[k] + box[k]) for k in lower}
        moved = True
        while moved:  # repeat every constraint until nothing moves
            moved = False
            for it in leaves:
                if fixed[it.id] is not None:
                    continue
                start = lower[it.id]
                for link in binding[it.id]:
                    value = rolled(leaves_of, at, link.predecessor)
                    start = max(start, required_start(it, box[it.id], link, value))
                if start != at[it.id][0]:
                    at[it.id] = (start, start + box[it.id])
                    moved = True
        finish = max(f for _, f in at.values())
        assert schedule.duration_days == finish
        for it in leaves:
            got = schedule.items[it.id]
            assert (got.early_start, got.early_finish) == (
                day(at[it.id][0]),
                day(at[it.id][1] - 1),
            )
        # Every leaf at its late dates (actual dates where they are): all constraints hold.
        late_at = {
            it.id: (
                (schedule.items[it.id].late_start - JAN1).days,
                (schedule.items[it.id].late_finish - JAN1).days + 1,
            )
            for it in leaves
        }
        for it in leaves:
            assert late_at[it.id][1] <= finish
            if fixed[it.id] is not None:
                continue
            for link in binding[it.id]:
                value = rolled(leaves_of, late_at, link.predecessor)
                assert late_at[it.id][0] >= required_start(it, box[it.id], link, value)
        assert schedule.critical_path
