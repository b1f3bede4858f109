"""Bulk work in the browser: tick rows, one confirmation, one message with Undo; the lists
fit a phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from followup.engine import services
from followup.engine.models import FollowUp, FollowUpStatus
from tests.e2e.helpers import horizontal_overflow, log_in
from tests.engagements.factories import make_customer
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def day():
    org = OrganizationFactory(name="Bulk Org", slug="bulk-org")
    rep = MembershipFactory(
        organization=org, role=Role.MANAGER, user__email="rep@bulk.test", user__display_name="Rep"
    ).user
    rows = [
        services.followup_create(
            org=org,
            actor=rep,
            title=title,
            owner=rep,
            due_at=timezone.now() + timedelta(hours=hours),
        )
        for title, hours in (("Call Lumen", -2), ("Send the offer", 1), ("Visit Huaxin", 30))
    ]
    for n in range(3):
        make_customer(org, name=f"Customer with a rather long name number {n}", owner=rep)
    return org, rows


def test_complete_two_from_my_day_and_undo(live_server, page, console_errors, day):
    org, rows = day
    log_in(page, live_server.url, "rep@bulk.test", "bulk-org")
    apply = page.get_by_role("button", name="Apply to selected")
    assert apply.is_disabled()
    page.get_by_label("Select Call Lumen").check()
    page.get_by_label("Select Send the offer").check()
    assert page.get_by_text("2 selected").is_visible()
    assert not page.get_by_label("New owner").is_visible()  # only the chosen action's fields
    apply.click()
    page.wait_for_url(re.compile(r"/followups/bulk/$"))
    assert page.get_by_text("Mark these 2 follow-ups done?").is_visible()
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/o/bulk-org/$"))
    assert page.get_by_text("2 follow-ups done.").is_visible()
    statuses = [FollowUp.objects.for_org(org).get(pk=r.pk).status for r in rows]
    assert statuses == [FollowUpStatus.DONE, FollowUpStatus.DONE, FollowUpStatus.OPEN]
    page.get_by_role("button", name=re.compile(r"^Undo")).click()
    page.get_by_text("Undone: 2 changed back as they were.").wait_for()
    assert all(FollowUp.objects.for_org(org).get(pk=r.pk).is_open for r in rows)
    console_errors.assert_none()


def test_snooze_by_keyboard_on_a_phone(live_server, phone, console_errors, day):
    log_in(phone, live_server.url, "rep@bulk.test", "bulk-org")
    assert horizontal_overflow(phone) <= 0
    phone.get_by_label("Select all").check()
    assert phone.get_by_text("3 selected").is_visible()
    phone.get_by_label("With the selected").select_option("snooze")
    assert phone.get_by_label("Postpone by", exact=True).first.is_visible()
    phone.get_by_role("button", name="Apply to selected").focus()
    phone.keyboard.press("Enter")
    phone.wait_for_url(re.compile(r"/followups/bulk/$"))
    assert horizontal_overflow(phone) <= 0
    phone.get_by_role("button", name="Confirm").focus()
    phone.keyboard.press("Enter")
    phone.get_by_text("3 follow-ups snoozed.").wait_for()
    assert horizontal_overflow(phone) <= 0
    for path in ("/o/bulk-org/followups/", "/o/bulk-org/customers/", "/o/bulk-org/team/",
                 "/o/bulk-org/notifications/"):  # fmt: skip
        phone.goto(live_server.url + path)
        assert horizontal_overflow(phone) <= 0, path
    console_errors.assert_none()


def test_change_the_owner_of_customers(live_server, page, console_errors, day):
    log_in(page, live_server.url, "rep@bulk.test", "bulk-org")
    page.goto(live_server.url + "/o/bulk-org/customers/")
    # The filters still narrow the list as they change; the header's search box does not.
    with page.expect_response(re.compile(r"/customers/\?.*tier=key")):
        page.locator("#customer-filters").get_by_label("Tier").select_option("key")
    page.get_by_text("No customer matches these filters.").wait_for()
    page.goto(live_server.url + "/o/bulk-org/customers/")
    requests = []
    page.on("request", lambda r: "/customers/?" in r.url and requests.append(r.url))
    page.get_by_role("combobox", name="Search").press_sequentially("cust", delay=20)
    page.get_by_role("listbox", name="Search results").wait_for()
    assert requests == []
    page.keyboard.press("Escape")
    page.get_by_label("Select Customer with a rather long name number 0").check()
    page.get_by_label("Select Customer with a rather long name number 2").check()
    page.get_by_label("With the selected").select_option("status")
    page.get_by_label("New status").select_option("at_risk")
    page.get_by_role("button", name="Apply to selected").click()
    assert page.get_by_text("Set the status of these 2 customers to At risk?").is_visible()
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("2 customers changed: At risk.").wait_for()
    assert page.get_by_role("button", name=re.compile(r"^Undo")).is_visible()
    console_errors.assert_none()
