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


def test_until_keeps_a_date_and_a_utc_date_time_apart():
    # Issue 7: the UTC form was stored as its date part, "UNTIL=20270102".
    assert parse("FREQ=DAILY;UNTIL=20261231").until == date(2026, 12, 31)
    instant = parse("FREQ=DAILY;UNTIL=20270102T000000Z")
    assert instant.until == utc(2027, 1, 2)
    assert instant.to_text() == "FREQ=DAILY;UNTIL=20270102T000000Z"
    assert parse(instant.to_text()) == instant
    assert parse("FREQ=DAILY;UNTIL=20261231").to_text() == "FREQ=DAILY;UNTIL=20261231"


def test_an_until_time_without_z_is_refused_as_rfc_5545_says():
    # With a start in a time zone, UNTIL with a time must be UTC (RFC 5545 3.3.10).
    with pytest.raises(RuleError, match="UTC"):
        parse("FREQ=DAILY;UNTIL=20261231T235959")


def test_wkst_is_kept_in_the_rule_and_monday_is_the_default():
    # Issue 7: WKST was accepted and dropped.
    rule = parse("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU")
    assert rule.wkst == "SU"
    assert rule.to_text() == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;COUNT=4;WKST=SU"
    assert parse(rule.to_text()) == rule
    assert parse("FREQ=WEEKLY;WKST=MO") == parse("FREQ=WEEKLY")
    with pytest.raises(RuleError, match="WKST"):
        parse("FREQ=WEEKLY;WKST=XX")


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


def test_wkst_sunday_counts_weeks_from_sunday_as_in_rfc_5545():
    # RFC 5545 3.3.10, the WKST example: DTSTART;TZID=America/New_York:19970805T090000.
    start, at, tz = date(1997, 8, 5), time(9), "America/New_York"
    sunday = parse("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU")
    monday = parse("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO")
    found = occurrences(sunday, start=start, at=at, tz=tz, limit=10)
    assert [d.astimezone(UTC).date().day for d in found] == [5, 17, 19, 31]
    assert local_times(found, tz)[1] == "1997-08-17 Sun 09:00"
    found = occurrences(monday, start=start, at=at, tz=tz, limit=10)
    assert [d.date().day for d in found] == [5, 10, 19, 24]


# A UTC UNTIL is an instant: occurrences at or before it count, wherever the owner lives.
# Reading only its date part as a local day ended series late west of UTC and a day early
# east of it (issue 7).
UNTIL_CASES = [
    # owner's zone, UNTIL, local time of day, expected local times (from 2027-01-01)
    ("UTC", "20270102T000000Z", time(9), ["2027-01-01 Fri 09:00"]),
    # 2027-01-01T20:00Z is Jan 2, 07:00 in Sydney: Jan 2 06:00 (19:00Z) is inside.
    (
        "Australia/Sydney",
        "20270101T200000Z",
        time(6),
        ["2027-01-01 Fri 06:00", "2027-01-02 Sat 06:00"],
    ),
    # 2027-01-02T00:00Z is Jan 1, 16:00 in Los Angeles: Jan 2 09:00 is outside.
    ("America/Los_Angeles", "20270102T000000Z", time(9), ["2027-01-01 Fri 09:00"]),
]


@pytest.mark.parametrize(("tz", "until", "at", "expected"), UNTIL_CASES)
def test_a_utc_until_is_an_inclusive_bound_on_instants(tz, until, at, expected):
    rule = parse(f"FREQ=DAILY;UNTIL={until}")
    found = occurrences(rule, start=date(2027, 1, 1), at=at, tz=tz, limit=10)
    assert local_times(found, tz) == expected
    assert all(d <= rule.until for d in found)


@pytest.mark.parametrize("tz", ["UTC", "Australia/Sydney", "America/Los_Angeles"])
def test_a_date_until_is_the_owners_local_day(tz):
    rule = parse("FREQ=DAILY;UNTIL=20270102")
    found = occurrences(rule, start=date(2027, 1, 1), at=time(23, 30), tz=tz, limit=10)
    assert [t[:10] for t in local_times(found, tz)] == ["2027-01-01", "2027-01-02"]


def test_a_utc_until_that_is_exactly_an_occurrence_includes_it():
    rule = parse("FREQ=DAILY;UNTIL=20270102T090000Z")
    found = occurrences(rule, start=date(2027, 1, 1), at=time(9), tz="UTC", limit=10)
    assert found == [utc(2027, 1, 1, 9), utc(2027, 1, 2, 9)]


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


def test_plain_words_say_when_wkst_changes_the_meaning():
    rule = parse("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU")
    with translation.override("en"):
        assert cadence.describe(rule, time(9)) == (
            "Every 2 weeks on Tuesday, Sunday (weeks start on Sunday) at 09:00, 4 times"
        )
        # Every week, or a single day of the week: the week's first day changes nothing.
        assert cadence.describe(parse("FREQ=WEEKLY;BYDAY=TU,SU;WKST=SU")) == (
            "Every week on Tuesday, Sunday"
        )
        assert cadence.describe(parse("FREQ=WEEKLY;INTERVAL=2;WKST=SU")) == "Every 2 weeks"
    with translation.override("zh-hans"):
        assert "每周从周日开始" in cadence.describe(rule, time(9))


def test_plain_words_tell_a_utc_until_from_a_date_until():
    instant = parse("FREQ=DAILY;UNTIL=20270102T000000Z")
    with translation.override("en"):
        assert cadence.describe(parse("FREQ=DAILY;UNTIL=20270102")) == (
            "Every day, until 2027-01-02"
        )
        assert cadence.describe(instant) == "Every day, until 2027-01-02 00:00 UTC"
        assert cadence.describe(instant, tz="Australia/Sydney") == (
            "Every day, until 2027-01-02 11:00 (Australia/Sydney)"
        )
    with translation.override("zh-hans"):
        assert cadence.describe(instant, tz="America/Los_Angeles") == (
            "每 1 天，直到 2027-01-01 16:00（America/Los_Angeles）"  # noqa: RUF001
        )
