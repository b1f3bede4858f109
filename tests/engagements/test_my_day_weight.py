"""My day for a busy rep: 60 open follow-ups on engagements stay a light page.

A rep opens My day on a phone, often on a slow network: every byte of the page is paid
for at each visit, and the page is re-rendered on every action.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from followup.engine import services as followup_services
from tests.engagements.factories import make_engagement
from tests.utils import assert_constant_queries


@pytest.fixture
def many_followups(org, member):
    engagement = make_engagement(org, name="Account care", owner=member)

    def make(n):
        now = timezone.now()
        for i in range(n):
            followup_services.followup_create(
                org=org,
                actor=member,
                title=f"Call back about the renewal {i}",
                owner=member,
                due_at=now + timedelta(hours=i % 60 - 30),
                subject=engagement,
            )

    return make


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_my_day_of_60_follow_ups_is_under_60_kb(member_client, many_followups, language):
    many_followups(60)
    response = member_client.get("/o/acme/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('name="ids"') == 60  # every row is there
    assert body.count("data-day>") == 60  # and has its actions (static/js/day.js)
    assert ("我的一天" in body) == (language == "zh-hans")
    assert len(response.content) < 60_000, f"My day is {len(response.content):,} bytes"


def test_my_day_of_engagement_follow_ups_takes_constant_queries(member_client, many_followups):
    count = assert_constant_queries(many_followups, lambda: member_client.get("/o/acme/"))
    assert count <= 12
