"""Working calendars: counting and stepping in working days (pure, no database)."""

from datetime import date, timedelta

import pytest

from projects.calc.calendar import ALL_WEEK, Axis, CalendarError, WorkCalendar

MON_FRI = WorkCalendar()
NEW_YEAR = date(2027, 1, 1)  # a Friday
WITH_HOLIDAY = WorkCalendar.of({1, 2, 3, 4, 5}, {NEW_YEAR})


def test_weekends_are_not_worked():
    assert MON_FRI.is_working(date(2026, 12, 4))  # Friday
    assert not MON_FRI.is_working(date(2026, 12, 5))  # Saturday
    assert MON_FRI.next_working(date(2026, 12, 5)) == date(2026, 12, 7)
    assert MON_FRI.previous_working(date(2026, 12, 6)) == date(2026, 12, 4)


def test_a_holiday_is_skipped_like_a_weekend():
    assert not WITH_HOLIDAY.is_working(NEW_YEAR)
    assert WITH_HOLIDAY.next_working(date(2026, 12, 31) + timedelta(days=1)) == date(2027, 1, 4)
    assert WITH_HOLIDAY.add(date(2026, 12, 31), 1) == date(2027, 1, 4)


def test_count_is_inclusive_and_matches_a_day_by_day_walk():
    start = date(2026, 12, 1)
    for cal in (MON_FRI, WITH_HOLIDAY, WorkCalendar(ALL_WEEK), WorkCalendar.of({2, 4, 6})):
        for span in range(0, 60):
            end = start + timedelta(days=span)
            walked = sum(cal.is_working(start + timedelta(days=i)) for i in range(span + 1))
            assert cal.count(start, end) == walked
    assert MON_FRI.count(date(2026, 12, 2), date(2026, 12, 1)) == 0


def test_add_steps_in_working_days_both_ways():
    assert MON_FRI.add(date(2026, 12, 4), 1) == date(2026, 12, 7)
    assert MON_FRI.add(date(2026, 12, 7), -1) == date(2026, 12, 4)
    assert MON_FRI.add(date(2026, 12, 7), 0) == date(2026, 12, 7)
    assert MON_FRI.add(date(2026, 12, 5), 0) == date(2026, 12, 7)  # moved to a working day


def test_axis_numbers_working_days_from_the_origin():
    axis = Axis(WITH_HOLIDAY, date(2026, 12, 26))  # a Saturday
    assert axis.date(0) == date(2026, 12, 28)
    assert axis.date(4) == date(2027, 1, 4)  # Mon-Thu, then the holiday and a weekend
    assert axis.index_on_or_after(date(2027, 1, 1)) == 4
    assert axis.index_on_or_before(date(2027, 1, 1)) == 3
    assert axis.date(-1) == date(2026, 12, 25)
    assert axis.index_on_or_after(date(2026, 12, 21)) == -5
    assert axis.index_on_or_after(date(2028, 1, 3)) == axis.index_on_or_after(date(2028, 1, 1))


def test_a_calendar_without_working_days_is_refused():
    with pytest.raises(CalendarError):
        WorkCalendar(frozenset())
    with pytest.raises(CalendarError):
        WorkCalendar.of({0, 8})
