"""The calendar feed: valid RFC 5545 text, a stable UID per follow-up, and a secret address
that only ever shows its owner's open follow-ups of one organization."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from accounts.roles import Role
from followup.engine import calendar, services
from tests.factories import MembershipFactory


def test_text_values_are_escaped():
    assert calendar.escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_long_lines_fold_at_75_octets_without_splitting_characters():
    line = "SUMMARY:" + "跟进事项" * 40
    folded = calendar.fold(line)
    pieces = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in pieces)
    assert all(p.startswith(" ") for p in pieces[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(pieces)) == line


def test_render_is_a_valid_calendar():
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    entry = calendar.Entry(
        uid="followup-1@test",
        start=now,
        end=now + timedelta(minutes=30),
        summary="Call ACME, then; write",
        description="line one\nline two",
        url="http://x/1",
        modified=now,
        sequence=2,
    )
    text = calendar.render([entry], name="Test", now=now).decode()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")  # CRLF only
    assert "DTSTAMP:20260501T120000Z" in text and "DTSTART:20260501T120000Z" in text
    assert "SUMMARY:Call ACME\\, then\\; write" in text
    assert "DESCRIPTION:line one\\nline two" in text


def feed_url(token: str) -> str:
    return f"/calendar/{token}.ics"


def test_the_feed_has_only_the_persons_open_follow_ups(client, org, other_org, member, owner):
    mine = services.followup_create(
        org=org, actor=member, title="Mine", owner=member, due_at=timezone.now()
    )
    services.followup_create(org=org, actor=member, title="Owners", owner=owner,
                             due_at=timezone.now())  # fmt: skip
    done = services.followup_create(org=org, actor=member, title="Finished", owner=member,
                                    due_at=timezone.now())  # fmt: skip
    services.followup_complete(followup=done, actor=member)
    # The same person in another organization: not in this feed.
    MembershipFactory(organization=other_org, user=member, role=Role.MEMBER)
    services.followup_create(org=other_org, actor=member, title="Elsewhere", owner=member,
                             due_at=timezone.now())  # fmt: skip
    token = calendar.feed_create(org=org, user=member)
    response = client.get(feed_url(token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    text = response.content.decode()
    assert re.findall(r"SUMMARY:(.*)\r\n", text) == ["Mine"]
    uid = f"UID:followup-{mine.pk}@testserver"
    assert uid in text
    assert uid in client.get(feed_url(token)).content.decode()  # stable across fetches


def test_revoked_regenerated_and_unknown_tokens_are_404(client, org, member):
    old = calendar.feed_create(org=org, user=member)
    new = calendar.feed_create(org=org, user=member)  # regenerate: the old one stops
    assert client.get(feed_url(old)).status_code == 404
    assert client.get(feed_url(new)).status_code == 200
    calendar.feed_revoke(org=org, user=member)
    assert client.get(feed_url(new)).status_code == 404
    assert client.get(feed_url("cal_unknown")).status_code == 404
    assert client.get(feed_url("nonsense")).status_code == 404


def test_a_former_members_address_is_gone(client, org, member):
    from accounts.models import Membership

    services.followup_create(org=org, actor=member, title="Mine", owner=member,
                             due_at=timezone.now())  # fmt: skip
    token = calendar.feed_create(org=org, user=member)
    Membership.objects.for_org(org).filter(user=member).delete()
    response = client.get(feed_url(token))
    assert response.status_code == 404 and b"VEVENT" not in response.content


def test_the_calendar_feed_and_its_events_link_to_the_site_address(
    member_client, member, org, settings, make_followup
):
    from django.urls import reverse

    settings.BASE_URL = "http://127.0.0.1:8123"
    make_followup(title="Call ACME")
    page = member_client.post(
        reverse("followup:calendar", kwargs={"org_slug": org.slug}), {"action": "create"}
    ).content.decode()
    assert "http://127.0.0.1:8123/calendar/cal_" in page
    feed_path = page.split("http://127.0.0.1:8123", 1)[1].split('"', 1)[0].split("<", 1)[0]
    body = member_client.get(feed_path).content.decode()
    assert "http://127.0.0.1:8123/o/acme/" in body
    assert ":8000" not in body
