"""A manager reads the risk matrix on a phone: it fits 375 px, every cell says its level in
words, and a cell is a link to the register filtered to that cell."""

from __future__ import annotations

import re

import pytest

from accounts.roles import Role
from tests.e2e.helpers import horizontal_overflow, log_in
from tests.engagements.factories import make_customer
from tests.factories import MembershipFactory, OrganizationFactory
from tests.projects.factories import make_project
from tests.risks.factories import make_risk

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_matrix_fits_a_phone_and_cells_open_the_filtered_register(
    live_server, phone, page, console_errors
):
    org = OrganizationFactory(name="Risk Org", slug="risk-org")
    MembershipFactory(organization=org, role=Role.MEMBER, user__email="rm@risk.test")
    project = make_project(org, code="NW-INT", name="Integration")
    late = make_risk(
        org,
        project,
        title="ERP interface late",
        probability=4,
        impact=5,
        severity=8,
        occurrence=6,
        detection=5,
        indicator_name="Open interface defects",
        indicator_amber="5",
        indicator_red="10",
    )
    make_risk(org, project, title="Data quality", probability=3, impact=3)
    make_risk(org, make_customer(org, name="Lumen"), title="Seasonal peak", probability=3, impact=3)

    base = live_server.url
    log_in(phone, base, "rm@risk.test", "risk-org")
    phone.goto(f"{base}/o/risk-org/risks/matrix/")
    matrix = phone.locator("svg.risk-matrix")
    matrix.wait_for()
    assert horizontal_overflow(phone) <= 0
    box = matrix.bounding_box()
    assert box is not None and box["width"] <= 375 and box["width"] >= 250
    # Level as a word, not colour alone.
    words = matrix.text_content() or ""
    assert "High" in words and "Medium" in words and "Low" in words

    phone.locator('svg.risk-matrix a[aria-label^="Probability 3, impact 3"]').click()
    phone.wait_for_url(re.compile(r"/o/risk-org/risks/\?.*p=3.*i=3"))
    body = phone.locator("#risk-results").inner_text()
    assert "Data quality" in body and "Seasonal peak" in body
    assert "ERP interface late" not in body
    assert horizontal_overflow(phone) <= 0

    # The risk's page on the phone: score history and the indicator chart fit too.
    phone.goto(f"{base}/o/risk-org/risks/{late.pk}/")
    phone.get_by_label("Value").fill("12")
    phone.get_by_role("button", name="Record reading").click()
    phone.wait_for_url(re.compile(rf"/risks/{late.pk}/$"))
    assert phone.locator("svg#kri, svg[aria-labelledby^='kri-title']").count() == 1
    assert horizontal_overflow(phone) <= 0

    # The per-project matrix on a laptop counts only that project.
    log_in(page, base, "rm@risk.test", "risk-org")
    page.goto(f"{base}/o/risk-org/projects/{project.pk}/risk-matrix/")
    cell = page.locator('svg.risk-matrix a[aria-label^="Probability 3, impact 3"]')
    assert "1 risks" in (cell.get_attribute("aria-label") or "")
    page.goto(f"{base}/o/risk-org/risks/")
    assert horizontal_overflow(page) <= 0
    console_errors.assert_none()
