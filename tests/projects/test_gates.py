"""Phase gates: criteria checked from evidence or attested, decisions and their history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Membership
from followup.kernel.models import Event
from projects import gates, services
from projects.models import GateCriterion, PhaseTransition, Project
from tests.projects.factories import fresh, item, make_project


def planning_project(org, owner, member):
    """A project that passed its first gate and sits in Planning."""
    project = make_project(
        org,
        objective="Ship it",
        success_criteria=["It ships"],
        manager=member,
        sponsor=owner,
        target_finish_date=date(2027, 3, 1),
    )
    sponsor = Membership.objects.for_org(org).get(user=owner)
    services.criterion_attest(
        org=org,
        membership=sponsor,
        criterion=GateCriterion.objects.for_org(org).get(phase=project.phase, kind="attested"),
        note="Charter signed",
    )
    services.project_decide(org=org, actor=member, project=project, decision="go")
    project = Project.objects.for_org(org).select_related("phase").get(pk=project.pk)
    assert project.phase.key == "planning" and project.status == "active"
    return project


def unmet_of(org, project, member):
    with pytest.raises(services.GateRefused) as caught:
        services.project_decide(org=org, actor=member, project=project, decision="go")
    return caught.value.as_list()


def test_the_planning_gate_lists_what_is_missing_then_opens_once_evidence_exists(
    org, owner, member
):
    project = planning_project(org, owner, member)
    assert unmet_of(org, project, member) == [
        {"criterion": "The WBS has work items", "reason": "The WBS has no work items yet."},
        {
            "criterion": "The schedule finishes by the target finish date",
            "reason": "Nothing is scheduled yet.",
        },
        {
            "criterion": "Project plan approved by the sponsor",
            "reason": "Not attested yet: waiting for the sponsor.",
        },
    ]
    plan = item(org, project, "Write the plan", 3, phase=project.phase)
    item(org, project, "Build", 60)  # belongs to Planning too (the current phase)
    unmet = unmet_of(org, project, member)
    assert [u["criterion"] for u in unmet] == [
        "The schedule finishes by the target finish date",
        "All work items of the phase are done",
        "Project plan approved by the sponsor",
    ]
    assert "after the target finish 2027-03-01" in unmet[0]["reason"]
    assert "Write the plan" in unmet[1]["reason"] and "(2)" in unmet[1]["reason"]
    assert fresh(project).phase.key == "planning"  # a refusal changes nothing
    assert PhaseTransition.objects.for_org(org).filter(project=project).count() == 1

    build = project.work_items.get(name="Build")
    services.work_item_update(
        org=org, actor=None, item=build, data={"duration_days": 10, "percent_complete": 100}
    )
    services.work_item_update(
        org=org, actor=None, item=fresh(plan), data={"percent_complete": Decimal(100)}
    )
    sponsor = Membership.objects.for_org(org).get(user=owner)
    criterion = GateCriterion.objects.for_org(org).get(
        phase=project.phase, label="Project plan approved by the sponsor"
    )
    services.criterion_attest(
        org=org, membership=sponsor, criterion=criterion, url="https://docs.example/plan-v3"
    )
    transition = services.project_decide(
        org=org, actor=member, project=fresh(project), decision="go", note="On we go"
    )
    project = fresh(project)
    assert project.phase.key == "executing"
    assert transition.override is False and all(c["met"] for c in transition.criteria)
    event = Event.objects.for_org(org).filter(type="project.phase_changed").latest("created_at")
    assert event.payload["from_phase"] == "planning" and event.payload["to_phase"] == "executing"


def test_only_the_named_role_attests_and_only_with_evidence(org, owner, member):
    project = make_project(org, manager=member, sponsor=owner)
    criterion = GateCriterion.objects.for_org(org).get(phase=project.phase, kind="attested")
    as_member = Membership.objects.for_org(org).get(user=member)
    with pytest.raises(ValidationError, match="Only the sponsor"):
        services.criterion_attest(org=org, membership=as_member, criterion=criterion, note="x")
    as_sponsor = Membership.objects.for_org(org).get(user=owner)
    with pytest.raises(ValidationError):
        services.criterion_attest(org=org, membership=as_sponsor, criterion=criterion)
    services.criterion_attest(org=org, membership=as_sponsor, criterion=criterion, note="OK")
    assert gates.evaluate(project, project.phase, fresh(criterion)).met


def test_an_admin_override_needs_a_reason_and_is_marked(org, owner, member):
    project = make_project(org)
    with pytest.raises(services.TransitionRefused, match="Only an admin"):
        services.project_decide(
            org=org,
            actor=member,
            project=project,
            decision="go",
            override=True,
            override_reason="Because",
            can_override=False,
        )
    with pytest.raises(services.TransitionRefused, match="reason"):
        services.project_decide(
            org=org, actor=owner, project=project, decision="go", override=True, can_override=True
        )
    transition = services.project_decide(
        org=org,
        actor=owner,
        project=project,
        decision="go",
        override=True,
        override_reason="Urgent customer request",
        can_override=True,
    )
    assert transition.override and transition.override_reason == "Urgent customer request"
    assert len(transition.unmet) == 2 and fresh(project).phase.key == "planning"


def test_the_history_is_immutable(org, owner):
    project = make_project(org)
    transition = services.project_decide(org=org, actor=owner, project=project, decision="hold")
    transition.note = "rewritten"
    with pytest.raises(ValueError, match="never changed"):
        transition.save()
    with pytest.raises(ValueError, match="never deleted"):
        transition.delete()
    assert PhaseTransition.objects.for_org(org).get().note == ""


def test_the_history_has_no_write_route(api, org, owner):
    project = make_project(org)
    services.project_decide(org=org, actor=owner, project=project, decision="hold")
    url = f"/api/v1/projects/{project.pk}/transitions/"
    for method in ("post", "put", "patch", "delete"):
        assert getattr(api, method)(url, {}, format="json").status_code == 405


def test_hold_recycle_kill_and_resume(org, owner, member):
    project = planning_project(org, owner, member)
    services.project_decide(org=org, actor=member, project=project, decision="hold")
    assert fresh(project).status == "on_hold"
    services.project_decide(org=org, actor=member, project=fresh(project), decision="resume")
    assert fresh(project).status == "active"
    services.project_decide(org=org, actor=member, project=fresh(project), decision="recycle")
    project = fresh(project)
    assert project.phase.key == "initiating" and project.status == "active"
    # Redoing the phase: its attestation has to be given again.
    assert (
        not GateCriterion.objects.for_org(org)
        .filter(phase=project.phase, attested_at__isnull=False)
        .exists()
    )
    services.project_decide(org=org, actor=member, project=project, decision="kill")
    assert fresh(project).status == "cancelled"
    with pytest.raises(services.TransitionRefused):
        services.project_decide(org=org, actor=member, project=fresh(project), decision="resume")
    decisions = list(
        PhaseTransition.objects.for_org(org)
        .filter(project=project)
        .values_list("decision", "status_before", "status_after")
    )
    assert decisions == [
        ("go", "proposed", "active"),
        ("hold", "active", "on_hold"),
        ("resume", "on_hold", "active"),
        ("recycle", "active", "active"),
        ("kill", "active", "cancelled"),
    ]


def test_the_last_go_closes_the_project(org, owner):
    project = make_project(org)
    for _ in range(5):
        services.project_decide(
            org=org,
            actor=owner,
            project=fresh(project),
            decision="go",
            override=True,
            override_reason="Test",
            can_override=True,
        )
    project = fresh(project)
    assert project.status == "closed" and project.phase.key == "closing"
    assert project.is_archived
    with pytest.raises(ValidationError):
        item(org, project, "Too late")


def test_a_later_app_adds_a_criterion_kind(org, owner):
    def budget_set(project, phase):
        return gates.Verdict(False, "No budget is set.")

    gates.register_kind("test_budget_set", "Budget set", budget_set)
    try:
        project = make_project(org)
        GateCriterion.objects.create(
            organization=org, phase=project.phase, kind="test_budget_set", position=9
        )
        with pytest.raises(services.GateRefused) as caught:
            services.project_decide(org=org, actor=owner, project=project, decision="go")
        assert {"criterion": "Budget set", "reason": "No budget is set."} in (
            caught.value.as_list()
        )
    finally:
        gates.unregister_kind("test_budget_set")
