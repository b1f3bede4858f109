"""Change control in the browser: the manager sets the baseline, drafts a change request and
sees its impact, the sponsor approves it on a phone and implements it, and the Gantt's
ghost bars move to baseline 2."""

from __future__ import annotations

import re

import pytest

from accounts.roles import Role
from projects import services
from projects.models import Baseline, ChangeRequest
from tests.e2e.helpers import horizontal_overflow, log_in
from tests.factories import MembershipFactory, OrganizationFactory
from tests.projects.factories import item, link, make_project

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _ghost_finish(page, name: str) -> str:
    """The baseline's planned finish drawn under the row of ``name``."""
    row = page.locator("g.gantt-row").filter(has=page.locator("title", has_text=name)).first
    return row.locator("rect.gantt-baseline").get_attribute("data-finish") or ""


def test_a_change_request_from_draft_to_implemented_moves_the_ghost_bars(
    live_server, page, phone, console_errors
):
    org = OrganizationFactory(name="Line Org", slug="line-org")
    manager = MembershipFactory(
        organization=org,
        role=Role.MEMBER,
        user__email="pm@line.test",
        user__display_name="Pat Manager",
    ).user
    sponsor = MembershipFactory(
        organization=org,
        role=Role.MEMBER,
        user__email="sponsor@line.test",
        user__display_name="Sam Sponsor",
    ).user
    project = make_project(org, code="PL-1", name="Line", manager=manager, sponsor=sponsor)
    a = item(org, project, "Layout", 3)
    b = item(org, project, "Install", 2)
    link(org, a, b)
    services.project_decide(org=org, actor=manager, project=project, decision="resume")
    base = live_server.url

    # The manager sets baseline 1 from the project page.
    log_in(page, base, "pm@line.test", "line-org")
    page.goto(f"{base}/o/line-org/projects/{project.pk}/")
    page.get_by_role("button", name="Set the baseline").click()
    page.get_by_text("Baseline 1 is set.").wait_for()
    page.goto(f"{base}/o/line-org/projects/{project.pk}/gantt/")
    assert _ghost_finish(page, "2 Install") == "2027-01-08"

    # A change request: Install takes 4 days; its impact shows before anyone decides.
    page.get_by_role("link", name="Change requests").first.click()
    page.get_by_label("Title").fill("Install takes longer")
    page.get_by_label("Reason").fill("The crane arrives late.")
    page.get_by_label("Work package to change").select_option(label="2 Install")
    page.get_by_label("New duration (working days)").fill("4")
    page.get_by_role("button", name="Draft the change request").click()
    page.wait_for_url(re.compile(r"/change-requests/[0-9a-f-]+/$"))
    assert page.locator("#impact-finish").inner_text() == "2027-01-12"
    page.get_by_role("button", name="Submit for a decision").click()
    page.get_by_text("Submitted for a decision.").wait_for()
    assert page.get_by_role("button", name="Approve").count() == 0  # not the requester's
    cr_url = page.url

    # The sponsor, on a phone, approves and implements.
    log_in(phone, base, "sponsor@line.test", "line-org")
    phone.goto(cr_url)
    assert horizontal_overflow(phone) <= 0
    phone.get_by_label("Note").fill("Agreed in the steering committee.")
    phone.get_by_role("button", name="Approve").click()
    phone.get_by_text("Approved.").wait_for()
    phone.get_by_role("button", name="Implement (creates the next baseline)").click()
    phone.get_by_text("Implemented: the next baseline is set.").wait_for()
    assert ChangeRequest.objects.for_org(org).get().status == "implemented"
    assert Baseline.objects.for_org(org).filter(project=project).count() == 2

    # The ghost bars are baseline 2's now; the change log says who approved.
    page.goto(f"{base}/o/line-org/projects/{project.pk}/gantt/")
    assert _ghost_finish(page, "2 Install") == "2027-01-12"
    page.goto(f"{base}/o/line-org/projects/{project.pk}/")
    log = page.locator("#change-log")
    assert "CR-1 Install takes longer" in log.inner_text()
    assert "Sam Sponsor" in log.inner_text()
    phone.goto(f"{base}/o/line-org/projects/{project.pk}/")
    assert horizontal_overflow(phone) <= 0
    console_errors.assert_none()
