"""The Projects section of docs/API.md, through the API: fields, the worked examples, the
date rules, cycles, gates, upserts and the conventions every resource keeps."""

from __future__ import annotations

import pytest

from projects.models import Dependency, PhaseTransition, Project, WorkItem
from tests.factories import make_api_key
from tests.followup.test_api_conventions import assert_problem
from tests.projects.factories import item, make_project
from tests.utils import assert_constant_queries

SEVEN_DAYS = {"working_days": [1, 2, 3, 4, 5, 6, 7], "holidays": []}
OFFICE_WITH_HOLIDAY = {"working_days": [1, 2, 3, 4, 5], "holidays": ["2027-01-13"]}


def create_project(api, **fields):
    body = {"code": "EX-1", "name": "Example", "start_date": "2027-01-04", **fields}
    response = api.post("/api/v1/projects/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def create_items(api, project_id, durations):
    ids = {}
    for name, days in durations:
        response = api.post(
            "/api/v1/work-items/",
            {"project": project_id, "name": name, "duration_days": days},
            format="json",
        )
        assert response.status_code == 201, response.content
        ids[name] = response.json()["id"]
    return ids


def create_link(api, ids, pred, succ, type="FS", lag=0):
    return api.post(
        "/api/v1/dependencies/",
        {"predecessor": ids[pred], "successor": ids[succ], "type": type, "lag_days": lag},
        format="json",
    )


def schedule_of(api, project_id):
    response = api.get(f"/api/v1/projects/{project_id}/schedule/")
    assert response.status_code == 200, response.content
    return response.json()


# --- Fields --------------------------------------------------------------------------------------


def test_a_project_has_the_contract_fields(api, org, owner):
    body = create_project(
        api,
        objective="Bring the new line into operation",
        success_criteria=["Line runs at 90 % OEE", "Within budget"],
        manager=str(owner.pk),
        target_finish_date="2027-06-30",
        currency="CNY",
        external_id="pm-1",
    )
    assert {
        "id",
        "code",
        "name",
        "objective",
        "success_criteria",
        "engagement",
        "manager",
        "sponsor",
        "status",
        "phase",
        "start_date",
        "target_finish_date",
        "calendar",
        "currency",
        "external_id",
        "created_at",
        "updated_at",
        "version",
    } <= set(body)
    assert body["success_criteria"] == ["Line runs at 90 % OEE", "Within budget"]
    assert body["status"] == "proposed"
    assert set(body["phase"]) == {"id", "key", "name"} and body["phase"]["key"] == "initiating"
    # Omitted on create: the organization's default, Monday to Friday.
    assert body["calendar"] == {"working_days": [1, 2, 3, 4, 5], "holidays": []}
    assert body["manager"] == str(owner.pk) and body["engagement"] is None


def test_a_work_item_has_the_contract_fields(api, org):
    project = create_project(api)
    ids = create_items(api, project["id"], [("Design", 3)])
    body = api.get(f"/api/v1/work-items/{ids['Design']}/").json()
    assert {
        "id",
        "project",
        "parent",
        "wbs_code",
        "name",
        "duration_days",
        "effort_hours",
        "budget",
        "assignee",
        "percent_complete",
        "actual_start",
        "actual_finish",
        "start_no_earlier_than",
        "external_id",
        "schedule",
    } <= set(body)
    assert body["wbs_code"] == "1" and body["parent"] is None
    assert body["budget"] == "0.00"
    assert body["schedule"] == {
        "early_start": "2027-01-04",
        "early_finish": "2027-01-06",
        "late_start": "2027-01-04",
        "late_finish": "2027-01-06",
        "total_float": 0,
        "free_float": 0,
        "critical": True,
    }
    # wbs_code and schedule are read-only.
    api.patch(f"/api/v1/work-items/{ids['Design']}/", {"wbs_code": "9"}, format="json")
    assert api.get(f"/api/v1/work-items/{ids['Design']}/").json()["wbs_code"] == "1"


# --- Worked examples ---------------------------------------------------------------------------


TEXTBOOK = [("A", 3), ("B", 4), ("C", 2), ("D", 5), ("E", 3), ("F", 2)]


@pytest.mark.parametrize(
    ("calendar", "finish"),
    [(SEVEN_DAYS, "2027-01-17"), (OFFICE_WITH_HOLIDAY, "2027-01-22")],
    ids=["seven-days", "office-with-holiday"],
)
def test_worked_example_textbook_network(api, org, calendar, finish):
    project = create_project(api, calendar=calendar)
    ids = create_items(api, project["id"], TEXTBOOK)
    for a, b in ("AB", "AC", "BD", "CE", "DF", "EF"):
        assert create_link(api, ids, a, b).status_code == 201
    schedule = schedule_of(api, project["id"])
    assert schedule["duration_days"] == 14
    assert (schedule["start"], schedule["finish"]) == ("2027-01-04", finish)
    assert schedule["critical_path"] == [ids[k] for k in "ABDF"]
    floats = {i["name"]: i["total_float"] for i in schedule["items"]}
    assert (floats["C"], floats["E"]) == (4, 4)
    assert [i["name"] for i in schedule["items"] if i["critical"]] == ["A", "B", "D", "F"]
    # The work item resource says the same as the schedule.
    c = api.get(f"/api/v1/work-items/{ids['C']}/").json()
    assert c["schedule"]["total_float"] == 4 and c["schedule"]["critical"] is False


@pytest.mark.parametrize(
    ("calendar", "dates"),
    [
        # 7 days from Monday 4 January: A days 0-4, B 2-5 (SS +2), C 6-8.
        (
            SEVEN_DAYS,
            {
                "A": ("2027-01-04", "2027-01-08"),
                "B": ("2027-01-06", "2027-01-09"),
                "C": ("2027-01-10", "2027-01-12"),
            },
        ),
        # Monday to Friday, Wednesday 13th off: A 4-8, B 6-11, C 12, 14, 15.
        (
            OFFICE_WITH_HOLIDAY,
            {
                "A": ("2027-01-04", "2027-01-08"),
                "B": ("2027-01-06", "2027-01-11"),
                "C": ("2027-01-12", "2027-01-15"),
            },
        ),
    ],
    ids=["seven-days", "office-with-holiday"],
)
def test_worked_example_start_to_start_with_lag(api, org, calendar, dates):
    project = create_project(api, calendar=calendar)
    ids = create_items(api, project["id"], [("A", 5), ("B", 4), ("C", 3)])
    assert create_link(api, ids, "A", "B", "SS", 2).status_code == 201
    assert create_link(api, ids, "B", "C").status_code == 201
    assert create_link(api, ids, "A", "C").status_code == 201
    schedule = schedule_of(api, project["id"])
    assert schedule["duration_days"] == 9
    assert schedule["critical_path"] == [ids["A"], ids["B"], ids["C"]]
    got = {i["name"]: (i["early_start"], i["early_finish"]) for i in schedule["items"]}
    assert got == dates


def test_a_milestone_is_on_the_day_its_predecessor_finishes(api, org):
    project = create_project(api, calendar=SEVEN_DAYS)
    ids = create_items(api, project["id"], [("Build", 3), ("Done", 0), ("Ship", 1)])
    create_link(api, ids, "Build", "Done")
    create_link(api, ids, "Done", "Ship")
    rows = {i["name"]: i for i in schedule_of(api, project["id"])["items"]}
    assert (rows["Done"]["early_start"], rows["Done"]["early_finish"]) == (
        "2027-01-06",
        "2027-01-06",
    )
    assert rows["Ship"]["early_start"] == "2027-01-07"


def test_an_item_starts_on_the_first_working_day_on_or_after_the_start_date(api, org):
    project = create_project(api, start_date="2027-01-02")  # a Saturday
    ids = create_items(api, project["id"], [("A", 1)])
    schedule = schedule_of(api, project["id"])
    assert schedule["start"] == "2027-01-04" and schedule["finish"] == "2027-01-04"
    assert api.get(f"/api/v1/work-items/{ids['A']}/").json()["schedule"]["early_start"] == (
        "2027-01-04"
    )


# --- Cycles, foreign ids ------------------------------------------------------------------------


def test_a_cycle_is_a_400_naming_the_items_and_nothing_is_saved(api, org):
    project = create_project(api)
    ids = create_items(api, project["id"], [("Design", 2), ("Build", 3), ("Test", 1)])
    create_link(api, ids, "Design", "Build")
    create_link(api, ids, "Build", "Test")
    response = create_link(api, ids, "Test", "Design")
    body = assert_problem(response, 400)
    assert {c["name"] for c in body["cycle"]} == {"Design", "Build", "Test"}
    assert {c["id"] for c in body["cycle"]} == set(ids.values())
    assert "Design" in body["detail"] and "Test" in body["detail"]
    assert body["errors"][0]["field"] == "successor"
    assert Dependency.objects.for_org(org).count() == 2


def test_a_link_to_another_organizations_item_is_a_400_and_a_foreign_item_a_404(
    api, org, other_org
):
    project = create_project(api)
    ids = create_items(api, project["id"], [("Mine", 1)])
    foreign = item(other_org, make_project(other_org), "Theirs")
    response = api.post(
        "/api/v1/dependencies/",
        {"predecessor": ids["Mine"], "successor": str(foreign.pk)},
        format="json",
    )
    assert_problem(response, 400)
    assert api.get(f"/api/v1/work-items/{foreign.pk}/").status_code == 404
    response = api.post(
        "/api/v1/work-items/", {"project": str(foreign.project_id), "name": "X"}, format="json"
    )
    assert_problem(response, 400)


def test_items_of_two_projects_cannot_be_linked(api, org):
    first = create_project(api)
    second = create_project(api, code="EX-2")
    a = create_items(api, first["id"], [("A", 1)])
    b = create_items(api, second["id"], [("B", 1)])
    response = api.post(
        "/api/v1/dependencies/", {"predecessor": a["A"], "successor": b["B"]}, format="json"
    )
    assert_problem(response, 400)


# --- Gates ---------------------------------------------------------------------------------------


def test_a_go_with_unmet_criteria_is_a_409_listing_each_and_nothing_changes(api, org):
    project = create_project(api)
    response = api.post(
        f"/api/v1/projects/{project['id']}/transition/", {"decision": "go"}, format="json"
    )
    body = assert_problem(response, 409)
    assert [set(u) for u in body["unmet"]] == [{"criterion", "reason"}] * 2
    assert body["unmet"][0]["criterion"] == "Objective and success criteria are written"
    assert "no objective" in body["unmet"][0]["reason"]
    assert body["unmet"][1]["criterion"] == "Project charter approved by the sponsor"
    fresh = Project.objects.for_org(org).select_related("phase").get(pk=project["id"])
    assert fresh.phase.key == "initiating" and fresh.status == "proposed"
    assert not PhaseTransition.objects.for_org(org).exists()


def test_an_admin_key_overrides_a_gate_with_a_reason_and_it_is_recorded(api, member_api, org):
    project = create_project(api)
    url = f"/api/v1/projects/{project['id']}/transition/"
    refused = member_api.post(url, {"decision": "go", "override": True}, format="json")
    assert_problem(refused, 409)
    no_reason = api.post(url, {"decision": "go", "override": True}, format="json")
    assert_problem(no_reason, 409)
    response = api.post(
        url,
        {"decision": "go", "override": True, "override_reason": "Board approved by mail"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["phase"]["key"] == "planning"
    assert response.json()["status"] == "active"
    history = api.get(f"/api/v1/projects/{project['id']}/transitions/").json()
    assert history[0]["override"] is True
    assert history[0]["override_reason"] == "Board approved by mail"
    assert {c["met"] for c in history[0]["criteria"]} == {False}


def test_hold_recycle_and_kill(api, org):
    project = create_project(api)
    url = f"/api/v1/projects/{project['id']}/transition/"
    held = api.post(url, {"decision": "hold", "note": "Customer budget freeze"}, format="json")
    assert held.status_code == 200 and held.json()["status"] == "on_hold"
    again = api.post(url, {"decision": "hold"}, format="json")
    assert_problem(again, 409)
    resumed = api.patch(f"/api/v1/projects/{project['id']}/", {"status": "active"}, format="json")
    assert resumed.status_code == 200 and resumed.json()["status"] == "active"
    recycled = api.post(url, {"decision": "recycle"}, format="json")
    assert recycled.json()["phase"]["key"] == "initiating"  # the first phase: it stays
    killed = api.post(url, {"decision": "kill"}, format="json")
    assert killed.json()["status"] == "cancelled"
    after = api.post(url, {"decision": "go"}, format="json")
    assert_problem(after, 409)
    closed = api.patch(f"/api/v1/projects/{project['id']}/", {"status": "closed"}, format="json")
    assert_problem(closed, 400)


# --- Upsert, moves, conventions ------------------------------------------------------------------


def test_upsert_by_external_id_on_projects_and_work_items(api, org):
    first = api.put(
        "/api/v1/projects/external/pm-7/",
        {"code": "PM-7", "name": "From the PM tool", "start_date": "2027-02-01"},
        format="json",
    )
    assert first.status_code == 201 and first.json()["external_id"] == "pm-7"
    second = api.put(
        "/api/v1/projects/external/pm-7/",
        {"code": "PM-7", "name": "Renamed in the PM tool", "start_date": "2027-02-01"},
        format="json",
    )
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    project_id = first.json()["id"]
    created = api.put(
        "/api/v1/work-items/external/task-1/",
        {"project": project_id, "name": "Task one", "duration_days": 2},
        format="json",
    )
    assert created.status_code == 201 and created.json()["wbs_code"] == "1"
    updated = api.put(
        "/api/v1/work-items/external/task-1/",
        {"project": project_id, "name": "Task one", "duration_days": 5},
        format="json",
    )
    assert updated.status_code == 200 and updated.json()["duration_days"] == 5
    assert updated.json()["schedule"]["early_finish"] == "2027-02-05"
    assert WorkItem.objects.for_org(org).count() == 1


def test_moving_and_reparenting_renumber_the_wbs(api, org):
    project = create_project(api)
    ids = create_items(api, project["id"], [("Phase 1", 1), ("Work", 3), ("Phase 2", 1)])
    moved = api.post(f"/api/v1/work-items/{ids['Work']}/move/", {"action": "indent"}, format="json")
    assert moved.status_code == 200 and moved.json()["wbs_code"] == "1.1"
    assert moved.json()["parent"] == ids["Phase 1"]
    patched = api.patch(
        f"/api/v1/work-items/{ids['Work']}/", {"parent": ids["Phase 2"]}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["wbs_code"] == "2.1"
    summary = api.get(f"/api/v1/work-items/{ids['Phase 2']}/").json()
    assert summary["duration_days"] == 3  # the roll-up of its child
    refused = api.patch(
        f"/api/v1/work-items/{ids['Phase 2']}/", {"duration_days": 10}, format="json"
    )
    assert_problem(refused, 400)
    after = api.post(
        f"/api/v1/work-items/{ids['Work']}/move/",
        {"action": "before", "target": ids["Phase 1"]},
        format="json",
    )
    assert after.json()["wbs_code"] == "1"


def test_if_match_and_etag_on_work_items(api, org):
    project = create_project(api)
    ids = create_items(api, project["id"], [("A", 1)])
    url = f"/api/v1/work-items/{ids['A']}/"
    etag = api.get(url)["ETag"]
    ok = api.patch(url, {"percent_complete": 40}, format="json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200 and ok.json()["percent_complete"] == 40
    stale = api.patch(url, {"percent_complete": 60}, format="json", HTTP_IF_MATCH=etag)
    assert_problem(stale, 412)


def test_filters(api, org, owner):
    project = create_project(api)
    ids = create_items(api, project["id"], [("A", 2), ("M", 0)])
    api.patch(f"/api/v1/work-items/{ids['A']}/", {"assignee": str(owner.pk)}, format="json")
    other = create_project(api, code="EX-2")
    create_items(api, other["id"], [("Z", 1)])

    def names(query):
        return sorted(r["name"] for r in api.get(f"/api/v1/work-items/?{query}").json()["results"])

    assert names(f"project={project['id']}") == ["A", "M"]
    assert names(f"assignee={owner.pk}") == ["A"]
    assert names("milestone=true") == ["M"]
    listed = api.get("/api/v1/projects/?phase=initiating&status=proposed").json()["results"]
    assert {p["code"] for p in listed} == {"EX-1", "EX-2"}
    assert api.get("/api/v1/projects/?status=active").json()["results"] == []


def test_the_work_item_list_costs_the_same_for_one_row_as_for_fifty(api, org):
    project = make_project(org)

    def rows(n):
        for k in range(n):
            item(org, project, f"Item {k}")

    assert_constant_queries(rows, lambda: api.get("/api/v1/work-items/?page_size=100"))


def test_a_viewer_key_reads_but_cannot_write(viewer_api, api, org):
    project = create_project(api)
    assert viewer_api.get(f"/api/v1/projects/{project['id']}/schedule/").status_code == 200
    response = viewer_api.post(
        "/api/v1/work-items/", {"project": project["id"], "name": "X"}, format="json"
    )
    assert_problem(response, 403)


def test_deleting_a_project_takes_a_manager_key(org, api, member_api):
    project = create_project(api)
    assert_problem(member_api.delete(f"/api/v1/projects/{project['id']}/"), 403)
    manager_key = make_api_key(org, "manager")[1]
    from tests.conftest import api_client

    assert api_client(manager_key).delete(f"/api/v1/projects/{project['id']}/").status_code == 204
    assert not Project.objects.for_org(org).exists()


def test_a_transition_retried_with_its_idempotency_key_happens_once(api, org):
    project = create_project(api)
    url = f"/api/v1/projects/{project['id']}/transition/"
    first = api.post(url, {"decision": "hold"}, format="json", HTTP_IDEMPOTENCY_KEY="hold-1")
    again = api.post(url, {"decision": "hold"}, format="json", HTTP_IDEMPOTENCY_KEY="hold-1")
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert PhaseTransition.objects.for_org(org).count() == 1
