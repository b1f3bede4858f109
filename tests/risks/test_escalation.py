"""Escalation: an occurred business risk becomes one project risk and one hold request per
live project of its customer, however often the signal repeats; nothing elsewhere."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engagements.models import Touchpoint
from followup.engine.models import Notification
from followup.kernel.models import Event
from projects import control
from projects import services as project_services
from projects.models import ChangeRequest, Project, ProjectStatus
from risks import escalation, monitoring, services
from risks.models import Escalation, Risk, RiskStatus, Side
from tests.engagements.factories import log, make_customer, make_engagement
from tests.factories import MembershipFactory
from tests.projects.factories import fresh, make_project
from tests.risks.factories import make_risk

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org, other_org, member, owner, outsider):
    customer = make_customer(org, name="Acme Retail")
    engagement = make_engagement(org, customer=customer, owner=member)
    active = make_project(org, engagement=engagement, manager=member, sponsor=owner)
    Project.objects.for_org(org).filter(pk=active.pk).update(status=ProjectStatus.ACTIVE)
    proposed = make_project(org, engagement=engagement, manager=member, sponsor=owner)
    closed = make_project(org, engagement=engagement, manager=member, sponsor=owner)
    project_services.project_decide(org=org, actor=owner, project=closed, decision="kill")
    other_customer = make_project(
        org, engagement=make_engagement(org), manager=member, sponsor=owner
    )
    # The same story in another organization: must stay untouched.
    foreign_customer = make_customer(other_org, name="Acme Retail")
    foreign = make_project(
        other_org,
        engagement=make_engagement(other_org, customer=foreign_customer),
        manager=outsider,
        sponsor=outsider,
    )
    risk = make_risk(org, customer, title="Customer may cancel", probability=4, impact=5)
    return {
        "customer": customer,
        "engagement": engagement,
        "live": [fresh(active), proposed],
        "closed": closed,
        "other_customer": other_customer,
        "foreign": foreign,
        "risk": risk,
    }


def escalated(org):
    return Risk.objects.for_org(org).filter(escalated_from__isnull=False)


def test_an_occurred_business_risk_escalates_once_into_each_live_project(org, member, world):
    risk = services.risk_occur(org=org, actor=member, risk=world["risk"])
    event = Event.objects.for_org(org).get(type="risk.occurred")
    for _ in range(3):  # the outbox retrying, a person pressing "escalate" again
        escalation.on_risk_occurred(event)
        services.risk_escalate(org=org, actor=member, risk=risk)
    rows = list(escalated(org).order_by("project__code"))
    assert sorted(r.project_id for r in rows) == sorted(p.pk for p in world["live"])
    for row in rows:
        assert row.escalated_from_id == risk.pk
        assert row.side == Side.PROJECT
        assert row.owner == member  # the project manager
        assert (row.probability, row.impact) == (4, 5)
    holds = ChangeRequest.objects.for_org(org)
    assert sorted(h.project_id for h in holds) == sorted(p.pk for p in world["live"])
    assert all(h.changes == [{"kind": "project_status", "status": "on_hold"}] for h in holds)
    assert Escalation.objects.for_org(org).count() == 2
    assert Event.objects.for_org(org).filter(type="risk.escalated").count() == 1
    told = Notification.objects.for_org(org).filter(kind="risk.escalated_to_project")
    assert told.count() == 2 and {n.recipient for n in told} == {member}


def test_nothing_for_closed_projects_other_customers_or_other_organizations(
    org, other_org, member, world
):
    risk = services.risk_occur(org=org, actor=member, risk=world["risk"])
    escalation.escalate(org=org, actor=member, risk=risk)
    touched = set(escalated(org).values_list("project_id", flat=True))
    assert world["closed"].pk not in touched
    assert world["other_customer"].pk not in touched
    assert not Risk.objects.for_org(other_org).exists()
    assert not ChangeRequest.objects.for_org(other_org).exists()
    assert not ChangeRequest.objects.for_org(org).filter(project=world["closed"]).exists()


def test_a_cancellation_touchpoint_raises_an_occurred_risk_that_escalates(org, member, world):
    for _ in range(2):  # the customer cancels, and the rep logs it twice
        tp = log(
            org,
            world["customer"],
            actor=member,
            engagement=world["engagement"],
            business_event=Touchpoint.BusinessEvent.CANCELLATION,
            outcome="Order 4711 cancelled",
        )
        monitoring.check_touchpoint(org=org, touchpoint_id=tp.pk)
    raised = Risk.objects.for_org(org).filter(signal__rule="cancellation")
    assert raised.count() == 1
    assert raised.get().status == RiskStatus.OCCURRED
    assert raised.get().side == Side.BUSINESS
    assert escalated(org).count() == 2
    assert ChangeRequest.objects.for_org(org).count() == 2


def test_a_business_risk_of_a_customer_without_projects_escalates_into_nothing(org, member):
    risk = make_risk(org, make_customer(org))
    services.risk_occur(org=org, actor=member, risk=risk)
    escalation.escalate(org=org, actor=member, risk=risk)
    assert not escalated(org).exists()


def test_a_project_risk_escalates_upwards_into_no_other_register(org, member, world):
    project_risk = make_risk(org, world["live"][0])
    for _ in range(2):
        escalation.escalate(org=org, actor=member, risk=project_risk)
    assert fresh(project_risk).strategy == "escalate"
    assert not escalated(org).exists()
    assert not ChangeRequest.objects.for_org(org).exists()
    assert Event.objects.for_org(org).filter(type="risk.escalated").count() == 1


def test_the_contingency_of_an_occurred_project_risk_is_drawn_once(org, owner, world):
    project = world["live"][1]  # proposed: no baseline yet, the reserve can be set aside
    control.reserve_set_aside(
        org=org, actor=owner, project=project, reserve="contingency", amount="1000", reason="Plan"
    )
    risk = make_risk(org, project, contingency_amount=Decimal("400"))
    with pytest.raises(escalation.EscalationRefused):
        escalation.contingency_draw(org=org, actor=owner, risk=risk)  # not occurred yet
    risk = services.risk_occur(org=org, actor=owner, risk=risk)
    escalation.contingency_draw(org=org, actor=owner, risk=risk)
    assert escalation.contingency_balance(org, project) == Decimal("600")
    assert escalation.contingency_drawn(org, risk) == Decimal("400")
    with pytest.raises(escalation.EscalationRefused):
        escalation.contingency_draw(org=org, actor=owner, risk=risk)
    assert escalation.contingency_balance(org, project) == Decimal("600")


def test_the_contingency_never_goes_negative_without_a_change_request(org, owner, world):
    project = world["live"][1]
    control.reserve_set_aside(
        org=org, actor=owner, project=project, reserve="contingency", amount="100", reason="Plan"
    )
    risk = make_risk(org, project, contingency_amount=Decimal("400"))
    risk = services.risk_occur(org=org, actor=owner, risk=risk)
    with pytest.raises(escalation.EscalationRefused):
        escalation.contingency_draw(org=org, actor=owner, risk=risk)
    assert escalation.contingency_balance(org, project) == Decimal("100")


def test_reverse_escalation_on_slip_raises_one_business_risk_on_the_engagement(org, member, world):
    project = world["live"][0]
    Project.objects.for_org(org).filter(pk=project.pk).update(slip_days=7)
    for _ in range(3):
        monitoring.check_project(org=org, project_id=project.pk)
    raised = Risk.objects.for_org(org).filter(signal__rule="project_slip")
    assert raised.count() == 1
    risk = raised.get()
    assert risk.side == Side.BUSINESS
    assert risk.engagement_id == world["engagement"].pk
    assert project.code in risk.title
    # On time again: nothing new.
    Project.objects.for_org(org).filter(pk=project.pk).update(slip_days=0)
    monitoring.check_project(org=org, project_id=project.pk)
    assert raised.count() == 1


def test_a_member_of_another_org_as_manager_is_not_notified(org, other_org, world, owner):
    stranger = MembershipFactory(organization=other_org).user
    project = world["live"][0]
    Project.objects.for_org(org).filter(pk=project.pk).update(manager=stranger)
    risk = services.risk_occur(org=org, actor=owner, risk=world["risk"])
    escalation.escalate(org=org, actor=owner, risk=risk)
    row = escalated(org).get(project=project)
    assert row.owner is None
    assert not Notification.objects.filter(recipient=stranger).exists()


def test_project_status_unchanged_until_the_sponsor_decides(org, member, world):
    risk = services.risk_occur(org=org, actor=member, risk=world["risk"])
    escalation.escalate(org=org, actor=member, risk=risk)
    assert fresh(world["live"][0]).status == ProjectStatus.ACTIVE


def test_the_risk_page_shows_the_balance_and_draws_once(org, owner, owner_client, world):
    project = world["live"][1]
    control.reserve_set_aside(
        org=org, actor=owner, project=project, reserve="contingency", amount="500", reason="Plan"
    )
    risk = services.risk_occur(
        org=org, actor=owner, risk=make_risk(org, project, contingency_amount=Decimal("200"))
    )
    page = f"/o/{org.slug}/risks/{risk.pk}/"
    body = owner_client.get(page).content.decode()
    assert "500.00" in body and "Draw 200.00" in body
    draw = f"/o/{org.slug}/risks/{risk.pk}/contingency/"
    assert owner_client.post(draw).status_code == 302
    assert owner_client.post(draw).status_code == 302  # refused with a message, no change
    assert escalation.contingency_balance(org, project) == Decimal("300")
    body = owner_client.get(page).content.decode()
    assert "300.00" in body and "Draw 200.00" not in body


def test_reverse_escalation_on_spi_raises_one_business_risk_and_cpi_above_its_limit_none(
    org, member, world, monkeypatch
):
    """A project whose SPI falls under the organization's limit (0.9 by default) puts the
    customer relationship at risk: one business risk on its engagement however often the
    check runs; a CPI above its limit raises nothing. Without a baseline (no earned value
    yet: SPI undefined) nothing is raised either."""
    from types import SimpleNamespace

    project = world["live"][0]
    raised = Risk.objects.for_org(org).filter(signal__rule="project_performance")
    monitoring.check_project(org=org, project_id=project.pk)  # real earned value: no baseline
    assert raised.count() == 0

    figures = SimpleNamespace(spi=Decimal("0.80"), cpi=Decimal("0.95"))
    monkeypatch.setattr(monitoring.evm, "figures", lambda o, p, d: figures)
    for _ in range(3):
        monitoring.check_project(org=org, project_id=project.pk)
    assert raised.count() == 1
    risk = raised.get()
    assert risk.side == Side.BUSINESS
    assert risk.engagement_id == world["engagement"].pk
    assert "SPI" in risk.title and "0.80" in risk.title and project.code in risk.title

    # Back above the limit: nothing new; under it for cost too: a second, separate risk.
    figures.spi, figures.cpi = Decimal("0.95"), Decimal("0.70")
    monitoring.check_project(org=org, project_id=project.pk)
    assert raised.count() == 2
    assert raised.filter(title__contains="CPI").count() == 1
