"""Earned value: textbook figures, working-day spreading, nulls with reasons (pure, no database)."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projects.calc import earned_value as evm
from projects.calc.calendar import WorkCalendar
from projects.calc.earned_value import (
    CostEntry,
    WorkPackage,
    by_work_item,
    earned_value,
    reading,
    series,
    to_api,
    to_data,
)

D = Decimal
MON_FRI = WorkCalendar()
MONDAY = date(2027, 3, 1)
# Wednesday 10 March 2027 is a holiday in this calendar.
HOLIDAY = date(2027, 3, 10)
WITH_HOLIDAY = WorkCalendar.of({1, 2, 3, 4, 5}, {HOLIDAY})


def textbook():
    """BAC 100,000 over two working weeks; at Friday of week one PV 50,000, EV 40,000, AC 45,000."""
    design = WorkPackage("design", D("60000"), MONDAY, date(2027, 3, 12), [(date(2027, 3, 4), 50)])
    build = WorkPackage("build", D("40000"), MONDAY, date(2027, 3, 12), [(date(2027, 3, 5), 25)])
    costs = [
        CostEntry(date(2027, 3, 2), D("20000.00"), "design"),
        CostEntry(date(2027, 3, 5), D("25000.00"), "build"),
        CostEntry(date(2027, 3, 8), D("99999.99"), "build"),  # after the status date
    ]
    return [design, build], costs, date(2027, 3, 5)


def test_the_textbook_example_gives_every_figure_of_api_md():
    packages, costs, as_of = textbook()
    figures = earned_value(packages, costs, MON_FRI, as_of)
    assert (figures.bac, figures.pv, figures.ev, figures.ac) == (
        D("100000.00"),
        D("50000.00"),
        D("40000.00"),
        D("45000.00"),
    )
    assert to_api(figures) == {
        "as_of": "2027-03-05",
        "bac": "100000.00",
        "pv": "50000.00",
        "ev": "40000.00",
        "ac": "45000.00",
        "sv": "-10000.00",
        "cv": "-5000.00",
        "spi": "0.8000",
        "cpi": "0.8889",
        "eac": "112500.00",
        "etc": "67500.00",
        "vac": "-12500.00",
        "tcpi": "1.0909",  # (100,000 - 40,000) / (100,000 - 45,000) = 60/55
        "series": [],
    }
    assert figures.undefined == {}


def test_eac_is_computed_from_the_unrounded_cpi():
    packages, costs, as_of = textbook()
    figures = earned_value(packages, costs, MON_FRI, as_of)
    # BAC / 0.8889 would be 112,498.59; BAC x AC / EV is exactly 112,500.
    assert figures.eac == D("112500.00")
    assert D("100000") / figures.cpi != figures.eac


def test_the_eac_variants_are_shown_beside_bac_over_cpi():
    packages, costs, as_of = textbook()
    figures = earned_value(packages, costs, MON_FRI, as_of)
    assert figures.eac_atypical == D("105000.00")  # 45,000 + (100,000 - 40,000)
    # 45,000 + 60,000 / (0.8888... x 0.8) = 45,000 + 84,375
    assert figures.eac_combined == D("129375.00")
    data = to_data(figures)
    assert data["eac_atypical"] == "105000.00"
    assert data["eac_combined"] == "129375.00"
    assert data["undefined"] == {}


def test_the_textbook_example_reads_behind_schedule_and_over_budget():
    packages, costs, as_of = textbook()
    words = earned_value(packages, costs, MON_FRI, as_of).reading()
    assert (words.schedule, words.cost) == ("behind", "over")
    assert (words.schedule_label, words.cost_label) == ("behind schedule", "over budget")


def test_pv_spreads_the_budget_evenly_over_working_days_skipping_weekends_and_holidays():
    # Mon 8 to Fri 19 March: 10 weekdays, minus the Wednesday holiday = 9 working days.
    package = WorkPackage("w", D("1000.00"), date(2027, 3, 8), date(2027, 3, 19))

    def pv(day):
        return earned_value([package], [], WITH_HOLIDAY, day).pv

    assert pv(date(2027, 3, 5)) == D("0.00")  # before the start
    assert pv(date(2027, 3, 8)) == D("111.11")  # 1/9, the start day counts
    assert pv(date(2027, 3, 9)) == D("222.22")  # 2/9
    assert pv(HOLIDAY) == D("222.22")  # nothing planned on the holiday
    assert pv(date(2027, 3, 11)) == D("333.33")  # 3/9
    assert pv(date(2027, 3, 12)) == D("444.44")  # 4/9
    assert pv(date(2027, 3, 14)) == D("444.44")  # Sunday: nothing planned at weekends
    assert pv(date(2027, 3, 15)) == D("555.56")  # 5/9 = 555.555... rounds half up
    assert pv(date(2027, 3, 19)) == D("1000.00")  # the finish day counts: all of it
    assert pv(date(2027, 6, 1)) == D("1000.00")  # never more than the budget


def test_a_package_without_working_days_plans_its_budget_on_its_finish_date():
    milestone = WorkPackage("m", D("500.00"), date(2027, 3, 13), date(2027, 3, 14))  # a weekend
    holiday_only = WorkPackage("h", D("70.00"), HOLIDAY, HOLIDAY)
    for package in (milestone, holiday_only):
        finish = package.baseline_finish
        day_before = finish - timedelta(days=1)
        assert earned_value([package], [], WITH_HOLIDAY, day_before).pv == D("0.00")
        assert earned_value([package], [], WITH_HOLIDAY, finish).pv == package.baseline_budget


def test_ev_uses_the_percent_recorded_on_or_before_the_status_date():
    package = WorkPackage(
        "w",
        D("2000.00"),
        date(2027, 3, 1),
        date(2027, 3, 31),
        # Given in any order; two records on 17 March: the one given last wins.
        [
            (date(2027, 3, 24), 100),
            (date(2027, 3, 10), 20),
            (date(2027, 3, 17), 50),
            (date(2027, 3, 17), D("60.5")),
        ],
    )

    def ev(day):
        return earned_value([package], [], MON_FRI, day).ev

    assert ev(date(2027, 3, 9)) == D("0.00")  # nothing recorded yet
    assert ev(date(2027, 3, 10)) == D("400.00")
    assert ev(date(2027, 3, 16)) == D("400.00")  # a past date sees what was recorded then
    assert ev(date(2027, 3, 17)) == D("1210.00")
    assert ev(date(2027, 4, 30)) == D("2000.00")
    assert package.percent_on(date(2027, 3, 20)) == D("60.5")


def test_ac_sums_the_costs_dated_on_or_before_the_status_date():
    costs = [
        CostEntry(date(2027, 3, 1), D("10.10")),
        CostEntry(date(2027, 3, 2), D("-0.10")),  # a credit note
        CostEntry(date(2027, 3, 3), D("5.00"), "w"),
    ]
    assert earned_value([], costs, MON_FRI, date(2027, 3, 2)).ac == D("10.00")
    assert earned_value([], costs, MON_FRI, date(2027, 3, 3)).ac == D("15.00")


def test_ratios_with_a_zero_denominator_are_null_with_a_reason():
    package = WorkPackage(
        "w", D("1000"), date(2027, 3, 8), date(2027, 3, 12), [(date(2027, 3, 1), 10)]
    )
    # Before the start, nothing spent: no PV, no AC.
    figures = earned_value([package], [], MON_FRI, date(2027, 3, 5))
    assert figures.spi is None and figures.cpi is None
    assert figures.eac is None and figures.etc is None and figures.vac is None
    assert figures.eac_combined is None
    assert {name: why.code for name, why in figures.undefined.items()} == {
        "spi": "no_planned_value",
        "cpi": "no_actual_cost",
        "eac": "no_actual_cost",
        "etc": "no_actual_cost",
        "vac": "no_actual_cost",
        "eac_combined": "no_actual_cost",
    }
    assert figures.undefined["spi"].message == evm.UNDEFINED_REASONS["no_planned_value"]
    assert figures.sv == D("100.00") and figures.eac_atypical == D("900.00")
    assert figures.tcpi == D("0.9000")
    assert figures.reading().schedule == "unknown"
    assert figures.reading().cost_label == "cost not measurable yet"
    payload = to_api(figures)
    assert payload["spi"] is None and payload["cpi"] is None and payload["eac"] is None
    assert to_data(figures)["undefined"]["cpi"]["code"] == "no_actual_cost"


def test_money_spent_but_nothing_earned_leaves_the_forecast_undefined():
    package = WorkPackage("w", D("1000"), date(2027, 3, 8), date(2027, 3, 12))
    figures = earned_value(
        [package], [CostEntry(date(2027, 3, 8), D("50"))], MON_FRI, date(2027, 3, 9)
    )
    assert figures.cpi == D("0.0000") and figures.spi == D("0.0000")
    assert figures.eac is None and figures.undefined["eac"].code == "no_earned_value"
    assert figures.undefined["eac_combined"].code == "no_earned_value"
    assert figures.eac_atypical == D("1050.00")


def test_tcpi_is_null_once_the_budget_is_spent():
    package = WorkPackage(
        "w", D("1000"), date(2027, 3, 8), date(2027, 3, 12), [(date(2027, 3, 9), 80)]
    )
    figures = earned_value(
        [package], [CostEntry(date(2027, 3, 9), D("1000.00"))], MON_FRI, date(2027, 3, 9)
    )
    assert figures.tcpi is None
    assert figures.undefined == {
        "tcpi": evm.Undefined("budget_spent", evm.UNDEFINED_REASONS["budget_spent"])
    }


def test_no_work_packages_at_all_is_not_an_error():
    figures = earned_value([], [], MON_FRI, MONDAY)
    assert figures.bac == figures.pv == figures.ev == figures.ac == D("0.00")
    assert figures.spi is figures.cpi is figures.tcpi is None


def test_an_explicit_bac_covers_budget_lines_outside_the_work_packages():
    packages, costs, as_of = textbook()
    figures = earned_value(packages, costs, MON_FRI, as_of, bac=D("120000"))
    assert (figures.bac, figures.pv, figures.ev) == (D("120000.00"), D("50000.00"), D("40000.00"))
    assert figures.spi == D("0.8000") and figures.cpi == D("0.8889")
    assert figures.eac == D("135000.00")  # 120,000 x 45,000 / 40,000
    assert figures.vac == D("-15000.00")


def test_the_drill_down_gives_the_same_figures_per_work_package():
    packages, costs, as_of = textbook()
    costs = [*costs, CostEntry(as_of, D("1.00")), CostEntry(as_of, D("2.00"), "unknown")]
    breakdown = by_work_item(packages, costs, MON_FRI, as_of)
    design, build = (item.figures for item in breakdown.items)
    assert [item.id for item in breakdown.items] == ["design", "build"]
    assert (design.bac, design.pv, design.ev, design.ac) == (
        D("60000.00"),
        D("30000.00"),
        D("30000.00"),
        D("20000.00"),
    )
    assert design.cpi == D("1.5000") and design.reading().cost == "under"
    assert design.reading().schedule == "on"
    assert (build.pv, build.ev, build.ac, build.spi) == (
        D("20000.00"),
        D("10000.00"),
        D("25000.00"),
        D("0.5000"),
    )
    assert breakdown.unassigned_ac == D("3.00")
    with pytest.raises(ValueError, match="unique"):
        by_work_item([packages[0], packages[0]], [], MON_FRI, as_of)


def test_totals_are_rounded_from_exact_values_so_rounded_parts_need_not_add_up():
    # Three packages of 100.00 over three working days, one day in: each plans 33.333...
    packages = [
        WorkPackage(n, D("100.00"), date(2027, 3, 1), date(2027, 3, 3)) for n in ("a", "b", "c")
    ]
    as_of = date(2027, 3, 1)
    parts = [item.figures.pv for item in by_work_item(packages, [], MON_FRI, as_of).items]
    assert parts == [D("33.33")] * 3
    assert sum(parts) == D("99.99")  # the sum of rounded parts
    assert earned_value(packages, [], MON_FRI, as_of).pv == D("100.00")  # the rounded exact sum


def test_a_cumulative_series_never_drifts_from_the_exact_value():
    # 1.00 over 3 days: three rounded daily increments of 0.33 would end at 0.99.
    package = WorkPackage("a", D("1.00"), date(2027, 3, 1), date(2027, 3, 3))
    points = series([package], [], MON_FRI, date(2027, 3, 1), date(2027, 3, 3))
    assert [p.pv for p in points] == [D("0.33"), D("0.67"), D("1.00")]


def test_half_cents_round_half_up_away_from_zero():
    package = WorkPackage("a", D("0.05"), date(2027, 3, 1), date(2027, 3, 2))
    figures = earned_value([package], [], MON_FRI, date(2027, 3, 1))
    assert figures.pv == D("0.03")  # 0.025
    assert figures.sv == D("-0.03")  # -0.025
    assert str(earned_value([], [], MON_FRI, MONDAY).sv) == "0.00"  # never "-0.00"


def test_the_weekly_series_keeps_every_seventh_day_and_the_last_one():
    packages, costs, _ = textbook()
    points = series(packages, costs, MON_FRI, MONDAY, date(2027, 3, 16), step="week")
    assert [p.date for p in points] == [
        MONDAY,
        date(2027, 3, 8),
        date(2027, 3, 15),
        date(2027, 3, 16),
    ]
    assert to_api(earned_value(packages, costs, MON_FRI, MONDAY), points)["series"][1] == {
        "date": "2027-03-08",
        "pv": "60000.00",
        "ev": "40000.00",
        "ac": "144999.99",
    }


def test_the_series_counts_work_and_cost_before_its_first_date():
    packages, costs, _ = textbook()
    (point,) = series(packages, costs, MON_FRI, date(2027, 3, 5), date(2027, 3, 5))
    assert (point.pv, point.ev, point.ac) == (D("50000.00"), D("40000.00"), D("45000.00"))


def test_the_series_refuses_a_backwards_window_or_an_unknown_step():
    with pytest.raises(ValueError):
        series([], [], MON_FRI, MONDAY, MONDAY - timedelta(days=1))
    with pytest.raises(ValueError):
        series([], [], MON_FRI, MONDAY, MONDAY, step="month")  # type: ignore[arg-type]


BASE = date(2027, 1, 4)


@st.composite
def projects(draw):
    holidays = draw(
        st.frozensets(st.integers(0, 60).map(lambda n: BASE + timedelta(days=n)), max_size=6)
    )
    weekdays = draw(st.frozensets(st.integers(1, 7), min_size=1))
    calendar = WorkCalendar.of(weekdays, holidays)
    packages = []
    for n in range(draw(st.integers(0, 6))):
        start = BASE + timedelta(days=draw(st.integers(0, 40)))
        finish = start + timedelta(days=draw(st.integers(0, 25)))
        budget = Decimal(draw(st.integers(0, 10**7))).scaleb(-draw(st.integers(0, 3)))
        progress = draw(
            st.lists(
                st.tuples(
                    st.integers(-5, 70).map(lambda d: BASE + timedelta(days=d)),
                    st.decimals(0, 100, places=1),
                ),
                max_size=4,
            )
        )
        packages.append(WorkPackage(n, budget, start, finish, progress))
    costs = draw(
        st.lists(
            st.builds(
                CostEntry,
                st.integers(-5, 70).map(lambda d: BASE + timedelta(days=d)),
                st.decimals(-1000, 100000, places=2),
            ),
            max_size=12,
        )
    )
    return calendar, packages, costs


@settings(max_examples=60, deadline=None)
@given(projects(), st.integers(-3, 30), st.integers(0, 40))
def test_every_series_point_equals_the_point_computation_at_that_date(project, offset, length):
    calendar, packages, costs = project
    start = BASE + timedelta(days=offset)
    points = series(packages, costs, calendar, start, start + timedelta(days=length))
    assert len(points) == length + 1
    for point in points:
        figures = earned_value(packages, costs, calendar, point.date)
        assert (point.pv, point.ev, point.ac) == (figures.pv, figures.ev, figures.ac)


@settings(max_examples=40, deadline=None)
@given(projects(), st.integers(-3, 70))
def test_the_project_figures_are_the_exact_sum_of_the_work_packages(project, offset):
    calendar, packages, costs = project
    as_of = BASE + timedelta(days=offset)
    parts = by_work_item(packages, costs, calendar, as_of).items
    total = earned_value(packages, costs, calendar, as_of)
    # Each part is within half a cent of its exact value, so the sums agree to n x 0.005.
    slack = D("0.005") * len(parts) + D("0.005")
    assert abs(sum((p.figures.pv for p in parts), D(0)) - total.pv) <= slack
    assert abs(sum((p.figures.ev for p in parts), D(0)) - total.ev) <= slack


def test_the_reading_uses_a_tolerance_around_one():
    packages, costs, as_of = textbook()
    figures = earned_value(packages, costs, MON_FRI, as_of)

    def words(spi, cpi, tolerance=evm.DEFAULT_TOLERANCE):
        result = reading(replace(figures, spi=D(spi), cpi=D(cpi)), tolerance)
        return result.schedule, result.cost

    assert words("0.9900", "1.0100") == ("behind", "under")
    assert words("0.9901", "1.0099") == ("on", "on")
    assert words("1.0000", "1.0000", tolerance=D(0)) == ("on", "on")
    assert words("1.2000", "0.5000") == ("ahead", "over")
    assert words("0.9500", "0.9500", tolerance=D("0.1")) == ("on", "on")
    with pytest.raises(ValueError):
        reading(figures, D("-0.1"))


def test_every_word_is_a_plain_msgid():
    for label in (
        *evm.SCHEDULE_LABELS.values(),
        *evm.COST_LABELS.values(),
        *evm.UNDEFINED_REASONS.values(),
    ):
        assert isinstance(label, str) and label.strip() == label and label


def test_inputs_are_checked():
    with pytest.raises(TypeError):
        WorkPackage("w", 100.0, MONDAY, MONDAY)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        WorkPackage("w", D("-1"), MONDAY, MONDAY)
    with pytest.raises(ValueError):
        WorkPackage("w", D("NaN"), MONDAY, MONDAY)
    with pytest.raises(ValueError):
        WorkPackage("w", D("1"), MONDAY, MONDAY - timedelta(days=1))
    with pytest.raises(ValueError):
        WorkPackage("w", D("1"), MONDAY, MONDAY, [(MONDAY, 101)])
    with pytest.raises(TypeError):
        WorkPackage("w", D("1"), MONDAY, MONDAY, [(MONDAY, True)])
    with pytest.raises(TypeError):
        WorkPackage("w", D("1"), MONDAY, MONDAY, [(MONDAY, 50.0)])
    with pytest.raises(TypeError):
        CostEntry(MONDAY, 5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        earned_value([], [], MON_FRI, MONDAY, bac=D("-1"))
