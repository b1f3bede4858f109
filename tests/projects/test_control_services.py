"""The services other apps call: the contingency draw-down (the risk register's risk
responses) and drafting a change request programmatically ("put the project on hold")."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from projects import control
from projects.models import ReserveEntry
from tests.projects.factories import fresh, item, make_project


def test_contingency_is_drawn_down_for_a_risk_but_never_below_zero(org, owner):
    project = make_project(org, manager=owner)
    control.reserve_set_aside(
        org=org,
        actor=owner,
        project=project,
        reserve="contingency",
        amount="1000.00",
        reason="Identified risks",
    )
    risk_id = uuid.uuid4()

    entry = control.contingency_draw(
        org=org,
        actor=owner,
        project=project,
        amount=Decimal("400.00"),
        reason="Supplier late",
        risk=risk_id,
    )

    assert entry.amount == Decimal("-400.00") and entry.risk_id == risk_id
    assert control.reserve_balance(org, project, "contingency") == Decimal("600.00")
    with pytest.raises(control.ChangeRefused):
        control.contingency_draw(
            org=org, actor=owner, project=project, amount="600.01", reason="Too much"
        )
    with pytest.raises(ValidationError):
        control.contingency_draw(org=org, actor=owner, project=project, amount=1.5, reason="x")
    assert ReserveEntry.objects.for_org(org).filter(project=project).count() == 2


def test_a_change_request_drafted_by_code_puts_the_project_on_hold_when_implemented(
    org, owner, member
):
    project = make_project(org, manager=member, sponsor=owner)
    item(org, project, "Build", 3)
    control.baseline_create(org=org, actor=member, project=project, name="Plan")

    cr = control.change_request_draft(
        org=org,
        actor=None,
        project=project,
        title="Customer cancelled the order",
        reason="Escalated from the business risk",
        changes=[{"kind": "project_status", "status": "on_hold"}],
    )
    assert cr.status == "draft" and cr.impact["error"] == ""
    assert fresh(project).status == "proposed"  # the preview changed nothing
    control.change_request_submit(org=org, actor=member, cr=cr)
    control.change_request_approve(org=org, actor=owner, cr=cr, can=lambda capability: False)
    control.change_request_implement(org=org, actor=member, cr=cr)

    assert fresh(project).status == "on_hold"
    assert fresh(cr).status == "implemented"
