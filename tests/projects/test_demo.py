"""The demo's two projects (GLOSSARY.md), told once however often seed_demo runs."""

from io import StringIO

from django.core.management import call_command

from accounts.models import Organization
from projects import selectors
from projects.calc.calendar import WorkCalendar
from projects.models import Dependency, PhaseTransition, Project, WorkItem


def test_the_demo_has_the_production_line_and_the_software_project(db):
    call_command("seed_demo", stdout=StringIO())
    org = Organization.objects.get(slug="demo")
    counts = (
        Project.objects.for_org(org).count(),
        WorkItem.objects.for_org(org).count(),
        Dependency.objects.for_org(org).count(),
        PhaseTransition.objects.for_org(org).count(),
    )
    line = Project.objects.for_org(org).select_related("phase", "engagement").get(code="PL-6M")
    assert line.name == "Bring the new production line into operation within six months"
    assert line.engagement.customer.name == "Huaxin Precision Manufacturing"
    assert line.phase.key == "executing" and line.status == "active"
    items = WorkItem.objects.for_org(org).filter(project=line)
    assert 25 <= items.count() <= 40
    assert items.filter(duration_days=0, is_summary=False).count() >= 5
    assert items.filter(percent_complete=100, is_summary=False).exists()
    assert line.critical_path and line.schedule_finish <= line.target_finish_date
    assert selectors.overdue_milestones(org, line)  # the early warning of the story
    assert PhaseTransition.objects.for_org(org).filter(project=line, decision="go").count() == 2

    software = Project.objects.for_org(org).select_related("phase").get(code="NW-INT")
    assert software.phase.key == "executing"
    review = WorkItem.objects.for_org(org).get(project=software, name="Milestone review: release 1")
    today = selectors.org_today(org)
    ahead = WorkCalendar.of([1, 2, 3, 4, 5]).count(today, review.early_finish) - 1
    assert 1 <= ahead <= 5

    call_command("seed_demo", stdout=StringIO())
    assert counts == (
        Project.objects.for_org(org).count(),
        WorkItem.objects.for_org(org).count(),
        Dependency.objects.for_org(org).count(),
        PhaseTransition.objects.for_org(org).count(),
    )


def test_the_production_line_tells_its_earned_value_story(db):
    from projects import evm
    from projects.models import Baseline, BudgetLine, ChangeRequest, CostEntry

    call_command("seed_demo", stdout=StringIO())
    org = Organization.objects.get(slug="demo")
    line = Project.objects.for_org(org).get(code="PL-6M")

    categories = set(
        BudgetLine.objects.for_org(org).filter(project=line).values_list("category", flat=True)
    )
    assert {"labour", "material", "equipment"} <= categories
    assert CostEntry.objects.for_org(org).filter(project=line, category="labour").exists()
    cr = ChangeRequest.objects.for_org(org).get(project=line)
    assert cr.status == "implemented" and cr.decided_by.email.startswith("owner")
    baselines = list(Baseline.objects.for_org(org).filter(project=line).order_by("number"))
    assert [b.number for b in baselines] == [1, 2] and baselines[1].change_request_id == cr.pk
    reading = evm.indices(org, line, selectors.org_today(org))["reading"]
    assert (reading["schedule"], reading["cost"]) == ("behind", "over")
