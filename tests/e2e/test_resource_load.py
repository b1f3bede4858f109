"""A resource manager opens the organization-wide load on a laptop and on a phone: the
over-allocated week is marked in words, the drill-down names the two projects' items
causing it, and the page does not overflow at 375 px."""

from __future__ import annotations

from datetime import date

import pytest

from accounts.roles import Role
from projects import resources
from tests.e2e.helpers import horizontal_overflow, log_in
from tests.factories import MembershipFactory, OrganizationFactory
from tests.projects.factories import item, make_project

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MONDAY = date(2027, 1, 4)


def _over_allocated_person(org, user) -> None:
    res = resources.resource_create(
        org=org, actor=None, data={"kind": "person", "user": user, "weekly_capacity_hours": 40}
    )
    for code, name, hours in (("A-1", "Install conveyor", 6), ("B-1", "Commission robot", 4)):
        project = make_project(org, code=code, name=f"Line {code}", start_date=MONDAY)
        work = item(org, project, name, 5)
        resources.allocation_create(
            org=org, actor=None, work_item=work, resource=res, per_day=hours
        )
    press = resources.resource_create(
        org=org,
        actor=None,
        data={
            "kind": "equipment",
            "name": "Press 2",
            "unit": "machine hours",
            "available_per_day": 8,
        },
    )
    project = make_project(org, code="C-1", name="Line C-1", start_date=MONDAY)
    work = item(org, project, "Stamp panels", 3)
    resources.allocation_create(org=org, actor=None, work_item=work, resource=press, per_day=4)


@pytest.mark.parametrize("device", ["page", "phone"])
def test_the_load_view_marks_over_allocation_on_laptop_and_phone(
    live_server, device, request, console_errors
):
    browser_page = request.getfixturevalue(device)
    org = OrganizationFactory(name="Load Org", slug="load-org")
    manager = MembershipFactory(
        organization=org,
        role=Role.MEMBER,
        user__email="rm@load.test",
        user__display_name="Rita Resource",
    ).user
    _over_allocated_person(org, manager)
    base = live_server.url
    log_in(browser_page, base, "rm@load.test", "load-org")
    browser_page.goto(base + "/o/load-org/projects/resources/load/?start=2027-01-04&weeks=26")
    table = browser_page.locator("table.load-table")
    assert table.is_visible()
    assert browser_page.locator("td.over").count() == 1
    assert browser_page.locator("td.over .badge").inner_text() == "Over"
    assert horizontal_overflow(browser_page) <= 0
    over = browser_page.locator(".over-list")
    assert "Rita Resource" in over.inner_text()
    assert "Install conveyor" in over.inner_text() and "Commission robot" in over.inner_text()
    # Drill down from the marked week to the resource's items of that week.
    browser_page.locator("td.over a").click()
    browser_page.wait_for_url("**/projects/resources/**")
    week = browser_page.locator(".load-week.over")
    assert week.count() == 1
    assert "Over-allocated" in week.inner_text()
    assert "A-1" in week.inner_text() and "B-1" in week.inner_text()
    assert horizontal_overflow(browser_page) <= 0
    console_errors.assert_none()
