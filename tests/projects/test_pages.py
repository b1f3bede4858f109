"""The pages of project follow-up, as a member, a viewer, an admin and an outsider see them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.roles import Role
from followup.engine import calendar as feed_calendar
from followup.engine.models import CalendarFeed
from projects import selectors, services
from projects.models import (
    GateCriterion,
    Phase,
    PhaseTemplate,
    PhaseTransition,
    Project,
    TemplatePhase,
    WorkItem,
)
from tests.factories import MembershipFactory
from tests.projects.factories import fresh, item, link, make_project
from tests.utils import assert_constant_queries


def body(response) -> str:
    return response.content.decode()


@pytest.fixture
def admin_client(org):
    client = Client()
    client.force_login(MembershipFactory(organization=org, role=Role.ADMIN).user)
    return client


# --- List, create, edit ----------------------------------------------------------------------


def test_a_member_creates_a_project_from_the_default_template(member_client, org, member):
    page = body(member_client.get("/o/acme/projects/new/"))
    assert "Standard project (five phases)" in page
    template = PhaseTemplate.objects.for_org(org).get(is_default=True)
    response = member_client.post(
        "/o/acme/projects/new/",
        {
            "code": "PL-2027",
            "name": "New production line in six months",
            "objective": "Line in operation",
            "success_criteria": "90 % OEE\nOn budget",
            "manager": member.pk,
            "template": template.pk,
            "start_date": "2027-01-04",
            "target_finish_date": "2027-06-30",
            "working_days": ["1", "2", "3", "4", "5"],
            "holidays": "2027-05-01",
            "currency": "cny",
        },
    )
    project = Project.objects.for_org(org).select_related("phase").get(code="PL-2027")
    assert response.status_code == 302 and response["Location"].endswith(f"/{project.pk}/")
    assert project.phase.key == "initiating" and project.status == "proposed"
    assert [p.name for p in project.phases.all()] == [
        "Initiating",
        "Planning",
        "Executing",
        "Monitoring & controlling",
        "Closing",
    ]
    assert project.criteria_texts == ["90 % OEE", "On budget"] and project.currency == "CNY"
    assert project.calendar == {"working_days": [1, 2, 3, 4, 5], "holidays": ["2027-05-01"]}
    page = body(member_client.get(f"/o/acme/projects/{project.pk}/"))
    assert "Gate: leave Initiating" in page and "Not attested yet" in page
    assert "New follow-up" in page and "subject_type=project" in page


def test_the_list_filters_and_hides_the_archive(member_client, org, member):
    make_project(org, code="A-1", name="Alpha line", manager=member)
    other = make_project(org, code="B-1", name="Beta rollout")
    services.project_decide(org=org, actor=None, project=other, decision="kill")
    page = body(member_client.get("/o/acme/projects/"))
    assert "Alpha line" in page and "Beta rollout" not in page
    archive = body(member_client.get("/o/acme/projects/?status=archived"))
    assert "Beta rollout" in archive and "Alpha line" not in archive
    mine = body(member_client.get(f"/o/acme/projects/?manager={member.pk}&phase=initiating"))
    assert "Alpha line" in mine
    partial = member_client.get(
        "/o/acme/projects/?q=alpha", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="project-results"
    )
    assert "<html" not in body(partial) and "Alpha line" in body(partial)


def test_the_project_list_costs_the_same_for_one_project_as_for_fifty(member_client, org):
    def rows(n):
        for _ in range(n):
            make_project(org)

    assert_constant_queries(rows, lambda: member_client.get("/o/acme/projects/"))


def test_a_viewer_reads_but_never_writes(viewer_client, org):
    project = make_project(org, name="Read me")
    work = item(org, project, "Some work")
    for url in (
        f"/o/acme/projects/{project.pk}/",
        f"/o/acme/projects/{project.pk}/gantt/",
        f"/o/acme/projects/{project.pk}/wbs/",
        f"/o/acme/work-items/{work.pk}/",
    ):
        assert viewer_client.get(url).status_code == 200
    assert "Record the decision" not in body(viewer_client.get(f"/o/acme/projects/{project.pk}/"))
    for url in ("/o/acme/projects/new/", f"/o/acme/projects/{project.pk}/edit/"):
        assert viewer_client.get(url).status_code == 403
    response = viewer_client.post(f"/o/acme/projects/{project.pk}/wbs/", {"name": "Sneaky"})
    assert response.status_code == 403
    assert not WorkItem.objects.for_org(org).filter(name="Sneaky").exists()


def test_an_outsider_gets_404(outsider_client, org):
    project = make_project(org)
    assert outsider_client.get("/o/acme/projects/").status_code == 404
    assert outsider_client.get(f"/o/acme/projects/{project.pk}/").status_code == 404


# --- Project page ----------------------------------------------------------------------------


def test_the_project_page_shows_phase_gate_milestones_slip_and_early_warning(member_client, org):
    today = selectors.org_today(org)
    project = make_project(
        org,
        start_date=today - timedelta(days=30),
        target_finish_date=today + timedelta(days=10),
        calendar={"working_days": [1, 2, 3, 4, 5, 6, 7], "holidays": []},
    )
    done = item(org, project, "Foundations", 10)
    late = item(org, project, "Machines delivered", 0)
    link(org, done, late)
    later = item(org, project, "Install", 40)
    link(org, late, later)
    page = body(member_client.get(f"/o/acme/projects/{project.pk}/"))
    assert "Overdue milestones" in page and "Machines delivered" in page
    assert "Early warning" in page
    assert "working days late" in page  # 50 days planned, 40 left in the time box
    assert "Next milestone" in page
    assert "Initiating" in page and "current" in page


def test_the_project_page_costs_the_same_for_one_item_as_for_fifty(member_client, org):
    project = make_project(org, start_date=date(2020, 1, 6))
    previous = []

    def rows(n):
        for k in range(n):
            new = item(org, project, f"Milestone {k}", 0 if k % 2 else 2)
            if previous:
                link(org, previous[-1], new)
            previous.append(new)
        services.project_decide(org=org, actor=None, project=fresh(project), decision="hold")
        services.project_decide(org=org, actor=None, project=fresh(project), decision="resume")

    assert_constant_queries(rows, lambda: member_client.get(f"/o/acme/projects/{project.pk}/"))


def test_a_refused_gate_says_why_on_the_page_then_the_sponsor_attests(
    member_client, owner_client, org, owner, member
):
    project = make_project(org, manager=member, sponsor=owner)
    url = f"/o/acme/projects/{project.pk}/decide/"
    refused = member_client.post(url, {"decision": "go"})
    assert refused.status_code == 409
    page = body(refused)
    assert "The gate is not passed" in page
    assert "Objective and success criteria are written" in page and "no objective" in page
    partial = member_client.post(url, {"decision": "go"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "<html" not in body(partial)
    assert "The gate is not passed" in body(partial)

    services.project_update(
        org=org,
        actor=None,
        project=project,
        data={"objective": "Line running", "success_criteria": ["OEE 85 %"]},
    )
    criterion = GateCriterion.objects.for_org(org).get(phase=project.phase, kind="attested")
    # Only the sponsor is offered (and allowed) to attest.
    assert "Attest" not in body(member_client.get(f"/o/acme/projects/{project.pk}/"))
    assert (
        member_client.post(
            f"/o/acme/gate-criteria/{criterion.pk}/attest/", {"evidence_note": "me"}
        ).status_code
        == 302
    )
    assert fresh(criterion).attested_at is None
    owner_client.post(
        f"/o/acme/gate-criteria/{criterion.pk}/attest/",
        {"evidence_note": "Signed at the steering committee"},
    )
    assert fresh(criterion).attested_by == owner
    ok = member_client.post(url, {"decision": "go", "note": "Charter done"})
    assert ok.status_code == 302
    assert fresh(project).phase.key == "planning"
    page = body(member_client.get(f"/o/acme/projects/{project.pk}/"))
    assert "Gate: leave Planning" in page and "Charter done" in page


def test_an_admin_overrides_in_the_page_and_the_timeline_says_so(admin_client, org):
    project = make_project(org)
    response = admin_client.post(
        f"/o/acme/projects/{project.pk}/decide/",
        {"decision": "go", "override": "on", "override_reason": "Approved by the board"},
    )
    assert response.status_code == 302
    transition = PhaseTransition.objects.for_org(org).get(project=project)
    assert transition.override and transition.override_reason == "Approved by the board"
    page = body(admin_client.get(f"/o/acme/projects/{project.pk}/"))
    assert "Admin override" in page and "Approved by the board" in page


def test_success_criteria_are_marked_at_closing(member_client, org):
    project = make_project(org, success_criteria=["First", "Second"])
    member_client.post(
        f"/o/acme/projects/{project.pk}/success/", {"met-0": "true", "met-1": "false"}
    )
    assert [c["met"] for c in fresh(project).success_criteria] == [True, False]


# --- WBS outline ------------------------------------------------------------------------------


def test_the_outline_adds_items_where_asked_and_moves_them(member_client, org):
    project = make_project(org)
    wbs = f"/o/acme/projects/{project.pk}/wbs/"
    member_client.post(wbs, {"name": "Design", "duration_days": "3"})
    design = WorkItem.objects.for_org(org).get(name="Design")
    member_client.post(wbs, {"name": "Build", "duration_days": "5", "after": design.pk})
    member_client.post(wbs, {"name": "Specs", "duration_days": "2", "parent": design.pk})
    codes = dict(WorkItem.objects.for_org(org).values_list("name", "wbs_code"))
    assert codes == {"Design": "1", "Specs": "1.1", "Build": "2"}
    build = WorkItem.objects.for_org(org).get(name="Build")
    response = member_client.post(
        f"/o/acme/work-items/{build.pk}/move/", {"how": "indent"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and 'id="outline"' in body(response)
    assert f'data-focus="{build.pk}"' in body(response)
    assert fresh(build).wbs_code == "1.2"
    response = member_client.post(f"/o/acme/work-items/{build.pk}/move/", {"how": "outdent"})
    assert response.status_code == 302 and fresh(build).wbs_code == "2"
    new_row = member_client.get(f"{wbs}?new_after={build.pk}", HTTP_HX_REQUEST="true")
    assert 'id="new-row"' in body(new_row) and "<html" not in body(new_row)


def test_the_row_editor_saves_inline(member_client, org, member):
    project = make_project(org)
    work = item(org, project, "Wiring", 4)
    editor = member_client.get(f"/o/acme/work-items/{work.pk}/edit/?row=1", HTTP_HX_REQUEST="true")
    assert "<tr" in body(editor) and 'name="percent_complete"' in body(editor)
    response = member_client.post(
        f"/o/acme/work-items/{work.pk}/edit/",
        {
            "row": "1",
            "name": "Wiring and cabling",
            "duration_days": "6",
            "assignee": member.pk,
            "percent_complete": "25",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "Wiring and cabling" in body(response)
    work = fresh(work)
    assert (work.duration_days, work.assignee_id, work.percent_complete) == (
        6,
        member.pk,
        Decimal(25),
    )


def test_paste_shows_the_bad_line_and_saves_nothing(member_client, org):
    project = make_project(org)
    url = f"/o/acme/projects/{project.pk}/wbs/paste/"
    response = member_client.post(url, {"outline": "Design | 3d\n    Specs\n  Oops | 2x\n"})
    assert response.status_code == 400 and "Line 3" in body(response)
    assert not WorkItem.objects.for_org(org).exists()
    response = member_client.post(url, {"outline": "1 Design\n1.1 Specs | 2d\n2 Build | 4d\n"})
    assert response.status_code == 302
    assert list(
        WorkItem.objects.for_org(org).order_by("wbs_path").values_list("wbs_code", "name")
    ) == [("1", "Design"), ("1.1", "Specs"), ("2", "Build")]


def test_links_from_the_page_refuse_a_loop_naming_it(member_client, org):
    project = make_project(org)
    a, b = item(org, project, "Alpha"), item(org, project, "Bravo")
    url = f"/o/acme/projects/{project.pk}/dependencies/"
    ok = member_client.post(
        url, {"predecessor": a.pk, "successor": b.pk, "type": "FS", "lag_days": "0"}
    )
    assert ok.status_code == 302
    loop = member_client.post(
        url, {"predecessor": b.pk, "successor": a.pk, "type": "FS", "lag_days": "0"}
    )
    assert loop.status_code == 400 and "loop" in body(loop) and "1 Alpha" in body(loop)


# --- Gantt -----------------------------------------------------------------------------------


def test_the_gantt_marks_the_critical_path_in_words_and_zooms(member_client, org):
    project = make_project(org)
    a = item(org, project, "Critical work", 5)
    b = item(org, project, "Slack work", 1)
    c = item(org, project, "Finish line", 0)
    link(org, a, c)
    link(org, b, c)
    page = body(member_client.get(f"/o/acme/projects/{project.pk}/gantt/"))
    assert "<svg" in page and 'class="gantt-row task crit"' in page
    assert ">critical</text>" in page and "; critical</title>" in page
    assert "total float 4" in page  # the slack item's <title>
    assert f'<a href="/o/acme/work-items/{a.pk}/">' in page  # each row links to its item
    assert "style=" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]
    partial = member_client.get(
        f"/o/acme/projects/{project.pk}/gantt/?zoom=day",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="gantt",
    )
    assert "<html" not in body(partial) and 'aria-current="true">Day' in body(partial)


def test_the_gantt_escapes_names(member_client, org):
    project = make_project(org)
    item(org, project, '<script>alert("x")</script> & more')
    page = body(member_client.get(f"/o/acme/projects/{project.pk}/gantt/"))
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_the_gantt_page_costs_the_same_for_one_item_as_for_fifty(member_client, org):
    project = make_project(org)
    made = []

    def rows(n):
        for k in range(n):
            new = item(org, project, f"Item {k}", 1 + k % 3)
            if made:
                link(org, made[-1], new)
            made.append(new)

    assert_constant_queries(
        rows, lambda: member_client.get(f"/o/acme/projects/{project.pk}/gantt/")
    )


# --- Templates and the calendar (admins) -------------------------------------------------------


def test_admins_edit_templates_and_new_projects_copy_them(admin_client, member_client, org):
    template = services.default_template(org)
    url = f"/o/acme/projects/templates/{template.pk}/"
    assert member_client.post(url, {"op": "add_phase", "name": "Warranty"}).status_code == 403
    admin_client.post(url, {"op": "add_phase", "name": "Warranty"})
    warranty = TemplatePhase.objects.for_org(org).get(template=template, name="Warranty")
    admin_client.post(
        url, {"op": "add_criterion", "phase": warranty.pk, "kind": "milestones_reached"}
    )
    admin_client.post(url, {"op": "phase_up", "phase": warranty.pk})
    admin_client.post(url, {"op": "rename_phase", "phase": warranty.pk, "name": "Aftercare"})
    closing = TemplatePhase.objects.for_org(org).get(template=template, key="closing")
    admin_client.post(url, {"op": "remove_phase", "phase": closing.pk})
    project = make_project(org)
    phases = list(Phase.objects.for_org(org).filter(project=project).order_by("position"))
    assert [p.name for p in phases][-2:] == ["Monitoring & controlling", "Aftercare"]
    assert list(phases[-1].criteria.values_list("kind", flat=True)) == ["milestones_reached"]
    page = body(admin_client.get(url))
    assert "Aftercare" in page and "Every milestone of the phase is reached" in page


def test_the_organization_calendar_is_the_default_of_new_projects(admin_client, org):
    old = make_project(org, code="OLD")
    item(org, old, "Work", 5)
    response = admin_client.post(
        "/o/acme/projects/calendar/",
        {"working_days": ["1", "2", "3", "4"], "holidays": "2027-01-05\n", "apply_to_open": "on"},
    )
    assert response.status_code == 302
    org.refresh_from_db()
    new = make_project(org, code="NEW")
    assert new.calendar == {"working_days": [1, 2, 3, 4], "holidays": ["2027-01-05"]}
    old = fresh(old)
    assert old.calendar == new.calendar
    # Mon 4, (Tue 5 off), Wed 6, Thu 7, Mon 11, Tue 12.
    assert old.schedule_finish == date(2027, 1, 12)


# --- My day and the calendar feed --------------------------------------------------------------


def test_my_day_shows_work_items_due_this_week(member_client, org, member):
    today = selectors.org_today(org)
    project = make_project(
        org, start_date=today, calendar={"working_days": [1, 2, 3, 4, 5, 6, 7], "holidays": []}
    )
    item(org, project, "Due soon", 2, assignee=member)
    item(org, project, "Far away", 40, assignee=member)
    page = body(member_client.get("/o/acme/"))
    assert "Work items due this week" in page and "Due soon" in page
    assert "Far away" not in page


def test_milestones_are_in_the_calendar_feed(org, member):
    project = make_project(org, manager=member, start_date=date(2027, 1, 4))
    item(org, project, "Go-live", 0)
    token = feed_calendar.feed_create(org=org, user=member)
    feed = CalendarFeed.objects.for_org(org).get(user=member)
    text = feed_calendar.feed_body(
        feed, base_url="https://f.test", host="f.test", now=timezone.now()
    ).decode()
    assert "DTSTART;VALUE=DATE:20270104" in text and "Go-live" in text
    assert token.startswith("cal_")
