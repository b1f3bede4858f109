"""The recurrence rules, without a database: local time of day across DST, month ends,
UNTIL and COUNT, owners in Europe, America and Asia."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from django.utils import translation

from followup.engine import cadence
from followup.engine.calc.recurrence import Rule, RuleError, next_occurrence, occurrences, parse


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local_times(found: list[datetime], tz: str) -> list[str]:
    from zoneinfo import ZoneInfo

    return [d.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %a %H:%M") for d in found]


# --- Parsing ------------------------------------------------------------------------------


def test_it_parses_and_writes_back_the_same_rule():
    rule = parse("RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO")
    assert rule == Rule(freq="WEEKLY", interval=2, byday=("MO",))
    assert rule.to_text() == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"
    assert parse(rule.to_text()) == rule


def test_until_accepts_a_date_or_a_date_time():
    assert parse("FREQ=DAILY;UNTIL=20261231").until == date(2026, 12, 31)
    assert parse("FREQ=DAILY;UNTIL=20261231T235959Z").until == date(2026, 12, 31)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "INTERVAL=2",
        "FREQ=HOURLY",
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=DAILY;INTERVAL=x",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=WEEKLY;BYDAY=1MO",
        "FREQ=DAILY;BYDAY=MO",
        "FREQ=MONTHLY;BYMONTHDAY=0",
        "FREQ=MONTHLY;BYMONTHDAY=32",
        "FREQ=DAILY;BYMONTHDAY=3",
        "FREQ=DAILY;COUNT=3;UNTIL=20260101",
        "FREQ=DAILY;COUNT=0",
        "FREQ=DAILY;UNTIL=20260231",
        "FREQ=DAILY;BYSETPOS=1",
        "FREQ=DAILY;FREQ=WEEKLY",
        "FREQ",
    ],
)
def test_it_refuses_what_it_does_not_understand(text):
    with pytest.raises(RuleError):
        parse(text)


# --- Daylight saving ------------------------------------------------------------------------


def test_weekly_at_nine_berlin_stays_at_nine_across_spring_forward():
    # Clocks go forward on Sunday 2026-03-29 in Europe/Berlin.
    rule = parse("FREQ=WEEKLY;BYDAY=MO")
    found = occurrences(rule, start=date(2026, 3, 16), at=time(9, 0), tz="Europe/Berlin", limit=3)
    assert local_times(found, "Europe/Berlin") == [
        "2026-03-16 Mon 09:00",
        "2026-03-23 Mon 09:00",
        "2026-03-30 Mon 09:00",
    ]
    assert [d.hour for d in found] == [8, 8, 7]  # UTC moves, local time does not


def test_weekly_at_nine_berlin_stays_at_nine_across_fall_back():
    # Clocks go back on Sunday 2026-10-25.
    rule = parse("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO")
    found = occurrences(rule, start=date(2026, 10, 12), at=time(9, 0), tz="Europe/Berlin", limit=2)
    assert local_times(found, "Europe/Berlin") == ["2026-10-12 Mon 09:00", "2026-10-26 Mon 09:00"]
    assert [d.hour for d in found] == [7, 8]


def test_new_york_changes_on_its_own_dates():
    # US clocks go forward on 2026-03-08, two weeks before Europe's.
    rule = parse("FREQ=DAILY")
    found = occurrences(rule, start=date(2026, 3, 7), at=time(9, 0), tz="America/New_York", limit=2)
    assert local_times(found, "America/New_York") == [
        "2026-03-07 Sat 09:00",
        "2026-03-08 Sun 09:00",
    ]
    assert [d.hour for d in found] == [14, 13]


def test_shanghai_has_no_daylight_saving():
    rule = parse("FREQ=MONTHLY;BYMONTHDAY=1")
    found = occurrences(rule, start=date(2026, 1, 1), at=time(8, 30), tz="Asia/Shanghai", limit=12)
    assert {d.strftime("%H:%M") for d in found} == {"00:30"}  # always UTC+8
    assert [d.month for d in found] == list(range(1, 13))


def test_a_time_inside_the_spring_gap_moves_forward_an_hour():
    # 02:30 does not exist in Berlin on 2026-03-29; RFC 5545 reads it with the old offset.
    found = occurrences(
        parse("FREQ=DAILY"), start=date(2026, 3, 28), at=time(2, 30), tz="Europe/Berlin", limit=3
    )
    assert local_times(found, "Europe/Berlin") == [
        "2026-03-28 Sat 02:30",
        "2026-03-29 Sun 03:30",
        "2026-03-30 Mon 02:30",
    ]


def test_an_ambiguous_time_in_the_fall_is_its_first_occurrence():
    found = occurrences(
        parse("FREQ=DAILY"), start=date(2026, 10, 25), at=time(2, 30), tz="Europe/Berlin", limit=1
    )
    assert found == [utc(2026, 10, 25, 0, 30)]  # 02:30 CEST, not 02:30 CET


# --- Month ends -------------------------------------------------------------------------------


def test_the_31st_skips_shorter_months():
    found = occurrences(
        parse("FREQ=MONTHLY;BYMONTHDAY=31"), start=date(2026, 1, 1), at=time(9), tz="UTC", limit=4
    )
    assert [d.date() for d in found] == [
        date(2026, 1, 31),
        date(2026, 3, 31),
        date(2026, 5, 31),
        date(2026, 7, 31),
    ]


def test_minus_one_is_the_last_day_of_every_month():
    found = occurrences(
        parse("FREQ=MONTHLY;BYMONTHDAY=-1"), start=date(2028, 1, 1), at=time(9), tz="UTC", limit=3
    )
    assert [d.date() for d in found] == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]


def test_monthly_from_the_31st_without_a_day_follows_rfc_5545():
    found = occurrences(
        parse("FREQ=MONTHLY"), start=date(2026, 1, 31), at=time(9), tz="UTC", limit=3
    )
    assert [d.date() for d in found] == [date(2026, 1, 31), date(2026, 3, 31), date(2026, 5, 31)]


def test_the_last_friday_of_the_month():
    found = occurrences(
        parse("FREQ=MONTHLY;BYDAY=-1FR"), start=date(2026, 1, 1), at=time(16), tz="UTC", limit=2
    )
    assert [d.date() for d in found] == [date(2026, 1, 30), date(2026, 2, 27)]


def test_yearly_on_february_29th_waits_for_leap_years():
    found = occurrences(
        parse("FREQ=YEARLY"), start=date(2028, 2, 29), at=time(9), tz="UTC", limit=2
    )
    assert [d.date() for d in found] == [date(2028, 2, 29), date(2032, 2, 29)]


# --- UNTIL and COUNT ----------------------------------------------------------------------------


def test_count_counts_from_the_start():
    rule = parse("FREQ=WEEKLY;BYDAY=MO,TH;COUNT=3")
    found = occurrences(rule, start=date(2026, 6, 1), at=time(9), tz="UTC", limit=10)
    assert [d.date() for d in found] == [date(2026, 6, 1), date(2026, 6, 4), date(2026, 6, 8)]
    assert (
        next_occurrence(rule, start=date(2026, 6, 1), at=time(9), tz="UTC", after=found[-1]) is None
    )


def test_until_is_an_inclusive_local_date():
    rule = parse("FREQ=DAILY;UNTIL=20260603")
    found = occurrences(rule, start=date(2026, 6, 1), at=time(23, 30), tz="Asia/Shanghai", limit=10)
    assert local_times(found, "Asia/Shanghai") == [
        "2026-06-01 Mon 23:30",
        "2026-06-02 Tue 23:30",
        "2026-06-03 Wed 23:30",
    ]


def test_next_occurrence_is_strictly_after():
    rule = parse("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO")
    start = date(2026, 1, 5)
    first = next_occurrence(
        rule, start=start, at=time(9), tz="Europe/Berlin", after=utc(2026, 1, 1)
    )
    assert first == utc(2026, 1, 5, 8)
    second = next_occurrence(rule, start=start, at=time(9), tz="Europe/Berlin", after=first)
    assert second == utc(2026, 1, 19, 8)


def test_after_must_be_aware():
    with pytest.raises(ValueError, match="aware"):
        occurrences(parse("FREQ=DAILY"), start=date(2026, 1, 1), at=time(9), tz="UTC",
                    after=datetime(2026, 1, 1))  # fmt: skip


# --- Plain words ----------------------------------------------------------------------------------


def test_it_describes_rules_in_plain_words():
    with translation.override("en"):
        assert (
            cadence.describe(parse("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"), time(9))
            == "Every 2 weeks on Monday at 09:00"
        )
        assert cadence.describe(parse("FREQ=DAILY")) == "Every day"
        assert (
            cadence.describe(parse("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"), time(8, 30))
            == "Every week on weekdays at 08:30"
        )
        assert (
            cadence.describe(parse("FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=6"))
            == "Every month on the last day of the month, 6 times"
        )
        assert (
            cadence.describe(parse("FREQ=MONTHLY;BYDAY=1MO;UNTIL=20261231"))
            == "Every month on the first Monday, until 2026-12-31"
        )


def test_it_describes_rules_in_chinese():
    with translation.override("zh-hans"):
        text = cadence.describe(parse("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"), time(9))
    assert text == "每 2 周的周一 09:00"
