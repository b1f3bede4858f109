"""Baselines, budget, costs, earned value and change requests through the API (API.md,
Projects): the EVM worked example, PV over a calendar with a holiday, EV as of a past date,
null ratios, immutable baselines, change requests from draft to baseline 2, self-approval,
and the refusal of direct edits of baselined budget."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.roles import Role
from projects import services
from projects.models import Baseline, BaselineItem, ChangeRequest, Project
from tests.conftest import api_client
from tests.factories import make_api_key
from tests.followup.test_api_conventions import assert_problem
from tests.projects.factories import item, link, make_project
from tests.utils import assert_constant_queries

OFFICE = {"working_days": [1, 2, 3, 4, 5], "holidays": []}


def post(api, url, body=None, status=201):
    response = api.post(url, body or {}, format="json")
    assert response.status_code == status, response.content
    return response.json()


def patch(api, url, body, status=200):
    response = api.patch(url, body, format="json")
    assert response.status_code == status, response.content
    return response.json()


def new_project(api, **fields):
    return post(
        api,
        "/api/v1/projects/",
        {
            "code": "EV-1",
            "name": "Earned",
            "start_date": "2027-01-04",
            "calendar": OFFICE,
            **fields,
        },
    )


def new_item(api, project, name, days, budget="0"):
    return post(
        api,
        "/api/v1/work-items/",
        {"project": project["id"], "name": name, "duration_days": days, "budget": budget},
    )


def set_baseline(api, project, name="Plan of record"):
    return post(api, f"/api/v1/projects/{project['id']}/baselines/", {"name": name})


def ev(api, project, as_of, **params):
    response = api.get(
        f"/api/v1/projects/{project['id']}/earned-value/", {"as_of": as_of, **params}
    )
    assert response.status_code == 200, response.content
    return response.json()


def activate(org, project_id):
    project = Project.objects.for_org(org).get(pk=project_id)
    services.project_decide(org=org, actor=None, project=project, decision="resume")


# --- Earned value ------------------------------------------------------------------------------


def test_the_worked_example_of_api_md(api):
    # One package of 10 working days, 100,000: after 5 days PV is 50,000; 40 % done; 45,000 spent.
    project = new_project(api)
    package = new_item(api, project, "Build", 10, "100000.00")
    set_baseline(api, project)
    patch(
        api,
        f"/api/v1/work-items/{package['id']}/",
        {"percent_complete": 40, "progress_date": "2027-01-08"},
    )
    post(
        api,
        "/api/v1/cost-entries/",
        {
            "project": project["id"],
            "work_item": package["id"],
            "category": "labour",
            "amount": "45000.00",
            "date": "2027-01-07",
        },
    )

    body = ev(api, project, "2027-01-08")

    assert body["as_of"] == "2027-01-08"
    assert body["bac"] == "100000.00"
    assert (body["pv"], body["ev"], body["ac"]) == ("50000.00", "40000.00", "45000.00")
    assert (body["sv"], body["cv"]) == ("-10000.00", "-5000.00")
    assert (body["spi"], body["cpi"]) == ("0.8000", "0.8889")
    assert (body["eac"], body["etc"], body["vac"]) == ("112500.00", "67500.00", "-12500.00")
    assert body["tcpi"] == "1.0909"  # 60,000 / 55,000
    assert body["eac_atypical"] == "105000.00"  # AC + (BAC - EV)
    assert body["reading"]["schedule"] == "behind" and body["reading"]["cost"] == "over"
    assert body["reading"]["text"] == "behind schedule, over budget"
    last = body["series"][-1]
    assert last == {"date": "2027-01-08", "pv": "50000.00", "ev": "40000.00", "ac": "45000.00"}


def test_pv_spreads_over_monday_to_friday_with_a_holiday(api):
    # 5 working days from Mon 11 Jan 2027, Wednesday 13 a holiday: Mon, Tue, Thu, Fri, Mon.
    project = new_project(
        api,
        start_date="2027-01-11",
        calendar={"working_days": [1, 2, 3, 4, 5], "holidays": ["2027-01-13"]},
    )
    new_item(api, project, "Install", 5, "5000.00")
    set_baseline(api, project)

    assert ev(api, project, "2027-01-12")["pv"] == "2000.00"
    assert ev(api, project, "2027-01-13")["pv"] == "2000.00"  # the holiday plans nothing
    assert ev(api, project, "2027-01-14")["pv"] == "3000.00"
    assert ev(api, project, "2027-01-16")["pv"] == "4000.00"  # the weekend neither
    assert ev(api, project, "2027-01-18")["pv"] == "5000.00"
    daily = ev(api, project, "2027-01-18", step="day")["series"]
    assert [p["pv"] for p in daily] == [
        "1000.00",
        "2000.00",
        "2000.00",
        "3000.00",
        "4000.00",
        "4000.00",
        "4000.00",
        "5000.00",
    ]


def test_ev_as_of_a_past_date_uses_the_progress_recorded_then(api):
    project = new_project(api)
    package = new_item(api, project, "Build", 10, "10000.00")
    set_baseline(api, project)
    url = f"/api/v1/work-items/{package['id']}/"
    patch(api, url, {"percent_complete": 20, "progress_date": "2027-01-06"})
    patch(api, url, {"percent_complete": 60, "progress_date": "2027-01-12"})

    assert ev(api, project, "2027-01-05")["ev"] == "0.00"
    assert ev(api, project, "2027-01-08")["ev"] == "2000.00"
    assert ev(api, project, "2027-01-12")["ev"] == "6000.00"


def test_undefined_ratios_are_null_with_a_reason(api):
    project = new_project(api)
    new_item(api, project, "Build", 10, "10000.00")
    set_baseline(api, project)

    body = ev(api, project, "2027-01-01")  # before the start: nothing planned, nothing spent

    assert body["pv"] == "0.00" and body["ac"] == "0.00"
    assert body["spi"] is None and body["cpi"] is None
    assert body["eac"] is None and body["etc"] is None and body["vac"] is None
    assert body["undefined"]["spi"]["code"] == "no_planned_value"
    assert body["undefined"]["cpi"]["code"] == "no_actual_cost"
    assert body["undefined"]["cpi"]["message"]
    assert body["tcpi"] == "1.0000"


def test_a_bad_status_date_is_a_problem_naming_the_field(api):
    project = new_project(api)
    response = api.get(f"/api/v1/projects/{project['id']}/earned-value/", {"as_of": "tomorrow"})
    body = assert_problem(response, 400)
    assert body["errors"][0]["field"] == "as_of"


def test_the_drill_down_gives_each_package_its_figures(api):
    project = new_project(api)
    a = new_item(api, project, "A", 2, "1000.00")
    new_item(api, project, "B", 2, "3000.00")
    set_baseline(api, project)
    post(
        api,
        "/api/v1/cost-entries/",
        {
            "project": project["id"],
            "work_item": a["id"],
            "category": "material",
            "amount": "800.00",
            "date": "2027-01-04",
        },
    )
    response = api.get(
        f"/api/v1/projects/{project['id']}/earned-value/work-items/", {"as_of": "2027-01-05"}
    )
    rows = {r["name"]: r for r in response.json()["results"]}
    assert rows["A"]["ac"] == "800.00" and rows["A"]["pv"] == "1000.00"
    assert rows["B"]["ac"] == "0.00" and rows["B"]["cpi"] is None


# --- Baselines -----------------------------------------------------------------------------------


def test_baselines_are_immutable_through_every_route(api, org):
    project = new_project(api)
    new_item(api, project, "Build", 3, "300.00")
    first = set_baseline(api, project)
    url = f"/api/v1/projects/{project['id']}/baselines/"

    assert first["number"] == 1 and first["budget"] == "300.00"
    assert first["items"][0]["planned_start"] == "2027-01-04"
    for method in ("put", "patch", "delete"):
        assert_problem(getattr(api, method)(url, {"name": "x"}, format="json"), 405)
    # A second one only through a change request.
    body = assert_problem(api.post(url, {"name": "Again"}, format="json"), 409)
    assert "change request" in body["detail"]
    baseline = Baseline.objects.for_org(org).get(pk=first["id"])
    with pytest.raises(ValueError):
        baseline.save()
    with pytest.raises(ValueError):
        baseline.delete()
    with pytest.raises(ValueError):
        BaselineItem.objects.for_org(org).filter(baseline=baseline).first().save()
    assert api.get(url).json()["results"][0]["name"] == "Plan of record"


def test_a_member_key_cannot_set_the_first_baseline(api, org):
    project = new_project(api)
    new_item(api, project, "Build", 3)
    member = api_client(make_api_key(org, Role.MEMBER)[1])
    assert_problem(
        member.post(f"/api/v1/projects/{project['id']}/baselines/", {"name": "x"}, format="json"),
        403,
    )


# --- Change control ----------------------------------------------------------------------------


def _network(org):
    """A 3 -> B 4 -> D 2 and A -> C 2 -> D: critical A, B, D; C has 2 days of float."""
    project = make_project(org)
    a = item(org, project, "A", 3, budget=Decimal("300"))
    b = item(org, project, "B", 4, budget=Decimal("400"))
    c = item(org, project, "C", 2, budget=Decimal("200"))
    d = item(org, project, "D", 2, budget=Decimal("200"))
    link(org, a, b)
    link(org, a, c)
    link(org, b, d)
    link(org, c, d)
    return project, {"A": a, "B": b, "C": c, "D": d}


def test_a_change_request_that_moves_the_critical_path_shows_it_and_creates_baseline_2(api, org):
    project, items = _network(org)
    post(api, f"/api/v1/projects/{project.pk}/baselines/", {"name": "Plan"})
    before = api.get(f"/api/v1/projects/{project.pk}/schedule/").json()
    assert before["finish"] == "2027-01-14"

    cr = post(
        api,
        "/api/v1/change-requests/",
        {
            "project": str(project.pk),
            "title": "C takes longer",
            "reason": "The supplier needs more time.",
            "changes": [{"kind": "duration", "work_item": str(items["C"].pk), "duration_days": 6}],
        },
    )
    # The impact is shown before anyone decides; nothing has changed yet.
    assert cr["status"] == "draft"
    assert cr["impact"]["finish_before"] == "2027-01-14"
    assert cr["impact"]["finish_after"] == "2027-01-18"
    assert cr["impact"]["critical_path_changed"] is True
    assert str(items["C"].pk) in cr["impact"]["critical_after"]
    assert str(items["B"].pk) not in cr["impact"]["critical_after"]
    assert api.get(f"/api/v1/projects/{project.pk}/schedule/").json()["finish"] == "2027-01-14"

    approver = api_client(make_api_key(org, Role.ADMIN, name="board")[1])
    url = f"/api/v1/change-requests/{cr['id']}/"
    assert post(api, url + "submit/", status=200)["status"] == "submitted"
    assert post(approver, url + "approve/", {"note": "OK"}, status=200)["status"] == "approved"
    done = post(api, url + "implement/", status=200)

    assert done["status"] == "implemented" and done["baseline"] == 2
    assert api.get(f"/api/v1/projects/{project.pk}/schedule/").json()["finish"] == "2027-01-18"
    baselines = api.get(f"/api/v1/projects/{project.pk}/baselines/").json()["results"]
    assert [b["number"] for b in baselines] == [1, 2]
    assert baselines[1]["change_request"] == cr["id"]
    assert baselines[1]["finish"] == "2027-01-18" and baselines[0]["finish"] == "2027-01-14"


def test_the_requester_cannot_approve_their_own_change_request(api, org):
    project, items = _network(org)
    cr = post(
        api,
        "/api/v1/change-requests/",
        {
            "project": str(project.pk),
            "title": "T",
            "reason": "R",
            "changes": [{"kind": "duration", "work_item": str(items["A"].pk), "duration_days": 4}],
        },
    )
    url = f"/api/v1/change-requests/{cr['id']}/"
    post(api, url + "submit/", status=200)

    body = assert_problem(api.post(url + "approve/", {}, format="json"), 403)
    assert "own" in body["detail"]
    member = api_client(make_api_key(org, Role.MEMBER, name="rep")[1])
    assert_problem(member.post(url + "approve/", {}, format="json"), 403)
    assert ChangeRequest.objects.for_org(org).get(pk=cr["id"]).status == "submitted"
    # Implementing before approval is refused too.
    assert_problem(api.post(url + "implement/", {}, format="json"), 409)


def test_direct_edits_of_baselined_budget_on_an_active_project_are_refused(api, org):
    project = new_project(api)
    package = new_item(api, project, "Build", 5, "0")
    line = post(
        api,
        "/api/v1/budget-lines/",
        {
            "project": project["id"],
            "work_item": package["id"],
            "category": "equipment",
            "amount": "5000.00",
        },
    )
    assert api.get(f"/api/v1/work-items/{package['id']}/").json()["budget"] == "5000.00"
    set_baseline(api, project)
    activate(org, project["id"])

    body = assert_problem(
        api.patch(f"/api/v1/budget-lines/{line['id']}/", {"amount": "9000.00"}, format="json"),
        409,
    )
    assert body["change_requests"] == "/api/v1/change-requests/"
    body = assert_problem(
        api.patch(f"/api/v1/work-items/{package['id']}/", {"budget": "1.00"}, format="json"), 409
    )
    assert body["errors"][0]["field"] == "budget"
    assert_problem(api.delete(f"/api/v1/work-items/{package['id']}/"), 409)
    assert_problem(api.delete(f"/api/v1/budget-lines/{line['id']}/"), 409)
    assert api.get(f"/api/v1/work-items/{package['id']}/").json()["budget"] == "5000.00"

    # Progress, actuals and unbaselined items change freely.
    patch(api, f"/api/v1/work-items/{package['id']}/", {"percent_complete": 30})
    post(
        api,
        "/api/v1/cost-entries/",
        {"project": project["id"], "category": "other", "amount": "10.00", "date": "2027-01-05"},
    )
    extra = new_item(api, project, "Extra", 1, "10.00")
    patch(api, f"/api/v1/work-items/{extra['id']}/", {"budget": "20.00"})


def test_bad_changes_are_a_problem_naming_the_change(api, org):
    project, items = _network(org)
    response = api.post(
        "/api/v1/change-requests/",
        {
            "project": str(project.pk),
            "title": "T",
            "reason": "R",
            "changes": [{"kind": "duration", "work_item": str(items["A"].pk), "duration_days": -1}],
        },
        format="json",
    )
    body = assert_problem(response, 400)
    assert body["errors"][0]["field"] == "changes.0.duration_days"


def test_cost_entries_refuse_floats_and_unknown_categories(api):
    project = new_project(api)
    response = api.post(
        "/api/v1/cost-entries/",
        {"project": project["id"], "category": "snacks", "amount": "1.00", "date": "2027-01-05"},
        format="json",
    )
    assert assert_problem(response, 400)["errors"][0]["field"] == "category"


# --- Constant queries ----------------------------------------------------------------------------


def test_the_new_lists_keep_a_constant_number_of_queries(api, org):
    from projects import control
    from projects.models import BudgetLine, CostEntry

    project = make_project(org)
    package = item(org, project, "Build", 3)
    control.change_request_draft(
        org=org,
        actor=None,
        project=project,
        title="T",
        reason="R",
        changes=[{"kind": "duration", "work_item": str(package.pk), "duration_days": 4}],
    )
    template = ChangeRequest.objects.for_org(org).get()

    def costs(n):
        CostEntry.objects.bulk_create(
            CostEntry(
                organization=org,
                project=project,
                work_item=package,
                category="other",
                amount=Decimal("1.00"),
                date="2027-01-05",
            )
            for _ in range(n)
        )

    def lines(n):
        BudgetLine.objects.bulk_create(
            BudgetLine(
                organization=org, project=project, category="material", amount=Decimal("1.00")
            )
            for _ in range(n)
        )

    def requests(n):
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

    assert_constant_queries(costs, lambda: api.get("/api/v1/cost-entries/", {"page_size": 200}))
    assert_constant_queries(lines, lambda: api.get("/api/v1/budget-lines/", {"page_size": 200}))
    assert_constant_queries(
        requests, lambda: api.get("/api/v1/change-requests/", {"page_size": 200})
    )


def test_the_baseline_list_keeps_a_constant_number_of_queries(api, org):
    project = make_project(org)
    from projects import control

    first = [True]

    def make(n):
        for k in range(n):
            item(org, project, f"I{k}", 1)
        if first[0]:
            control.baseline_create(org=org, actor=None, project=project, name="B")
            first[0] = False

    assert_constant_queries(make, lambda: api.get(f"/api/v1/projects/{project.pk}/baselines/"))


def test_links_between_baselined_items_of_an_active_project_change_only_by_change_request(api, org):
    """A link decides baselined dates as much as a duration: adding, changing or removing
    one between two baselined items of an active project is a 409; a link to an item no
    baseline holds is free."""
    project = new_project(api)
    build = new_item(api, project, "Build", 5, "100.00")
    test = new_item(api, project, "Test", 2, "100.00")
    ship = new_item(api, project, "Ship", 1, "100.00")
    link = post(
        api,
        "/api/v1/dependencies/",
        {"predecessor": build["id"], "successor": test["id"], "type": "FS"},
    )
    set_baseline(api, project)
    activate(org, project["id"])

    assert_problem(
        api.post(
            "/api/v1/dependencies/",
            {"predecessor": test["id"], "successor": ship["id"], "type": "FS"},
            format="json",
        ),
        409,
    )
    assert_problem(
        api.patch(f"/api/v1/dependencies/{link['id']}/", {"lag_days": 3}, format="json"), 409
    )
    assert_problem(api.delete(f"/api/v1/dependencies/{link['id']}/"), 409)
    assert api.get(f"/api/v1/dependencies/{link['id']}/").json()["lag_days"] == 0

    extra = new_item(api, project, "Extra", 1, "10.00")
    post(
        api,
        "/api/v1/dependencies/",
        {"predecessor": ship["id"], "successor": extra["id"], "type": "FS"},
    )
