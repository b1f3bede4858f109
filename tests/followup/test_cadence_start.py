"""One function decides a new follow-up's first occurrence: the preview lists what the save
stores (issue 11, defect 3).

The reproduction: New follow-up, due Thu 10:00, weekly every 2 on Monday at 09:00. The
preview listed Mondays from the week after next, the saved follow-up was due Thu 10:00; with
the due date empty the preview skipped the coming Monday.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from followup.engine import cadence
from followup.engine.calc.recurrence import first_occurrence, parse
from followup.engine.models import FollowUp

HTMX = {"HTTP_HX_REQUEST": "true"}
EVERY_2_WEEKS_ON_MONDAY = {
    "frequency": "WEEKLY",
    "interval": "2",
    "weekdays": ["MO"],
    "at": "09:00",
    "ends": "never",
}


def url(name: str) -> str:
    return reverse(name, kwargs={"org_slug": "acme"})


def _next(weekday: int, *, after: date) -> date:
    """The first day with ``weekday`` (Monday 0) strictly after ``after``."""
    return after + timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


def _listed(body: str) -> list[datetime]:
    return [datetime.fromisoformat(v) for v in re.findall(r'<time datetime="([^"]+)"', body)]


def test_every_2_weeks_on_monday_from_a_thursday_starts_the_coming_monday():
    rule = parse("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO")
    first = first_occurrence(rule, start=date(2026, 12, 3), at=time(9), tz="UTC")
    assert first == datetime(2026, 12, 7, 9, tzinfo=UTC)


def test_a_due_date_the_cadence_allows_is_its_own_first_occurrence():
    rule = parse("FREQ=WEEKLY;BYDAY=TH")
    first = first_occurrence(rule, start=date(2026, 12, 3), at=time(10), tz="Europe/Berlin")
    assert first == datetime(2026, 12, 3, 9, tzinfo=UTC)


def test_without_a_due_date_the_first_occurrence_is_the_coming_one():
    rule = parse("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO")
    tuesday = datetime(2026, 12, 1, 15, tzinfo=UTC)
    begin = cadence.start(rule, due=None, at=time(9), tz="UTC", now=tuesday)
    assert begin is not None and begin.first == datetime(2026, 12, 7, 9, tzinfo=UTC)
    dates = cadence.preview(rule, due=None, at=time(9), tz="UTC", now=tuesday)
    assert dates is not None
    assert [d.date() for d in dates[:3]] == [
        date(2026, 12, 7),
        date(2026, 12, 21),
        date(2027, 1, 4),
    ]


@pytest.fixture
def utc_member(member):
    member.timezone = "UTC"
    member.save()
    return member


def test_the_preview_lists_first_what_the_save_stores(member_client, utc_member, org, settings):
    settings.TIME_ZONE = "UTC"
    thursday = _next(3, after=timezone.now().date() + timedelta(days=1))
    due = f"{thursday.isoformat()}T10:00"
    preview = member_client.get(
        url("followup:cadence_preview"),
        {**EVERY_2_WEEKS_ON_MONDAY, "due": due, "owner": str(utc_member.pk)},
        **HTMX,
    )
    assert preview.status_code == 200
    listed = _listed(preview.content.decode())
    coming_monday = datetime.combine(_next(0, after=thursday), time(9), tzinfo=UTC)
    assert listed[0] == coming_monday
    assert listed[1] == coming_monday + timedelta(weeks=2)

    response = member_client.post(
        url("followup:create"),
        {
            "title": "Visit ACME",
            "owner": utc_member.pk,
            "due": due,
            "priority": 2,
            "reminders": [0],
            **EVERY_2_WEEKS_ON_MONDAY,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = FollowUp.objects.for_org(org).get()
    assert saved.due_at == listed[0]
    assert saved.occurrence_at == listed[0]


def test_with_the_due_date_empty_the_preview_starts_the_coming_monday(member_client, utc_member):
    response = member_client.get(
        url("followup:cadence_preview"),
        {**EVERY_2_WEEKS_ON_MONDAY, "due": "", "owner": str(utc_member.pk)},
        **HTMX,
    )
    listed = _listed(response.content.decode())
    now = timezone.now()
    today_at_nine = datetime.combine(now.date(), time(9), tzinfo=UTC)
    if now.weekday() == 0 and now < today_at_nine:
        expected = today_at_nine
    else:
        expected = datetime.combine(_next(0, after=now.date()), time(9), tzinfo=UTC)
    assert listed[0] == expected


def test_the_api_saves_the_same_first_occurrence(api, member):
    member.timezone = "UTC"
    member.save()
    response = api.post(
        "/api/v1/followups/",
        {
            "title": "Call ACME",
            "owner": str(member.pk),
            "due_at": "2030-01-10T10:00:00Z",  # a Thursday
            "recurrence": "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert datetime.fromisoformat(response.json()["due_at"]) == datetime(
        2030, 1, 14, 10, tzinfo=UTC
    )


def test_a_cadence_that_ends_before_it_starts_is_refused(api, member):
    response = api.post(
        "/api/v1/followups/",
        {
            "title": "Call ACME",
            "owner": str(member.pk),
            "due_at": "2030-01-10T10:00:00Z",
            "recurrence": "FREQ=WEEKLY;BYDAY=MO;UNTIL=20300111",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "recurrence" in response.content.decode()
