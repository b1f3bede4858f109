"""Removing a member in a real browser, on a phone: what they hold, who takes it over."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership
from accounts.roles import Role
from followup.engine import services
from followup.engine.models import FollowUp
from tests.e2e.test_my_day import log_in
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_owner_removes_a_rep_and_hands_their_follow_ups_to_a_manager(
    live_server, phone, console_errors
):
    org = OrganizationFactory(name="Acme", slug="acme")
    MembershipFactory(organization=org, role=Role.OWNER, user__email="boss@acme.test")
    manager = MembershipFactory(
        organization=org, role=Role.MANAGER, user__email="lead@acme.test", user__display_name="Lee"
    ).user
    rep = MembershipFactory(
        organization=org, role=Role.MEMBER, user__email="rep@acme.test", user__display_name="Ray"
    ).user
    for title in ("Call Globex back", "Send the quote"):
        services.followup_create(
            org=org, actor=rep, title=title, owner=rep, due_at=timezone.now() + timedelta(days=1)
        )

    log_in(phone, live_server, "boss@acme.test")
    phone.goto(live_server.url + "/o/acme/members/")
    phone.get_by_role("row", name="Ray").get_by_role("link", name="Remove").click()
    assert phone.get_by_role("heading", name="Remove Ray?").is_visible()
    assert phone.get_by_text("2 open follow-ups").is_visible()
    choice = phone.get_by_label("Hand their open follow-ups to")
    choice.select_option(label="Lee")
    overflow = phone.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    phone.get_by_role("button", name="Remove").click()
    phone.wait_for_url("**/o/acme/members/")
    assert phone.get_by_text("2 open follow-ups went to Lee").is_visible()
    assert not Membership.objects.for_org(org).filter(user=rep).exists()
    assert set(FollowUp.objects.for_org(org).values_list("owner", flat=True)) == {manager.pk}
    console_errors.assert_none()
