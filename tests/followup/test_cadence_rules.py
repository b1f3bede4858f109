"""WKST and UNTIL from outside: through the API, the follow-up page and its edit form.

Issue 7 reproduced both from outside: ``WKST`` was accepted and dropped, and a UTC
``UNTIL`` was stored as its date (``UNTIL=20270102``), so completing created an occurrence
after the series' end (UTC, Los Angeles) or ended it a day early (Sydney).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from followup.engine.models import FollowUp

WKST_RULE = "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU"


def create(api, owner, due_at: str, rule: str) -> dict:
    response = api.post(
        "/api/v1/followups/",
        {"title": "Call ACME", "owner": str(owner.pk), "due_at": due_at, "recurrence": rule},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def complete(api, followup: dict) -> dict | None:
    response = api.post(f"/api/v1/followups/{followup['id']}/complete/", {}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["next"]


@pytest.mark.parametrize(
    ("tz", "due_at", "until", "next_due"),
    [
        # The reproduction: nine hours after UNTIL, an occurrence was created.
        ("UTC", "2027-01-01T09:00:00Z", "20270102T000000Z", None),
        # 06:00 in Sydney on Jan 2 is 2027-01-01T19:00Z, before UNTIL: not the end yet.
        ("Australia/Sydney", "2026-12-31T19:00:00Z", "20270101T200000Z", "2027-01-01T19:00:00Z"),
        # 09:00 in Los Angeles on Jan 2 is 2027-01-02T17:00Z, after UNTIL: the end.
        ("America/Los_Angeles", "2027-01-01T17:00:00Z", "20270102T000000Z", None),
    ],
)
def test_a_utc_until_keeps_its_time_and_ends_the_series_at_that_instant(
    api, member, tz, due_at, until, next_due
):
    member.timezone = tz
    member.save()
    followup = create(api, member, due_at, f"FREQ=DAILY;UNTIL={until}")
    assert followup["recurrence"] == f"FREQ=DAILY;UNTIL={until}"
    nxt = complete(api, followup)
    if next_due is None:
        assert nxt is None
    else:
        assert datetime.fromisoformat(nxt["due_at"]) == datetime.fromisoformat(next_due)
        assert nxt["recurrence"] == f"FREQ=DAILY;UNTIL={until}"


@pytest.mark.parametrize("tz", ["UTC", "Australia/Sydney", "America/Los_Angeles"])
def test_a_date_until_is_the_owners_last_local_day(api, member, tz):
    from zoneinfo import ZoneInfo

    member.timezone = tz
    member.save()
    first = datetime(2027, 1, 1, 9, tzinfo=ZoneInfo(tz))
    followup = create(api, member, first.isoformat(), "FREQ=DAILY;UNTIL=20270102")
    nxt = complete(api, followup)
    assert nxt is not None
    assert datetime.fromisoformat(nxt["due_at"]).astimezone(ZoneInfo(tz)).date().isoformat() == (
        "2027-01-02"
    )
    assert complete(api, nxt) is None


def test_wkst_is_kept_and_decides_the_next_occurrence(api, member):
    # RFC 5545's WKST example in a year where August 5 is again a Tuesday.
    member.timezone = "America/New_York"
    member.save()
    followup = create(api, member, "2031-08-05T13:00:00Z", WKST_RULE)
    assert followup["recurrence"] == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;COUNT=4;WKST=SU"
    nxt = complete(api, followup)
    # With WKST=MO (the dropped value) the next one was Sunday the 10th.
    assert datetime.fromisoformat(nxt["due_at"]) == datetime(2031, 8, 17, 13, tzinfo=UTC)


def test_the_follow_up_page_shows_the_wkst_cadence_in_words_and_dates(
    api, member, member_client, org
):
    member.timezone = "America/New_York"
    member.save()
    followup = create(api, member, "2031-08-05T13:00:00Z", WKST_RULE)
    page = member_client.get(
        reverse("followup:detail", kwargs={"org_slug": org.slug, "pk": followup["id"]})
    ).content.decode()
    assert "Every 2 weeks on Tuesday, Sunday (weeks start on Sunday) at 09:00, 4 times" in page
    for day in ("2031-08-05", "2031-08-17", "2031-08-19", "2031-08-31"):
        assert f'datetime="{day}' in page


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;COUNT=4;WKST=SU",
        "FREQ=DAILY;UNTIL=20270102T000000Z",
    ],
)
def test_saving_the_edit_form_without_touching_the_cadence_keeps_what_it_cannot_show(
    api, member, member_client, org, rule
):
    followup = create(api, member, "2026-12-29T09:00:00Z", rule)
    url = reverse("followup:detail", kwargs={"org_slug": org.slug, "pk": followup["id"]})
    form = member_client.get(url).context["form"]
    data = {
        name: value
        for name, value in {**form.initial, "title": "Call ACME, renamed"}.items()
        if value is not None
    }
    data["due"] = "2026-12-29T09:00"
    response = member_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    row = FollowUp.objects.for_org(org).get(pk=followup["id"])
    assert (row.title, row.recurrence) == ("Call ACME, renamed", rule)


def test_changing_the_cadence_in_the_form_replaces_the_rule(api, member, member_client, org):
    followup = create(api, member, "2026-12-29T09:00:00Z", "FREQ=DAILY;UNTIL=20270102T000000Z")
    url = reverse("followup:detail", kwargs={"org_slug": org.slug, "pk": followup["id"]})
    form = member_client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(due="2026-12-29T09:00", until="2027-01-05")
    assert member_client.post(url, data).status_code == 302
    assert FollowUp.objects.for_org(org).get(pk=followup["id"]).recurrence == (
        "FREQ=DAILY;UNTIL=20270105"
    )
