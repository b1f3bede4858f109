"""Dates at the edge of the calendar: refused with a 400 or a form error, never a 500.

Issue 7 reproduced: a follow-up with a cadence due 9999-12-31T20:00:00Z for an owner in
Pacific/Auckland was a 500 (``OverflowError``), so was 0001-01-01T02:00:00Z for one in New
York, and one follow-up due 9999-12-31T23:45:00Z (accepted with 201) made its owner's whole
calendar feed a 500. The supported range is 1900-01-01T00:00:00Z up to 3000-01-01T00:00:00Z
(dates 1900-01-01 to 2999-12-31; ``accounts.inputs``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from followup.engine import calendar, services
from followup.engine.calc import recurrence
from followup.engine.models import FollowUp
from tests.followup.test_api_conventions import assert_problem


def post_followup(api, owner, due_at: str, **extra):
    return api.post(
        "/api/v1/followups/",
        {"title": "Call ACME", "owner": str(owner.pk), "due_at": due_at, **extra},
        format="json",
    )


@pytest.mark.parametrize(
    ("tz", "due_at", "rule"),
    [
        ("Pacific/Auckland", "9999-12-31T20:00:00Z", "FREQ=WEEKLY"),
        ("America/New_York", "0001-01-01T02:00:00Z", "FREQ=DAILY"),
        ("UTC", "9999-12-31T23:45:00Z", ""),
        ("UTC", "9999-12-31T23:59:59-05:00", ""),  # beyond datetime once in UTC
        ("Asia/Tokyo", "1899-12-31T23:59:59Z", "FREQ=MONTHLY"),
        ("UTC", "3000-01-01T00:00:00Z", ""),
    ],
)
def test_a_due_time_outside_the_supported_range_is_a_400(api, org, member, tz, due_at, rule):
    member.timezone = tz
    member.save()
    response = post_followup(api, member, due_at, recurrence=rule)
    problem = assert_problem(response, 400)
    assert [e["field"] for e in problem["errors"]] == ["due_at"]
    assert not FollowUp.objects.for_org(org).exists()


@pytest.mark.parametrize(
    ("tz", "due_at"),
    [
        ("Pacific/Auckland", "2999-12-31T20:00:00Z"),  # 3000-01-01 09:00 in Auckland
        ("America/New_York", "1900-01-01T02:00:00Z"),  # 1899-12-31 in New York
        ("Pacific/Kiritimati", "2999-12-31T23:59:00Z"),
    ],
)
def test_the_edges_of_the_range_work_everywhere_they_are_shown(
    api, org, member, member_client, tz, due_at
):
    member.timezone = tz
    member.save()
    # The due days (Wed 3000-01-01, Sun 1899-12-31 locally) are days of the cadence, so the
    # first occurrence is the due time itself (the first day the cadence allows).
    created = post_followup(api, member, due_at, recurrence="FREQ=WEEKLY;BYDAY=MO,WE,FR,SU")
    assert created.status_code == 201, created.content
    followup_id = created.json()["id"]
    for page in ("home", "followup:list", "followup:team"):
        assert member_client.get(reverse(page, kwargs={"org_slug": org.slug})).status_code in (
            200,
            403,
        )
    detail = reverse("followup:detail", kwargs={"org_slug": org.slug, "pk": followup_id})
    assert member_client.get(detail).status_code == 200
    token = calendar.feed_create(org=org, user=member)
    feed = member_client.get(reverse("followup:calendar_feed", kwargs={"token": token}))
    assert feed.status_code == 200 and b"BEGIN:VEVENT" in feed.content
    # Completing ends a series whose next occurrence would leave the range.
    completed = api.post(f"/api/v1/followups/{followup_id}/complete/", {}, format="json")
    assert completed.status_code == 200, completed.content
    if due_at.startswith("2999"):
        assert completed.json()["next"] is None


def test_the_edit_form_refuses_a_due_time_outside_the_range(member_client, org, member):
    member.timezone = "Pacific/Auckland"
    member.save()
    response = member_client.post(
        reverse("followup:create", kwargs={"org_slug": org.slug}),
        {"title": "Call", "owner": member.pk, "due": "9999-12-31T23:00", "priority": 2,
         "reminders": [0], "frequency": "WEEKLY", "ends": "never"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "1900-01-01" in response.content.decode()
    assert not FollowUp.objects.for_org(org).exists()


def test_a_snooze_outside_the_range_is_a_400(api, member, make_followup):
    followup = make_followup()
    response = api.post(
        f"/api/v1/followups/{followup.pk}/snooze/",
        {"until": "9999-12-31T23:45:00Z"},
        format="json",
    )
    problem = assert_problem(response, 400)
    assert problem["errors"][0]["field"] == "until"


def test_a_snooze_preset_that_would_leave_the_range_is_refused(member, make_followup):
    followup = make_followup(due_at=datetime(2999, 12, 30, 12, tzinfo=UTC))
    with pytest.raises(ValidationError):
        until = services.snooze_target(followup, "1w")
        services.followup_snooze(followup=followup, actor=member, until=until)


def test_the_services_refuse_the_range_whoever_calls_them(org, member, make_followup):
    with pytest.raises(ValidationError) as refused:
        make_followup(due_at=datetime(9999, 12, 31, 23, 45, tzinfo=UTC))
    assert "due_at" in refused.value.message_dict
    followup = make_followup()
    with pytest.raises(ValidationError):
        services.followup_update(
            followup=followup, actor=member, due_at=datetime(1, 1, 1, 2, tzinfo=UTC)
        )


def test_the_database_holds_no_due_time_outside_the_range(org, make_followup):
    followup = make_followup()
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.for_org(org).filter(pk=followup.pk).update(
            due_at=datetime(9999, 12, 31, 23, 45, tzinfo=UTC)
        )


@pytest.mark.parametrize(
    "query",
    [
        "updated_after=0001-01-01T00:00:00%2B05:00",
        "updated_after=9999-12-31T23:59:59-05:00",
        "due_before=9999-12-31T23:59:59-05:00",
        "due_after=0001-01-01T00:00:00Z",
    ],
)
def test_time_filters_are_lenient_at_the_edges(api, make_followup, query):
    make_followup()
    response = api.get(f"/api/v1/followups/?{query}")
    assert response.status_code == 200, response.content


def test_a_time_filter_that_is_no_real_date_is_a_400(api):
    assert_problem(api.get("/api/v1/followups/?updated_after=2026-02-30T00:00:00Z"), 400)


# --- Pure parts: what overflowed ends instead --------------------------------------------


def test_recurrence_at_the_end_of_the_calendar_ends_instead_of_overflowing():
    weekly = recurrence.parse("FREQ=WEEKLY")
    found = recurrence.occurrences(
        weekly, start=date(9999, 12, 20), at=time(20), tz="Pacific/Auckland", limit=5
    )
    assert all(instant.tzinfo is UTC for instant in found)
    assert (
        recurrence.next_occurrence(
            weekly,
            start=date(9999, 12, 31),
            at=time(9),
            tz="Pacific/Auckland",
            after=datetime(9999, 12, 30, 21, tzinfo=UTC),
        )
        is None
    )
    first = recurrence.occurrences(
        recurrence.parse("FREQ=DAILY"),
        start=date(1, 1, 1),
        at=time(0, 30),
        tz="Asia/Tokyo",
        after=datetime(1, 1, 1, 12, tzinfo=UTC),
        limit=1,
    )
    assert first and first[0] > datetime(1, 1, 1, 12, tzinfo=UTC)


def test_the_calendar_writer_survives_the_last_representable_instant():
    last = datetime.max.replace(tzinfo=UTC)
    entry = calendar.Entry(
        uid="x@y",
        start=last,
        end=last,
        summary="Edge",
        description="",
        url="https://example.com/",
        modified=last - timedelta(days=1),
        sequence=1,
    )
    body = calendar.render([entry], name="Edge", now=timezone.now()).decode()
    assert "DTSTART:99991231T235959Z" in body
    assert calendar.event_end(last) == last


@pytest.mark.parametrize("until", ["UNTIL=99991231", "UNTIL=00010101T000000Z"])
def test_a_cadence_until_outside_the_range_is_a_400(api, member, until):
    response = post_followup(api, member, "2027-01-04T09:00:00Z", recurrence=f"FREQ=DAILY;{until}")
    problem = assert_problem(response, 400)
    assert problem["errors"][0]["field"] == "recurrence"
