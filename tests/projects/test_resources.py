"""Resources, allocations and the organization-wide load (issue 9, item 5)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from engagements.models import Customer, Touchpoint
from projects import resources
from projects.calc import resources as calc
from projects.calc.calendar import WorkCalendar
from projects.models import Allocation, Project, ProjectStatus, Resource
from tests.factories import MembershipFactory
from tests.projects.factories import item, link, make_project
from tests.utils import assert_constant_queries

MONDAY = date(2027, 1, 4)  # the projects start here; the week of 2027-01-04


def activate(project: Project) -> None:
    Project.objects.for_org(project.organization).filter(pk=project.pk).update(
        status=ProjectStatus.ACTIVE
    )


def person(org, user, hours=40) -> Resource:
    return resources.resource_create(
        org=org, actor=None, data={"kind": "person", "user": user, "weekly_capacity_hours": hours}
    )


def allocate(org, work_item, resource, per_day) -> Allocation:
    return resources.allocation_create(
        org=org, actor=None, work_item=work_item, resource=resource, per_day=per_day
    )


def two_projects_one_person(org, user):
    """Week of 2027-01-04: 5 days x 6 h on project A and 5 days x 4 h on project B = 50 h
    for a 40-hour person."""
    res = person(org, user)
    a = make_project(org, code="A-1", name="Line A", start_date=MONDAY)
    b = make_project(org, code="B-1", name="Line B", start_date=MONDAY)
    a_item = item(org, a, "Install conveyor", 5)
    b_item = item(org, b, "Commission robot", 5)
    allocate(org, a_item, res, 6)
    allocate(org, b_item, res, 4)
    return res, a_item, b_item


# --- The pure calculation ---------------------------------------------------------------------


def test_the_load_sums_working_days_of_each_week_and_marks_the_excess():
    cal = WorkCalendar.of([1, 2, 3, 4, 5], [date(2027, 1, 6)])  # a Wednesday holiday
    weeks = calc.weeks_from(date(2027, 1, 6), 2)
    assert weeks == [date(2027, 1, 4), date(2027, 1, 11)]
    bookings = [
        # Mon 4 .. Tue 12: 4 working days in week 1 (holiday), 2 in week 2.
        calc.Booking("r", "i1", "p", date(2027, 1, 4), date(2027, 1, 12), Decimal(8), cal),
    ]
    load = calc.load(
        resources=["r"],
        capacities={"r": calc.Capacity(weekly=Decimal(30))},
        bookings=bookings,
        business={("r", date(2027, 1, 11)): Decimal(15)},
        weeks=weeks,
        calendar=cal,
    )
    first, second = load.rows["r"]
    assert (first.project, first.over) == (Decimal(32), True)
    assert (second.project, second.business, second.total, second.over) == (16, 15, 31, True)
    assert first.items == {"i1": Decimal(32)}


def test_material_capacity_is_the_daily_quantity_times_the_working_days_of_the_week():
    cal = WorkCalendar.of([1, 2, 3, 4, 5], [date(2027, 1, 6)])
    cap = calc.week_capacity(calc.Capacity(per_day=Decimal(10)), date(2027, 1, 4), cal)
    assert cap == Decimal(40)
    assert calc.week_capacity(calc.Capacity(), date(2027, 1, 4), cal) is None


def test_the_suggestion_moves_a_non_critical_item_within_its_float_and_not_a_critical_one():
    cal = WorkCalendar()
    weeks = calc.weeks_from(MONDAY, 3)
    critical = calc.Booking(
        "r", "crit", "p", date(2027, 1, 4), date(2027, 1, 8), Decimal(6), cal, 0, True
    )
    slack = calc.Booking(
        "r", "slack", "q", date(2027, 1, 4), date(2027, 1, 8), Decimal(4), cal, 7, False
    )
    load = calc.load(
        resources=["r"],
        capacities={"r": calc.Capacity(weekly=Decimal(40))},
        bookings=[critical, slack],
        business={},
        weeks=weeks,
        calendar=cal,
    )
    (suggestion,) = calc.suggest(load, [critical, slack])
    assert suggestion.item == "slack"
    # 50 h against 40: moving "slack" 3 working days puts 12 h into the next week.
    assert suggestion.shift_days == 3
    assert (suggestion.new_start, suggestion.new_finish) == (date(2027, 1, 7), date(2027, 1, 13))
    assert suggestion.resolves


def test_no_suggestion_when_only_critical_work_causes_the_excess():
    cal = WorkCalendar()
    weeks = calc.weeks_from(MONDAY, 2)
    bookings = [
        calc.Booking("r", "c", "p", date(2027, 1, 4), date(2027, 1, 8), Decimal(10), cal, 0, True)
    ]
    load = calc.load(
        resources=["r"],
        capacities={"r": calc.Capacity(weekly=Decimal(40))},
        bookings=bookings,
        business={},
        weeks=weeks,
        calendar=cal,
    )
    assert load.over_cells()
    assert calc.suggest(load, bookings) == []


# --- Over-allocation across projects ------------------------------------------------------------


def test_over_allocation_is_detected_across_two_projects(org, member):
    res, a_item, b_item = two_projects_one_person(org, member)
    result = resources.org_load(org, start=MONDAY, weeks=2)
    first, second = result.load.rows[res.pk]
    assert first.project == Decimal(50)
    assert first.capacity == Decimal(40)
    assert first.over
    assert set(first.items) == {a_item.pk, b_item.pk}
    assert not second.over


def test_one_project_alone_is_within_capacity(org, member):
    res = person(org, member)
    project = make_project(org, start_date=MONDAY)
    allocate(org, item(org, project, "Install", 5), res, 6)
    result = resources.org_load(org, start=MONDAY, weeks=1)
    assert not result.load.rows[res.pk][0].over


def test_closed_projects_do_not_count(org, member):
    res, a_item, _b = two_projects_one_person(org, member)
    Project.objects.for_org(org).filter(pk=a_item.project_id).update(status=ProjectStatus.CANCELLED)
    result = resources.org_load(org, start=MONDAY, weeks=1)
    assert result.load.rows[res.pk][0].project == Decimal(20)


def test_touchpoint_effort_of_the_same_person_counts_against_the_same_capacity(org, member):
    res = person(org, member)
    project = make_project(org, start_date=MONDAY)
    allocate(org, item(org, project, "Install", 5), res, 7)  # 35 h
    customer = Customer.objects.create(organization=org, name="Bosch")
    zone = ZoneInfo(org.timezone)
    Touchpoint.objects.create(
        organization=org,
        customer=customer,
        channel=Touchpoint.Channel.VISIT,
        occurred_at=datetime.combine(date(2027, 1, 6), time(10), tzinfo=zone),
        summary="Site visit",
        effort_minutes=360,
        logged_by=member,
    )
    cell = resources.org_load(org, start=MONDAY, weeks=1).load.rows[res.pk][0]
    assert (cell.project, cell.business, cell.over) == (Decimal(35), Decimal(6), True)
    # The lean over-only filter counts the customer work the same way.
    assert resources.over_resource_ids(org, start=MONDAY, weeks=1, kind=None) == [res.pk]
    Touchpoint.objects.for_org(org).update(effort_minutes=60)
    assert resources.over_resource_ids(org, start=MONDAY, weeks=1, kind=None) == []


def test_the_load_page_marks_the_week_and_drills_down_to_the_items(member_client, org, member):
    res, _a, _b = two_projects_one_person(org, member)
    page = member_client.get("/o/acme/projects/resources/load/?start=2027-01-04&weeks=4")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'class="num over"' in text
    assert "Over-allocated" in text
    assert "Install conveyor" in text and "Commission robot" in text
    drill = member_client.get(f"/o/acme/projects/resources/{res.pk}/?start=2027-01-04&weeks=1")
    body = drill.content.decode()
    assert "Over-allocated" in body
    assert "A-1" in body and "B-1" in body


def test_the_page_suggests_moving_the_item_with_float(member_client, org, member):
    res = person(org, member)
    project = make_project(org, code="C-1", start_date=MONDAY)
    long_item = item(org, project, "Long critical work", 8)
    short = item(org, project, "Flexible task", 3)
    end = item(org, project, "Hand-over", 1)
    link(org, long_item, end)
    link(org, short, end)
    allocate(org, long_item, res, 6)
    allocate(org, short, res, 6)  # 30 + 18 = 48 h in the first week, 18 h in the second
    result = resources.org_load(org, start=MONDAY, weeks=3)
    (suggestion,) = result.suggestions
    # Four working days later (Fri, Mon, Tue): 36 h, then 30 h; the critical item stays.
    assert (suggestion.item, suggestion.shift_days, suggestion.resolves) == (short.pk, 4, True)
    url = "/o/acme/projects/resources/load/?start=2027-01-04&weeks=3"
    page = member_client.get(url).content.decode()
    # Suggestions are computed on request: the page offers them, the button swaps them in.
    assert "Flexible task" in page and "Levels the week" not in page
    assert 'hx-get="?start=2027-01-04&amp;weeks=3&amp;page=1&amp;suggest=1"' in page
    swap = member_client.get(url + "&page=1&suggest=1", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in swap and 'id="levelling"' in swap
    assert "Flexible task" in swap and "Levels the week" in swap
    # Without JavaScript the link shows the whole page with them.
    full = member_client.get(url + "&suggest=1").content.decode()
    assert "<html" in full and "Levels the week" in full


def test_the_load_api_reports_over_allocation_with_the_items(member_api, org, member):
    res, a_item, b_item = two_projects_one_person(org, member)
    response = member_api.get("/api/v1/resources/load/?start=2027-01-04&weeks=2")
    assert response.status_code == 200
    row = next(r for r in response.json()["resources"] if r["id"] == str(res.pk))
    week = row["weeks"][0]
    assert (week["week"], week["total"], week["capacity"], week["over"]) == (
        "2027-01-04",
        "50.00",
        "40.00",
        True,
    )
    assert {i["work_item"] for i in week["items"]} == {str(a_item.pk), str(b_item.pk)}
    assert {i["project"] for i in week["items"]} == {str(a_item.project_id), str(b_item.project_id)}


def test_the_load_api_says_what_is_wrong_with_its_parameters(member_api):
    response = member_api.get("/api/v1/resources/load/?start=tomorrow&weeks=99")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert {e["field"] for e in response.json()["errors"]} == {"start", "weeks"}


# --- Constant queries: 200 people x 26 weeks must not be N+1 -------------------------------------


def _people_with_work(org, project_of):
    made = {"n": 0}

    def make(n):
        for _ in range(n):
            made["n"] += 1
            user = MembershipFactory(organization=org).user
            res = person(org, user)
            project = project_of(made["n"])
            # 9 h a day: 45 h a week, over capacity, so the over-allocation list and the
            # levelling suggestions are part of what is counted.
            allocate(org, item(org, project, f"Task {made['n']}", 5), res, 9)

    return make


def test_the_load_page_costs_the_same_for_1_and_50_people(member_client, org):
    projects = [make_project(org, start_date=MONDAY) for _ in range(3)]
    make = _people_with_work(org, lambda n: projects[n % 3])
    assert_constant_queries(
        make,
        lambda: member_client.get("/o/acme/projects/resources/load/?start=2027-01-04&weeks=26"),
    )


def test_the_load_api_costs_the_same_for_1_and_50_people(member_api, org):
    projects = [make_project(org, start_date=MONDAY) for _ in range(3)]
    make = _people_with_work(org, lambda n: projects[n % 3])
    assert_constant_queries(
        make, lambda: member_api.get("/api/v1/resources/load/?start=2027-01-04&weeks=26")
    )


def test_the_resource_list_page_costs_the_same_for_1_and_50(member_client, org):
    project = make_project(org, start_date=MONDAY)
    make = _people_with_work(org, lambda n: project)
    assert_constant_queries(make, lambda: member_client.get("/o/acme/projects/resources/"))


def test_the_resource_and_allocation_api_lists_cost_the_same_for_1_and_50(member_api, org):
    project = make_project(org, start_date=MONDAY)
    make = _people_with_work(org, lambda n: project)
    assert_constant_queries(make, lambda: member_api.get("/api/v1/resources/"))
    assert_constant_queries(make, lambda: member_api.get("/api/v1/allocations/"))


# --- Writes: rules and errors -------------------------------------------------------------------


def test_allocating_to_a_summary_or_a_milestone_is_refused(member_api, org, member):
    res = person(org, member)
    project = make_project(org, start_date=MONDAY)
    parent = item(org, project, "Phase 1", 2)
    item(org, project, "Child", 2, parent=parent)
    milestone = item(org, project, "Go-live", 0)
    for target in (parent, milestone):
        response = member_api.post(
            "/api/v1/allocations/",
            {"work_item": str(target.pk), "resource": str(res.pk), "per_day": "4"},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "work_item"


def test_a_person_cannot_be_booked_more_than_a_day_has(member_api, org, member):
    res = person(org, member)
    project = make_project(org, start_date=MONDAY)
    work = item(org, project, "Install", 2)
    response = member_api.post(
        "/api/v1/allocations/",
        {"work_item": str(work.pk), "resource": str(res.pk), "per_day": "25"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "per_day"
    assert not Allocation.objects.for_org(org).exists()


def test_a_resource_needs_its_capacity_and_a_person_only_once(member_api, org, member):
    response = member_api.post(
        "/api/v1/resources/", {"kind": "equipment", "name": "Press"}, format="json"
    )
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"unit", "available_per_day"}
    person(org, member)
    again = member_api.post(
        "/api/v1/resources/",
        {"kind": "person", "user": str(member.pk), "weekly_capacity_hours": "20"},
        format="json",
    )
    assert again.status_code == 400
    assert again.json()["errors"][0]["field"] == "user"


def test_a_member_of_another_organization_cannot_be_a_resource(member_api, outsider):
    response = member_api.post(
        "/api/v1/resources/",
        {"kind": "person", "user": str(outsider.pk), "weekly_capacity_hours": "20"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "user"


def test_the_work_item_page_allocates_a_resource(member_client, org, member):
    res = person(org, member)
    project = make_project(org, start_date=MONDAY)
    work = item(org, project, "Install", 2)
    response = member_client.post(
        f"/o/acme/work-items/{work.pk}/allocations/", {"resource": str(res.pk), "per_day": "5"}
    )
    assert response.status_code == 302
    allocation = Allocation.objects.for_org(org).get()
    assert (allocation.resource_id, allocation.per_day) == (res.pk, Decimal(5))
    page = member_client.get(f"/o/acme/work-items/{work.pk}/").content.decode()
    assert member.name in page


def test_a_viewer_sees_the_load_but_cannot_add_resources(viewer_client, org):
    assert viewer_client.get("/o/acme/projects/resources/load/").status_code == 200
    response = viewer_client.post(
        "/o/acme/projects/resources/",
        {"kind": "equipment", "name": "Press", "unit": "h", "available_per_day": "8"},
    )
    assert response.status_code == 403
    assert not Resource.objects.for_org(org).exists()


@pytest.mark.parametrize("weeks", ["0", "abc"])
def test_the_load_page_ignores_bad_parameters_with_a_form_error(member_client, weeks):
    response = member_client.get(f"/o/acme/projects/resources/load/?weeks={weeks}")
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


# --- Paging by resource, filters (issue 9: 200 people x 26 weeks in under a second) ---------


def test_the_load_page_shows_25_resources_a_page_people_first(member_client, org):
    project = make_project(org, start_date=MONDAY)
    for n in range(30):
        user = MembershipFactory(organization=org, user__display_name=f"Person {n:02d}").user
        allocate(org, item(org, project, f"Task {n}", 5), person(org, user), 9 if n == 27 else 2)
    url = "/o/acme/projects/resources/load/?start=2027-01-04&weeks=2"

    first = member_client.get(url).content.decode()
    assert first.count('<th scope="row">') == 25
    assert "Person 00" in first and "Person 24" in first and "Person 25" not in first
    assert "Page 1 of 2 (30 resources)" in first and 'rel="next"' in first
    second = member_client.get(url + "&page=2").content.decode()
    assert second.count('<th scope="row">') == 5 and "Person 27" in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    # Past the last page: the last page, not an error.
    assert "Person 29" in member_client.get(url + "&page=99").content.decode()

    over = member_client.get(url + "&over=on").content.decode()
    assert over.count('<th scope="row">') == 1 and "Person 27" in over
    assert "Page 1 of 1 (1 resources)" in over and 'class="num over"' in over


def test_the_load_filters_by_kind(member_client, org, member):
    person(org, member)
    resources.resource_create(
        org=org,
        actor=None,
        data={"kind": "equipment", "name": "Press 2", "unit": "h", "available_per_day": 8},
    )
    page = member_client.get("/o/acme/projects/resources/load/?kind=equipment").content.decode()
    assert "Press 2" in page and page.count('<th scope="row">') == 1


def test_the_load_api_pages_by_resource_and_suggests_on_request(member_api, org):
    project = make_project(org, start_date=MONDAY)
    for n in range(30):
        user = MembershipFactory(organization=org, user__display_name=f"Person {n:02d}").user
        allocate(org, item(org, project, f"Task {n}", 5), person(org, user), 9 if n == 3 else 2)
    url = "/api/v1/resources/load/"
    params = {"start": "2027-01-04", "weeks": "2"}

    first = member_api.get(url, params).json()
    assert len(first["resources"]) == 25 and first["count"] == 30
    assert first["suggestions"] == [] and first["next"]
    second = member_api.get(first["next"]).json()
    assert len(second["resources"]) == 5 and second["next"] is None and second["previous"]
    names = [r["name"] for r in first["resources"] + second["resources"]]
    assert names == sorted(names) and len(set(names)) == 30
    over = member_api.get(url, {**params, "over": "true", "page_size": "200"}).json()
    assert [r["name"] for r in over["resources"]] == ["Person 03"]
    assert member_api.get(url, {**params, "page_size": "1000"}).json()["count"] == 30
    assert member_api.get(url, {**params, "page_size": "0"}).status_code == 400
