"""Comments with an @mention, an edit and a deletion, in place (htmx), by keyboard."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from followup.engine.models import Comment, Notification
from tests.e2e.helpers import horizontal_overflow, log_in
from tests.engagements.factories import make_customer
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_comment_mention_edit_delete(live_server, phone, console_errors):
    org = OrganizationFactory(name="Talk Org", slug="talk-org")
    MembershipFactory(organization=org, role=Role.MEMBER, user__email="rep@talk.test")
    ann = MembershipFactory(
        organization=org,
        role=Role.MEMBER,
        user__email="ann@talk.test",
        user__display_name="Ann Lee",
    ).user
    customer = make_customer(org, name="Lumen Retail Group")
    log_in(phone, live_server.url, "rep@talk.test", "talk-org")
    phone.goto(f"{live_server.url}/o/talk-org/customers/{customer.pk}/")
    phone.evaluate("window.__sameDocument = true")

    box = phone.get_by_label("Add a comment")
    box.focus()
    box.press_sequentially("Please call them, @An", delay=30)
    option = phone.get_by_role("option", name="Ann Lee ann@talk.test")
    option.wait_for()
    assert box.get_attribute("aria-activedescendant") == option.get_attribute("id")
    phone.keyboard.press("Enter")
    assert box.input_value() == "Please call them, @Ann Lee "
    box.press_sequentially("before Friday. https://example.test/plan", delay=10)
    phone.get_by_role("button", name="Comment", exact=True).click()
    entry = phone.locator(".comment").filter(has_text="before Friday")
    entry.wait_for()
    assert entry.locator(".mention").inner_text() == "@Ann Lee"
    assert entry.get_by_role("link", name="https://example.test/plan").is_visible()
    assert Notification.objects.for_org(org).filter(recipient=ann).count() == 1

    entry.get_by_role("link", name="Edit this comment").click()
    editor = phone.get_by_label("Edit the comment")
    editor.fill("Please call them, @Ann Lee, on Monday.")
    phone.get_by_role("button", name="Save", exact=True).click()
    entry = phone.locator(".comment").filter(has_text="on Monday")
    entry.wait_for()
    assert entry.get_by_text("edited", exact=True).is_visible()
    entry.get_by_text("Edited 1 time: earlier text").click()
    assert entry.get_by_text("before Friday").is_visible()

    entry.get_by_role("button", name="Delete this comment").click()
    phone.get_by_text("Deleted by").wait_for()
    assert Comment.objects.for_org(org).get().deleted_at is not None
    assert phone.evaluate("window.__sameDocument") is True
    assert horizontal_overflow(phone) <= 0
    console_errors.assert_none()
