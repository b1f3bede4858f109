"""A project manager plans a project in the browser: from the default template, a pasted
outline, a link, the critical path on the Gantt (laptop and phone), and a planning gate that
says why it does not open."""

from __future__ import annotations

import re

import pytest

from accounts.roles import Role
from projects.models import Project, WorkItem
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OUTLINE = """Design | 3d
  Requirements | 2d
  Review | 0d
Build | 5d
Test | 2d
Go-live | 0d
"""


def _log_in(page, base_url: str, email: str) -> None:
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _no_page_overflow(page) -> bool:
    return (
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        <= 0
    )


def test_plan_a_project_and_meet_the_planning_gate(live_server, page, phone, console_errors):
    org = OrganizationFactory(name="Line Org", slug="line-org")
    manager = MembershipFactory(
        organization=org,
        role=Role.MEMBER,
        user__email="pm@line.test",
        user__display_name="Pat Manager",
    ).user
    base = live_server.url
    _log_in(page, base, "pm@line.test")
    page.wait_for_url(re.compile(r"/o/line-org/$"))

    # A project from the default template.
    page.get_by_role("link", name="Projects", exact=True).click()
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Code").fill("PL-6M")
    page.get_by_label("Name", exact=True).fill("New production line in six months")
    page.get_by_label("Objective").fill("Bring the new line into operation")
    page.get_by_label("Success criteria").fill("Line runs at 85 % OEE")
    page.get_by_label("Sponsor").select_option(label="Pat Manager")
    page.get_by_label("Start date").fill("2027-01-04")
    page.get_by_label("Target finish date").fill("2027-06-30")
    page.get_by_role("button", name="Create project").click()
    page.get_by_text("Project PL-6M created.").wait_for()
    assert page.get_by_text("Gate: leave Initiating").is_visible()
    project = Project.objects.for_org(org).get(code="PL-6M")
    assert [p.key for p in project.phases.all()] == [
        "initiating",
        "planning",
        "executing",
        "monitoring",
        "closing",
    ]

    # Paste an outline into the WBS.
    page.get_by_role("link", name="WBS", exact=True).click()
    page.get_by_role("link", name="Paste an outline").click()
    page.get_by_label("Outline").fill(OUTLINE)
    page.get_by_role("button", name="Add to the WBS").click()
    page.get_by_text("6 work items added to the WBS.").wait_for()
    assert page.locator("#outline tr.wbs-row").count() == 6

    # The keyboard moves a row: Tab indents it, Shift+Tab brings it back.
    go_live = WorkItem.objects.for_org(org).get(name="Go-live")
    row = page.locator(f"#wi-{go_live.pk}")
    row.focus()
    with page.expect_response(re.compile(r"/move/$")):
        page.keyboard.press("Tab")
    page.locator(f"#wi-{go_live.pk} td").first.filter(has_text="3.1").wait_for()
    assert page.evaluate("document.activeElement.id") == f"wi-{go_live.pk}"
    with page.expect_response(re.compile(r"/move/$")):
        page.keyboard.press("Shift+Tab")
    page.locator(f"#wi-{go_live.pk} td").first.filter(has_text="4").wait_for()

    # Link two items: Build, then Test.
    page.get_by_role("link", name="Link two items").click()
    page.get_by_label("Predecessor").select_option(label="2 Build")
    page.get_by_label("Successor").select_option(label="3 Test")
    page.get_by_role("button", name="Link", exact=True).click()
    page.get_by_text("Linked.").wait_for()

    # The critical path on the Gantt, in colour and in words.
    page.get_by_role("link", name="Gantt", exact=True).click()
    page.locator("svg.gantt").wait_for()
    critical = page.locator("svg.gantt .gantt-row.crit")
    assert critical.count() >= 2  # Build and Test (and Go-live)
    assert page.locator("svg.gantt text.gantt-crit").first.text_content() == "critical"
    titles = page.locator("svg.gantt .gantt-row.crit title").all_text_contents()
    assert any(t.startswith("2 Build") and "critical" in t for t in titles)
    page.get_by_role("link", name="Day", exact=True).click()
    page.locator('.zoom a[aria-current="true"]', has_text="Day").wait_for()
    assert _no_page_overflow(page)

    # The same Gantt on a phone: the chart scrolls inside its box, the page does not.
    gantt_url = page.url
    _log_in(phone, base, "pm@line.test")
    phone.wait_for_url(re.compile(r"/o/line-org/$"))
    phone.goto(gantt_url)
    phone.locator("svg.gantt .gantt-row.crit").first.wait_for(state="attached")
    assert phone.locator("svg.gantt text.gantt-crit").count() >= 2
    assert _no_page_overflow(phone)
    box = phone.locator(".gantt-scroll").bounding_box()
    assert box is not None and box["width"] <= 375

    # The initiating gate opens with the sponsor's attestation.
    page.get_by_role("link", name="Overview").click()
    page.locator("#gate summary", has_text="Attest").click()
    page.locator("#gate").get_by_label("Evidence", exact=True).fill("Charter signed")
    page.locator("#gate").get_by_role("button", name="Attest").click()
    page.get_by_text("Attested. The gate shows it now.").wait_for()
    page.get_by_role("button", name="Record the decision").click()
    page.get_by_text("Gate passed: the project is now in Planning.").wait_for()

    # The planning gate does not open, and says why.
    page.get_by_role("button", name="Record the decision").click()
    refusal = page.locator("#gate-refused")
    refusal.wait_for()
    text = refusal.inner_text()
    assert "The gate is not passed" in text
    assert "Project plan approved by the sponsor" in text and "Not attested yet" in text
    assert Project.objects.for_org(org).select_related("phase").get(pk=project.pk).phase.key == (
        "planning"
    )
    assert manager.pk == Project.objects.for_org(org).get(pk=project.pk).sponsor_id
    console_errors.assert_none()
