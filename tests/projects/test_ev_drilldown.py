"""The earned-value drill-down at size (issue 9): cursor pages of 50 (``page_size`` up to
500), sorted by WBS, SV or CV, computed for the page only; the rows of every page add up
to the project's figures; the page in the browser is paged and sortable too."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounts.ids import uuid7
from projects import control
from projects.models import BaselineItem, CostEntry, ProgressRecord, WorkItem
from tests.followup.test_api_conventions import assert_problem
from tests.projects.factories import item, make_project
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db

AS_OF = "2027-01-20"


def _project(org, member=None, packages=7):
    """Packages of 1..n working days and budgets that split into thirds, varied progress and
    costs (some on no package), and a baseline."""
    project = make_project(
        org, manager=member, calendar={"working_days": [1, 2, 3, 4, 5], "holidays": []}
    )
    items = [
        item(org, project, f"Package {n}", n + 1, budget=Decimal(100 + 37 * n))
        for n in range(packages)
    ]
    control.baseline_create(org=org, actor=None, project=project, name="Plan")
    for n, work in enumerate(items):
        ProgressRecord.objects.create(
            organization=org,
            project=project,
            work_item=work,
            date=date(2027, 1, 5) + timedelta(days=n),
            percent_complete=Decimal((n * 17) % 101),
        )
        CostEntry.objects.create(
            organization=org,
            project=project,
            work_item=work if n % 3 else None,
            category="material",
            date=date(2027, 1, 4) + timedelta(days=n),
            amount=Decimal(50 + 13 * n) + Decimal("0.33"),
        )
    return project, items


def _all_pages(api, project, **params):
    url = f"/api/v1/projects/{project.pk}/earned-value/work-items/"
    response = api.get(url, {"as_of": AS_OF, **params})
    pages = []
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append(body)
        if body["next"] is None:
            return pages
        response = api.get(body["next"])


def test_the_rows_of_every_page_add_up_to_the_project_figures(api, org):
    project, items = _project(org)
    pages = _all_pages(api, project, page_size=2)
    rows = [row for page in pages for row in page["results"]]
    figures = api.get(f"/api/v1/projects/{project.pk}/earned-value/", {"as_of": AS_OF}).json()

    assert [len(page["results"]) for page in pages] == [2, 2, 2, 1]
    assert len({row["work_item"] for row in rows}) == len(items) == pages[0]["count"]
    # AC is exact: every entry is whole cents, those on no package stand apart.
    assert sum(Decimal(r["ac"]) for r in rows) + Decimal(pages[0]["unassigned_ac"]) == Decimal(
        figures["ac"]
    )
    assert Decimal(pages[0]["unassigned_ac"]) > 0
    # PV and EV per package are rounded to cents: the sum is within half a cent a row.
    for name in ("pv", "ev", "bac"):
        total = sum(Decimal(r[name]) for r in rows)
        assert abs(total - Decimal(figures[name])) <= Decimal("0.005") * len(rows), name
    assert Decimal(figures["pv"]) > 0 and Decimal(figures["ev"]) > 0


def test_pages_sort_by_variance_and_go_back(api, org):
    project, _items = _project(org)
    pages = _all_pages(api, project, order="sv", page_size=3)
    rows = [row for page in pages for row in page["results"]]
    sv = [Decimal(r["sv"]) for r in rows]
    assert sv == sorted(sv) and sv[0] < sv[-1]

    best = [Decimal(r["cv"]) for p in _all_pages(api, project, order="-cv") for r in p["results"]]
    assert best == sorted(best, reverse=True)

    back = api.get(pages[1]["previous"]).json()
    assert [r["work_item"] for r in back["results"]] == [
        r["work_item"] for r in pages[0]["results"]
    ]
    assert back["previous"] is None


def test_page_size_defaults_to_50_and_is_capped_at_500(api, org):
    project = make_project(org)
    for n in range(3):
        item(org, project, f"P{n}", 1, budget=Decimal(10))
    control.baseline_create(org=org, actor=None, project=project, name="Plan")
    baseline = project.baselines.get()
    template = BaselineItem.objects.for_org(org).filter(baseline=baseline).first()
    BaselineItem.objects.bulk_create(
        BaselineItem(
            organization=org,
            baseline=baseline,
            work_item_key=uuid7(),
            wbs_code=f"9.{k}",
            name=f"Extra {k}",
            planned_start=template.planned_start,
            planned_finish=template.planned_finish,
            duration_days=1,
            budget=Decimal(1),
        )
        for k in range(600)
    )
    url = f"/api/v1/projects/{project.pk}/earned-value/work-items/"

    assert len(api.get(url).json()["results"]) == 50
    capped = api.get(url, {"page_size": 10_000}).json()
    assert len(capped["results"]) == 500 and capped["count"] == 603 and capped["next"]


def test_bad_paging_parameters_are_problems_naming_them(api, org):
    project, _items = _project(org, packages=2)
    url = f"/api/v1/projects/{project.pk}/earned-value/work-items/"
    for params, field in (
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "abc"}, "page_size"),
        ({"order": "name"}, "order"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ):
        body = assert_problem(api.get(url, params), 400)
        assert body["errors"][0]["field"] == field
    # A cursor of another order is refused too, not misread.
    first = api.get(url, {"page_size": 1}).json()
    cursor = first["next"].split("cursor=")[1]
    body = assert_problem(api.get(url, {"order": "sv", "cursor": cursor}), 400)
    assert body["errors"][0]["field"] == "cursor"


def test_the_drill_down_keeps_a_constant_number_of_queries(api, member_client, org, member):
    project = make_project(org, manager=member)
    first = item(org, project, "First", 2, budget=Decimal(100))
    control.baseline_create(org=org, actor=None, project=project, name="Plan")
    baseline = project.baselines.get()
    template = BaselineItem.objects.for_org(org).get(baseline=baseline)

    def rows(n):
        for k in range(n):
            work = WorkItem.objects.for_org(org).get(pk=first.pk)
            key = uuid7()
            BaselineItem.objects.create(
                organization=org,
                baseline=baseline,
                work_item_key=key,
                wbs_code=f"5.{k}",
                name=f"Copy {k}",
                planned_start=template.planned_start,
                planned_finish=template.planned_finish,
                duration_days=2,
                budget=Decimal(10),
            )
            CostEntry.objects.create(
                organization=org,
                project=project,
                work_item=work,
                category="material",
                date=date(2027, 1, 4),
                amount=Decimal(1),
            )

    url = f"/api/v1/projects/{project.pk}/earned-value/work-items/"
    assert_constant_queries(rows, lambda: api.get(url, {"as_of": AS_OF}))
    page = f"/o/acme/projects/{project.pk}/earned-value/"
    assert_constant_queries(rows, lambda: member_client.get(page, {"order": "cv"}))


def test_the_drill_down_page_is_paged_and_sorted_by_cost_variance(member_client, org, member):
    project, items = _project(org, member, packages=60)
    url = f"/o/acme/projects/{project.pk}/earned-value/"

    first = member_client.get(url, {"as_of": AS_OF, "order": "cv"})
    text = first.content.decode()
    assert first.status_code == 200
    assert text.count("<tr><td>") == 50 and "60 work packages" in text
    assert 'value="cv" selected' in text and "cursor=" in text
    next_url = (
        text.split('class="pager"', 1)[1]
        .split('href="?', 1)[1]
        .split('"', 1)[0]
        .replace("&amp;", "&")
    )
    second = member_client.get(f"{url}?{next_url}").content.decode()
    assert second.count("<tr><td>") == 10
    # A stale or edited cursor shows the first page, not an error.
    assert member_client.get(url, {"cursor": "junk"}).status_code == 200
    assert len(items) == 60


def test_each_row_earns_the_latest_progress_recorded_by_the_status_date(api, org):
    project = make_project(org)
    work = item(org, project, "Build", 10, budget=Decimal(1000))
    control.baseline_create(org=org, actor=None, project=project, name="Plan")
    for day, percent in ((5, 20), (12, 60), (25, 90)):
        ProgressRecord.objects.create(
            organization=org,
            project=project,
            work_item=work,
            date=date(2027, 1, day),
            percent_complete=Decimal(percent),
        )
    url = f"/api/v1/projects/{project.pk}/earned-value/work-items/"
    for order in ("wbs", "sv", "-cv"):
        (row,) = api.get(url, {"as_of": AS_OF, "order": order}).json()["results"]
        assert row["ev"] == "600.00", order
    (early,) = api.get(url, {"as_of": "2027-01-06"}).json()["results"]
    assert early["ev"] == "200.00"
