"""Click-to-call on a phone, then "Log this call with Ann Lee?" when the page shows again."""

from __future__ import annotations

import re

import pytest

from accounts.roles import Role
from engagements.models import Touchpoint
from tests.e2e.helpers import horizontal_overflow, log_in
from tests.engagements.factories import make_contact, make_customer, make_engagement
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Headless Chromium has no dialer: the test keeps the tel: link from navigating, then plays
# the phone's part (the dialer hides the page, hanging up shows it again).
NO_DIALER = """
window.addEventListener("click", (event) => {
  if (event.target.closest('a[href^="tel:"]')) event.preventDefault();
}, true);
"""
VISIBILITY = """(state) => {
  Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_call_then_log_the_call(live_server, phone, console_errors):
    org = OrganizationFactory(name="Call Org", slug="call-org")
    MembershipFactory(organization=org, role=Role.MEMBER, user__email="rep@call.test")
    customer = make_customer(org, name="Lumen Retail Group")
    make_engagement(org, customer=customer)
    ann = make_contact(org, customer=customer, name="Ann Lee", phone="+8613800138000")
    log_in(phone, live_server.url, "rep@call.test", "call-org")
    phone.goto(f"{live_server.url}/o/call-org/customers/{customer.pk}/")
    phone.evaluate("() => { " + NO_DIALER + " }")
    link = phone.get_by_role("link", name=re.compile(r"\+86 138 0013 8000"))
    assert link.get_attribute("href") == "tel:+8613800138000"
    assert horizontal_overflow(phone) <= 0
    prompt = phone.get_by_role("region", name="Log this call")
    assert prompt.is_hidden()

    link.tap()
    assert prompt.is_hidden()  # the call is still going on
    phone.evaluate(VISIBILITY, "hidden")
    phone.evaluate(VISIBILITY, "visible")
    prompt.wait_for()
    assert prompt.get_by_text("Log this call with Ann Lee?").is_visible()
    assert horizontal_overflow(phone) <= 0

    prompt.get_by_role("link", name="Log the call").tap()
    phone.wait_for_url(re.compile(r"/touchpoints/log/\?"))
    assert phone.get_by_label("Call", exact=True).is_checked()
    assert phone.get_by_label("Customer", exact=True).input_value() == str(customer.pk)
    phone.get_by_text("More details").tap()
    assert phone.get_by_label("Ann Lee").is_checked()
    assert phone.get_by_role("region", name="Log this call").is_hidden()
    phone.get_by_label("Summary").fill("Agreed on the spring order")
    phone.get_by_role("button", name="Log touchpoint", exact=True).tap()
    phone.locator("#timeline li").filter(has_text="Agreed on the spring order").wait_for()
    touchpoint = Touchpoint.objects.for_org(org).get()
    assert touchpoint.channel == "call"
    assert list(touchpoint.contacts.values_list("pk", flat=True)) == [ann.pk]
    console_errors.assert_none()


def test_dismissed_prompts_stay_away(live_server, phone, console_errors):
    org = OrganizationFactory(name="Call Org 2", slug="call-org-2")
    MembershipFactory(organization=org, role=Role.MEMBER, user__email="rep2@call.test")
    customer = make_customer(org, name="Huaxin Precision")
    make_contact(org, customer=customer, name="Wang Li", phone="021 5555 1234")
    log_in(phone, live_server.url, "rep2@call.test", "call-org-2")
    phone.goto(f"{live_server.url}/o/call-org-2/customers/{customer.pk}/")
    phone.evaluate("() => { " + NO_DIALER + " }")
    phone.get_by_role("link", name=re.compile("021 5555 1234")).tap()
    phone.evaluate(VISIBILITY, "hidden")
    phone.evaluate(VISIBILITY, "visible")
    prompt = phone.get_by_role("region", name="Log this call")
    prompt.get_by_role("button", name="Not now").tap()
    assert prompt.is_hidden()
    phone.reload()
    assert phone.get_by_role("region", name="Log this call").is_hidden()
    console_errors.assert_none()
