"""The cascade in the browser: a rep records a cancellation on a phone (375 px); the
project manager sees the escalated project risk, linked both ways, with the drafted hold
request; the sponsor opens the risk matrix.

The outbox relay that a worker would run is run here in the test (no worker in browser
tests): the touchpoint's event reaches the early-warning rule, which raises the occurred
business risk and escalates it.
"""

from __future__ import annotations

import re

import pytest

from accounts.roles import Role
from followup.kernel import events
from followup.kernel.models import Event
from projects.models import ChangeRequest, Project, ProjectStatus
from risks.models import Risk
from tests.e2e.helpers import horizontal_overflow, log_in
from tests.engagements.factories import make_customer, make_engagement
from tests.factories import MembershipFactory, OrganizationFactory
from tests.projects.factories import make_project

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_cancellation_on_a_phone_reaches_the_project_and_the_sponsor(
    live_server, phone, page, console_errors
):
    org = OrganizationFactory(name="Cascade Org", slug="cascade")
    rep = MembershipFactory(organization=org, role=Role.MEMBER, user__email="rep@c.test").user
    manager = MembershipFactory(
        organization=org, role=Role.MANAGER, user__email="pm@c.test", user__display_name="Pia PM"
    ).user
    MembershipFactory(organization=org, role=Role.OWNER, user__email="sp@c.test")
    customer = make_customer(org, name="Delta Components", owner=rep)
    engagement = make_engagement(org, customer=customer, owner=rep)
    project = make_project(
        org, code="DLT-IT", name="Delta order tracking", engagement=engagement, manager=manager
    )
    Project.objects.for_org(org).filter(pk=project.pk).update(status=ProjectStatus.ACTIVE)

    # The rep, on the phone.
    log_in(phone, live_server.url, "rep@c.test", "cascade")
    phone.goto(live_server.url + "/o/cascade/touchpoints/log/")
    with phone.expect_response(re.compile(r"/touchpoints/log/\?")):
        phone.get_by_label("Customer", exact=True).select_option(label="Delta Components")
    phone.get_by_text("Call", exact=True).click()
    phone.get_by_label("Summary").fill("They cancel the Q3 order: budget freeze")
    phone.get_by_text("More details").click()
    phone.get_by_label("Business event").select_option(label="Order cancelled")
    assert horizontal_overflow(phone) <= 0
    phone.get_by_role("button", name="Log touchpoint").click()
    phone.get_by_text("Logged for Delta Components.").wait_for()

    for event in Event.objects.for_org(org).filter(type="touchpoint.created"):
        events.relay(event)
    business = Risk.objects.for_org(org).get(signal__rule="cancellation")
    assert business.status == "occurred"
    escalated = Risk.objects.for_org(org).get(escalated_from=business)
    assert ChangeRequest.objects.for_org(org).filter(project=project).count() == 1

    # The project manager: the escalated risk, linked to the business risk and back.
    log_in(page, live_server.url, "pm@c.test", "cascade")
    page.goto(live_server.url + f"/o/cascade/risks/{escalated.pk}/")
    page.get_by_text("Escalated from").first.wait_for()
    page.get_by_role("link", name=business.title).first.click()
    page.wait_for_url(re.compile(rf"/risks/{business.pk}/$"))
    assert page.get_by_role("link", name=escalated.title).first.is_visible()
    hold = ChangeRequest.objects.for_org(org).get(project=project)
    assert hold.title == "Put the project on hold"
    page.goto(live_server.url + "/o/cascade/notifications/")
    page.get_by_text(re.compile("Escalated to DLT-IT")).first.wait_for()

    # The sponsor opens the matrix.
    page.context.clear_cookies()
    log_in(page, live_server.url, "sp@c.test", "cascade")
    page.goto(live_server.url + "/o/cascade/risks/matrix/")
    page.locator("svg").first.wait_for()
    assert page.get_by_role("link", name="Show residual ratings").is_visible()
    # The escalated project risk is in its cell (rated from the business risk, now an issue).
    p, i = escalated.probability, escalated.impact
    cell = page.locator(f'a[aria-label^="Probability {p}, impact {i}:"]').first
    assert (cell.get_attribute("aria-label") or "").endswith(", 1 risks")
    console_errors.assert_none()
