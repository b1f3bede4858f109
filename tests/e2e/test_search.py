"""The header's search box, driven by the keyboard alone, on a laptop and on a phone."""

from __future__ import annotations

import re

import pytest

from accounts.roles import Role
from tests.e2e.helpers import horizontal_overflow, log_in
from tests.engagements.factories import make_contact, make_customer, make_engagement
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lumen():
    org = OrganizationFactory(name="Search Org", slug="search-org")
    MembershipFactory(organization=org, role=Role.MEMBER, user__email="rep@search.test")
    customer = make_customer(org, name="Lumen Retail Group")
    make_contact(org, customer=customer, name="Ann Lumenberg")
    make_engagement(org, customer=customer, name="Lumen store roll-out")
    return customer


def test_slash_opens_search_and_arrows_pick_a_result(live_server, page, console_errors, lumen):
    log_in(page, live_server.url, "rep@search.test", "search-org")
    page.locator("main").click()
    page.keyboard.press("/")
    box = page.get_by_role("combobox", name="Search")
    assert box.evaluate("el => el === document.activeElement")
    box.press_sequentially("lumen", delay=30)
    listbox = page.get_by_role("listbox", name="Search results")
    listbox.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    assert listbox.get_by_role("group", name="Customers").is_visible()
    assert listbox.get_by_role("group", name="Contacts").is_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    assert "Ann Lumenberg" in page.locator(f"#{active}").inner_text()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/customers/{lumen.pk}/$"))

    # Ctrl-K from anywhere, Escape closes, Enter without a highlight opens the search page.
    page.keyboard.press("Control+k")
    box.fill("")
    box.press_sequentially("roll", delay=30)
    listbox.wait_for()
    page.keyboard.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=roll$"))
    assert page.get_by_role("link", name="Lumen store roll-out").is_visible()
    console_errors.assert_none()


def test_search_fits_a_phone(live_server, phone, console_errors, lumen):
    log_in(phone, live_server.url, "rep@search.test", "search-org")
    box = phone.get_by_role("combobox", name="Search")
    box.tap()
    box.press_sequentially("lum", delay=30)
    phone.get_by_role("listbox", name="Search results").wait_for()
    assert horizontal_overflow(phone) <= 0
    phone.get_by_role("option", name=re.compile("^Lumen Retail Group")).tap()
    phone.wait_for_url(re.compile(rf"/customers/{lumen.pk}/$"))
    assert horizontal_overflow(phone) <= 0
    console_errors.assert_none()
