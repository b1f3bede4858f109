"""Project services: schedule stored on the rows, WBS renumbering and roll-up, cycles."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from projects import services
from projects.models import Dependency, Project, WorkItem
from tests.projects.factories import fresh, item, link, make_project

SEVEN_DAYS = {"working_days": [1, 2, 3, 4, 5, 6, 7], "holidays": []}


def textbook(org, calendar):
    project = make_project(org, start_date=date(2027, 1, 4), calendar=calendar)
    ids = {}
    for name, days in (("A", 3), ("B", 4), ("C", 2), ("D", 5), ("E", 3), ("F", 2)):
        ids[name] = item(org, project, name, days)
    for a, b in ("AB", "AC", "BD", "CE", "DF", "EF"):
        link(org, ids[a], ids[b])
    return fresh(project), {k: fresh(v) for k, v in ids.items()}


def test_textbook_network_on_seven_days(org):
    project, it = textbook(org, SEVEN_DAYS)
    assert project.schedule_duration_days == 14
    assert project.schedule_start == date(2027, 1, 4)
    assert project.schedule_finish == date(2027, 1, 17)
    assert [str(it[k].pk) for k in "ABDF"] == project.critical_path
    assert (it["C"].total_float, it["E"].total_float) == (4, 4)
    assert it["A"].early_start == date(2027, 1, 4) and it["A"].early_finish == date(2027, 1, 6)
    assert it["B"].early_start == date(2027, 1, 7)


def test_textbook_network_on_an_office_calendar_with_a_holiday(org):
    project, it = textbook(org, {"working_days": [1, 2, 3, 4, 5], "holidays": ["2027-01-13"]})
    assert project.schedule_duration_days == 14
    # 14 working days from Monday 4 January, skipping two weekends and Wednesday the 13th.
    assert project.schedule_finish == date(2027, 1, 22)
    assert [it[k].critical for k in "ABCDEF"] == [True, True, False, True, False, True]
    assert (it["C"].total_float, it["E"].total_float) == (4, 4)


def test_a_cycle_is_refused_naming_the_items_and_nothing_is_saved(org):
    project = make_project(org)
    a, b, c = (item(org, project, n) for n in "ABC")
    link(org, a, b)
    link(org, b, c)
    with pytest.raises(services.CycleRefused) as caught:
        link(org, c, a)
    assert {i.name for i in caught.value.items} == {"A", "B", "C"}
    assert "1 A" in caught.value.messages[0] and "3 C" in caught.value.messages[0]
    assert Dependency.objects.for_org(org).filter(project=project).count() == 2


def test_moves_renumber_the_wbs_and_roll_up_follows(org):
    project = make_project(org)
    design = item(org, project, "Design", 2, effort_hours=Decimal("10"), budget=Decimal("100"))
    build = item(org, project, "Build", 4, effort_hours=Decimal("30"), budget=Decimal("300"))
    test = item(org, project, "Test", 1)
    services.work_item_move(org=org, actor=None, item=build, how="indent")
    assert [(fresh(i).wbs_code) for i in (design, build, test)] == ["1", "1.1", "2"]
    services.work_item_move(org=org, actor=None, item=test, how="indent")
    design = fresh(design)
    assert design.is_summary and fresh(test).wbs_code == "1.2"
    assert design.effort_hours == Decimal("30") and design.budget == Decimal("300")
    services.work_item_update(
        org=org, actor=None, item=fresh(build), data={"percent_complete": Decimal("50")}
    )
    # Weighted by effort: (30 x 50 + 0 x 0) / 30 = 50 %.
    assert fresh(design).percent_complete == Decimal("50")
    services.work_item_move(org=org, actor=None, item=fresh(test), how="up")
    assert (fresh(test).wbs_code, fresh(build).wbs_code) == ("1.1", "1.2")
    services.work_item_move(org=org, actor=None, item=fresh(test), how="outdent")
    assert (fresh(build).wbs_code, fresh(test).wbs_code) == ("1.1", "2")


def test_a_summary_figure_is_not_written_by_hand(org):
    project = make_project(org)
    parent = item(org, project, "Parent")
    item(org, project, "Child", 3, parent=parent)
    with pytest.raises(ValidationError):
        services.work_item_update(
            org=org, actor=None, item=fresh(parent), data={"budget": Decimal("5")}
        )
    assert fresh(parent).duration_days == 3


def test_paste_creates_the_tree_or_names_the_bad_line(org):
    project = make_project(org)
    created = services.outline_paste(
        org=org,
        actor=None,
        project=project,
        text="Design | 3d\n  Specs | 2d\n  Review | 0d\nBuild | 5d\n",
    )
    assert [(i.wbs_code, i.name, i.duration_days) for i in created] == [
        ("1", "Design", 2),
        ("1.1", "Specs", 2),
        ("1.2", "Review", 0),
        ("2", "Build", 5),
    ]
    with pytest.raises(services.PasteError) as caught:
        services.outline_paste(org=org, actor=None, project=project, text="X\n    Y\n  Z | 3x")
    assert caught.value.line == 3 and "Line 3" in caught.value.text
    assert WorkItem.objects.for_org(org).filter(project=project).count() == 4


def test_project_code_is_unique_in_the_organization(org, other_org):
    make_project(org, code="PL-1")
    with pytest.raises(ValidationError):
        make_project(org, code="pl-1")
    assert make_project(other_org, code="PL-1").code == "PL-1"
    assert Project.objects.for_org(org).count() == 1
