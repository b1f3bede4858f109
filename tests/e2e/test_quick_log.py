"""A rep logs a touchpoint from the home page on a phone, without a page reload."""

from __future__ import annotations

import re

import pytest

from accounts.roles import Role
from engagements.models import Touchpoint
from tests.engagements.factories import make_customer, make_engagement
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(page, base_url: str, email: str) -> None:
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_quick_log_on_a_phone(live_server, phone, console_errors):
    org = OrganizationFactory(name="Phone Org", slug="phone-org")
    rep = MembershipFactory(
        organization=org,
        role=Role.MEMBER,
        user__email="rep@phone.test",
        user__timezone="Asia/Shanghai",
    ).user
    engagement = make_engagement(
        org, customer=make_customer(org, name="Lumen Retail Group", owner=rep), owner=rep
    )
    _log_in(phone, live_server.url, "rep@phone.test")
    phone.wait_for_url(re.compile(r"/o/phone-org/$"))

    phone.get_by_role("link", name="Log touchpoint").click()
    phone.wait_for_url(re.compile(r"/touchpoints/log/$"))
    phone.evaluate("window.__sameDocument = true")

    # Submitting without a summary: the error appears inline, the page stays.
    # Choosing the customer reloads the form with its engagements and contacts.
    with phone.expect_response(re.compile(r"/touchpoints/log/\?")):
        phone.get_by_label("Customer", exact=True).select_option(label="Lumen Retail Group")
    with phone.expect_response(re.compile(r"/touchpoints/log/$")):
        phone.get_by_role("button", name="Log touchpoint").click()
    phone.get_by_text("This field is required.").first.wait_for()

    phone.get_by_text("Visit", exact=True).click()
    phone.get_by_label("Summary").fill("Walked two stores before the seasonal peak")
    phone.get_by_role("button", name="Log touchpoint").click()

    entry = phone.locator("#timeline li").filter(
        has_text="Walked two stores before the seasonal peak"
    )
    entry.wait_for()
    assert phone.get_by_text("Logged for Lumen Retail Group.").is_visible()
    assert phone.evaluate("window.__sameDocument") is True  # no reload
    tp = Touchpoint.objects.for_org(org).get()
    assert (tp.channel, tp.engagement_id, tp.logged_by_id) == ("visit", engagement.pk, rep.pk)

    overflow = phone.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    console_errors.assert_none()


def test_quick_log_from_the_customer_page_by_keyboard(live_server, page, console_errors):
    org = OrganizationFactory(name="Desk Org", slug="desk-org")
    MembershipFactory(organization=org, role=Role.MEMBER, user__email="rep@desk.test")
    engagement = make_engagement(org, customer=make_customer(org, name="Huaxin Precision"))
    _log_in(page, live_server.url, "rep@desk.test")
    page.wait_for_url(re.compile(r"/o/desk-org/$"))
    page.goto(f"{live_server.url}/o/desk-org/customers/{engagement.customer_id}/")
    page.get_by_label("Summary").fill("Call about the new production line")
    page.get_by_label("Summary").focus()
    page.keyboard.press("Tab")  # to "More details"
    page.keyboard.press("Tab")  # to the submit button
    page.keyboard.press("Enter")
    page.locator("#timeline li").filter(has_text="Call about the new production line").wait_for()
    # The form stays on this customer, ready for the next entry.
    assert page.get_by_label("Customer", exact=True).input_value() == str(engagement.customer_id)
    assert not page.get_by_text("No touchpoints yet.").is_visible()
    # A second save, now that the timeline has entries: its out-of-band swaps still find
    # their targets (issue 11, defect 8: htmx:oobErrorNoTarget #timeline-empty on each save).
    page.get_by_label("Summary").fill("Sent the quotation")
    page.get_by_role("button", name="Log touchpoint").click()
    page.locator("#timeline li").filter(has_text="Sent the quotation").wait_for()
    assert page.locator("#timeline li").count() == 2
    console_errors.assert_none()


def test_answering_from_my_day_on_a_phone_then_undo(live_server, phone, console_errors):
    """Issue 11, defect 6: the confirmation says what happened and Undo takes it back."""
    from datetime import timedelta

    from django.utils import timezone

    from followup.engine import services as followup_services
    from followup.engine.models import FollowUp, FollowUpStatus

    org = OrganizationFactory(name="Phone Org", slug="phone-org")
    rep = MembershipFactory(organization=org, role=Role.MEMBER, user__email="rep@phone.test").user
    customer = make_customer(org, name="Acme Tools", owner=rep)
    due = timezone.now() + timedelta(hours=1)
    followup = followup_services.followup_create(
        org=org, actor=rep, title="Call Acme back", owner=rep, due_at=due, subject=customer
    )
    _log_in(phone, live_server.url, "rep@phone.test")
    phone.wait_for_url(re.compile(r"/o/phone-org/$"))
    phone.locator(f"#fu-{followup.pk}").get_by_role("link", name="Log touchpoint").click()
    phone.wait_for_url(re.compile(r"/touchpoints/log/\?"))
    phone.get_by_text("Call", exact=True).click()
    phone.get_by_label("Summary").fill("Agreed on the renewal")
    phone.get_by_role("button", name="Log touchpoint").click()

    status = phone.locator(".answered")
    status.get_by_text("Logged: Call with Acme Tools.").wait_for()
    assert "“Call Acme back” is done" in status.inner_text()
    assert FollowUp.objects.for_org(org).get(pk=followup.pk).status == FollowUpStatus.DONE
    undo = phone.get_by_role("button", name="Undo (5 min)")
    box = undo.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    undo.click()

    phone.get_by_text("is open again").wait_for()
    assert not Touchpoint.objects.for_org(org).exists()
    reopened = FollowUp.objects.for_org(org).get(pk=followup.pk)
    assert (reopened.status, reopened.due_at) == (FollowUpStatus.OPEN, followup.due_at)
    assert phone.locator("#timeline li").filter(has_text="Agreed on the renewal").count() == 0
    overflow = phone.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    console_errors.assert_none()
