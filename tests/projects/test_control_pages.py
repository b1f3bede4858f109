"""Project control in the browser's pages: the earned-value panel in plain words, the
S-curve, change requests from draft to baseline 2 (the sponsor decides, never the
requester), baselined budget refused as a form error, the Gantt's ghost bars, and constant
query counts on the new lists."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from projects import control, services
from projects.models import ChangeRequest, CostEntry, Project
from tests.projects.factories import fresh, item, link, make_project
from tests.utils import assert_constant_queries


def body(response) -> str:
    return response.content.decode()


def _worked_example(org, manager):
    project = make_project(org, manager=manager)
    package = item(org, project, "Build", 10, budget=Decimal("100000"))
    control.baseline_create(org=org, actor=manager, project=project, name="Plan of record")
    services.work_item_update(
        org=org,
        actor=manager,
        item=package,
        data={"percent_complete": Decimal(40), "progress_date": date(2027, 1, 8)},
    )
    control.cost_entry_create(
        org=org,
        actor=manager,
        project=project,
        data={"category": "labour", "amount": "45000", "date": "2027-01-07", "work_item": package},
    )
    return project, package


def test_the_project_page_reads_the_indices_in_plain_words(member_client, org, member):
    project, _package = _worked_example(org, member)

    page = body(member_client.get(f"/o/acme/projects/{project.pk}/?as_of=2027-01-08"))

    assert "Behind schedule, over budget" in page
    assert 'class="badge red">behind schedule' in page
    assert "0.8000" in page and "0.8889" in page and "112500.00" in page
    assert 'class="s-pv"' in page and 'class="s-ev"' in page and 'class="s-ac"' in page
    assert "Baseline 1 “Plan of record”" in page


def test_a_project_without_baseline_offers_to_set_one_to_its_manager(member_client, org, member):
    project = make_project(org, manager=member)
    item(org, project, "Build", 2)

    page = body(member_client.get(f"/o/acme/projects/{project.pk}/"))
    assert "Set the baseline" in page
    response = member_client.post(f"/o/acme/projects/{project.pk}/baseline/", {"name": "Plan"})

    assert response.status_code == 302
    assert "Baseline 1 “Plan”" in body(member_client.get(f"/o/acme/projects/{project.pk}/"))


def test_a_change_request_goes_from_draft_to_baseline_2_and_the_sponsor_approves(
    member_client, owner_client, org, member, owner
):
    project = make_project(org, manager=member, sponsor=owner)
    a = item(org, project, "A", 3)
    b = item(org, project, "B", 2)
    link(org, a, b)
    control.baseline_create(org=org, actor=member, project=project, name="Plan")
    services.project_decide(org=org, actor=member, project=project, decision="resume")

    response = member_client.post(
        f"/o/acme/projects/{project.pk}/change-requests/",
        {
            "title": "B takes longer",
            "reason": "Late parts",
            "work_item": str(b.pk),
            "duration_days": "4",
        },
    )
    assert response.status_code == 302
    cr = ChangeRequest.objects.for_org(org).get()
    url = f"/o/acme/change-requests/{cr.pk}/"
    page = body(member_client.get(url))
    assert '<dd id="impact-finish">2027-01-12</dd>' in page  # before anyone decides
    assert fresh(project).schedule_finish == date(2027, 1, 8)

    assert member_client.post(url, {"op": "submit"}).status_code == 302
    # The requester cannot approve, even with a role that could.
    refused = member_client.post(url, {"op": "approve"})
    assert refused.status_code == 403
    assert "cannot approve" in body(refused)
    assert fresh(cr).status == "submitted"
    assert owner_client.post(url, {"op": "approve", "note": "Go"}).status_code == 302
    assert member_client.post(url, {"op": "implement"}).status_code == 302

    assert fresh(cr).status == "implemented"
    assert fresh(project).schedule_finish == date(2027, 1, 12)
    page = body(member_client.get(f"/o/acme/projects/{project.pk}/"))
    assert "CR-1 B takes longer" in page and "Implemented" in page
    assert "Baseline 2" in page


def test_a_sponsor_without_the_capability_approves(member_client, client, org, member, owner):
    from tests.factories import MembershipFactory

    sponsor = MembershipFactory(organization=org, role="member").user
    project = make_project(org, manager=owner, sponsor=sponsor)
    a = item(org, project, "A", 3)
    cr = control.change_request_draft(
        org=org,
        actor=member,
        project=project,
        title="T",
        reason="R",
        changes=[{"kind": "duration", "work_item": str(a.pk), "duration_days": 4}],
    )
    control.change_request_submit(org=org, actor=member, cr=cr)
    client.force_login(sponsor)
    url = f"/o/acme/change-requests/{cr.pk}/"
    assert "Approve" in body(client.get(url))
    assert client.post(url, {"op": "approve"}).status_code == 302
    assert fresh(cr).status == "approved"
    # Another member, neither sponsor nor approver, may not decide.
    other = control.change_request_draft(
        org=org,
        actor=owner,
        project=project,
        title="T2",
        reason="R",
        changes=[{"kind": "duration", "work_item": str(a.pk), "duration_days": 5}],
    )
    control.change_request_submit(org=org, actor=owner, cr=other)
    assert (
        member_client.post(f"/o/acme/change-requests/{other.pk}/", {"op": "approve"}).status_code
        == 403
    )


def test_editing_a_baselined_budget_in_the_form_is_refused_with_a_pointer(
    member_client, org, member
):
    project = make_project(org, manager=member)
    package = item(org, project, "Build", 3, budget=Decimal("300"))
    control.baseline_create(org=org, actor=member, project=project, name="Plan")
    services.project_decide(org=org, actor=member, project=project, decision="resume")

    response = member_client.post(
        f"/o/acme/work-items/{package.pk}/edit/",
        {
            "name": "Build",
            "duration_days": "3",
            "budget": "999",
            "percent_complete": "0",
            "effort_hours": "0",
        },
    )

    assert response.status_code == 400
    assert "through a change request" in body(response)
    assert fresh(package).budget == Decimal("300")


def test_the_gantt_draws_the_baseline_as_ghost_bars_and_the_slip(member_client, org, member):
    project = make_project(org, manager=member)
    a = item(org, project, "A", 3)
    control.baseline_create(org=org, actor=member, project=project, name="Plan")
    services.work_item_update(org=org, actor=member, item=a, data={"duration_days": 5})

    page = body(member_client.get(f"/o/acme/projects/{project.pk}/gantt/"))

    ghost = re.search(
        r'class="gantt-baseline"[^>]*data-start="([\d-]+)" data-finish="([\d-]+)"', page
    )
    assert ghost and ghost.groups() == ("2027-01-04", "2027-01-06")
    assert 'class="gantt-slip"' in page and "+2 d" in page


def test_the_budget_page_records_lines_costs_and_refuses_an_overdraw(member_client, org, member):
    project = make_project(org, manager=member)
    url = f"/o/acme/projects/{project.pk}/budget/"
    assert (
        member_client.post(
            url, {"op": "line", "line-category": "equipment", "line-amount": "2500.00"}
        ).status_code
        == 302
    )
    assert (
        member_client.post(
            url,
            {
                "op": "cost",
                "cost-category": "equipment",
                "cost-amount": "99.50",
                "cost-date": "2027-01-05",
            },
        ).status_code
        == 302
    )
    bad = member_client.post(
        url,
        {
            "op": "cost",
            "cost-category": "equipment",
            "cost-amount": "1.234",
            "cost-date": "2027-01-05",
        },
    )
    assert bad.status_code == 400
    draw = member_client.post(url, {"op": "draw", "draw-amount": "10.00", "draw-reason": "Risk"})
    assert draw.status_code == 400 and "change request" in body(draw)
    page = body(member_client.get(url))
    assert "2500.00" in page and "99.50" in page
    assert CostEntry.objects.for_org(org).count() == 1


def test_the_new_pages_cost_the_same_for_one_row_as_for_fifty(member_client, org, member):
    project = make_project(org, manager=member)
    a = item(org, project, "A", 3)
    control.baseline_create(org=org, actor=member, project=project, name="Plan")
    template = control.change_request_draft(
        org=org,
        actor=member,
        project=project,
        title="T",
        reason="R",
        changes=[{"kind": "duration", "work_item": str(a.pk), "duration_days": 4}],
    )

    def rows(n):
        from projects.models import BudgetLine

        CostEntry.objects.bulk_create(
            CostEntry(
                organization=org,
                project=project,
                work_item=a,
                category="labour",
                amount=Decimal("1"),
                date=date(2027, 1, 5),
            )
            for _ in range(n)
        )
        BudgetLine.objects.bulk_create(
            BudgetLine(
                organization=org,
                project=project,
                work_item=a,
                category="labour",
                amount=Decimal("1"),
            )
            for _ in range(n)
        )
        start = ChangeRequest.objects.for_org(org).count() + 1
        ChangeRequest.objects.bulk_create(
            ChangeRequest(
                organization=org,
                project=project,
                number=start + k,
                title="T",
                reason="R",
                changes=template.changes,
                impact=template.impact,
            )
            for k in range(n)
        )

    for url in (
        f"/o/acme/projects/{project.pk}/budget/",
        f"/o/acme/projects/{project.pk}/change-requests/",
        f"/o/acme/projects/{project.pk}/",
        f"/o/acme/projects/{project.pk}/earned-value/",
    ):
        assert_constant_queries(rows, lambda url=url: member_client.get(url))
    assert Project.objects.for_org(org).count() == 1


def test_logged_effort_is_priced_at_the_persons_or_roles_rate(owner_client, org, owner, member):
    project = make_project(org, manager=owner)
    url = f"/o/acme/projects/{project.pk}/budget/"
    assert (
        owner_client.post(
            url, {"op": "rate", "rate-role": "member", "rate-rate": "50.00"}
        ).status_code
        == 302
    )
    response = owner_client.post(
        url,
        {
            "op": "labour",
            "labour-person": str(member.pk),
            "labour-hours": "7.5",
            "labour-date": "2027-01-05",
        },
    )
    assert response.status_code == 302
    entry = CostEntry.objects.for_org(org).get()
    assert (entry.category, entry.amount, entry.rate, entry.hours) == (
        "labour",
        Decimal("375.00"),
        Decimal("50.00"),
        Decimal("7.50"),
    )
    # Without a rate for the owner or their role, it is a form error, not a 500.
    missing = owner_client.post(
        url,
        {
            "op": "labour",
            "labour-person": str(owner.pk),
            "labour-hours": "1",
            "labour-date": "2027-01-05",
        },
    )
    assert missing.status_code == 400 and "No hourly rate" in body(missing)


def test_the_drill_down_page_reads_each_package_in_words(member_client, org, member):
    project, _package = _worked_example(org, member)

    page = body(member_client.get(f"/o/acme/projects/{project.pk}/earned-value/?as_of=2027-01-08"))

    assert "1 Build" in page and "40000.00" in page
    assert "0.8000" in page and 'class="badge red">behind schedule' in page
    assert 'class="badge red">over budget' in page
