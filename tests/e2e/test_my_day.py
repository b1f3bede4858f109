"""My day in a real browser: one-click complete and snooze with htmx, no console errors,
and the page fits a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from followup.engine import services
from followup.engine.models import FollowUp, FollowUpStatus
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rep():
    org = OrganizationFactory(name="Acme", slug="acme")
    user = MembershipFactory(organization=org, role=Role.MEMBER, user__email="rep@acme.test").user
    late = services.followup_create(
        org=org, actor=user, title="Call Globex back", owner=user,
        due_at=timezone.now() - timedelta(hours=3), recurrence_rule="FREQ=WEEKLY",
    )  # fmt: skip
    today = services.followup_create(
        org=org, actor=user, title="Send the quote", owner=user,
        due_at=timezone.now() + timedelta(minutes=5),
    )  # fmt: skip
    return user, late, today


def log_in(page, live_server, email: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/o/acme/")


def test_complete_and_snooze_from_my_day(live_server, page, console_errors, rep):
    _user, late, today = rep
    log_in(page, live_server, "rep@acme.test")
    assert page.get_by_role("heading", name="My day").is_visible()
    row = page.locator(f"#fu-{late.pk}")
    assert row.get_by_text("Overdue").is_visible()

    row.get_by_role("button", name="Done").click()
    page.locator(f"#fu-{late.pk} .row-note").wait_for()
    assert "Next one" in page.locator(f"#fu-{late.pk} .row-note").inner_text()
    assert FollowUp.objects.dangerously_unscoped().get(pk=late.pk).status == FollowUpStatus.DONE
    # htmx swapped the row; the page itself did not reload.
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1

    snooze_row = page.locator(f"#fu-{today.pk}")
    snooze_row.get_by_label("Postpone by").select_option("1w")
    snooze_row.get_by_role("button", name="Snooze").click()
    page.locator(f"#fu-{today.pk} .row-note").wait_for()
    moved = FollowUp.objects.dangerously_unscoped().get(pk=today.pk)
    assert moved.due_at > timezone.now() + timedelta(days=6)
    console_errors.assert_none()


def test_my_day_fits_a_phone_and_works_by_keyboard(live_server, phone, console_errors, rep):
    _user, late, _today = rep
    log_in(phone, live_server, "rep@acme.test")
    overflow = phone.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    done = phone.locator(f"#fu-{late.pk}").get_by_role("button", name="Done")
    done.focus()
    phone.keyboard.press("Enter")
    phone.locator(f"#fu-{late.pk} .row-note").wait_for()
    console_errors.assert_none()
