"""The cost-entry CSV import as a job of the customer import's machinery (issue 9): checked
by a claimed task with visible progress, all or nothing, once even when redelivered,
errors by line and column in the reader's language, change control (a closed project, a
work item of another project, a float-looking amount, an unknown category), and the API
route ``projects/<id>/cost-imports/``."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from engagements import imports
from engagements.models import ImportJob
from followup.site.celery import app
from projects import cost_import
from projects.models import CostEntry, Project
from tests.followup.test_api_conventions import assert_problem
from tests.projects.factories import item, make_project
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db

HEADER = "date,category,amount,work_item,note\n"


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def project(org, member):
    project = make_project(org, manager=member)
    item(org, project, "Build", 3)
    item(org, project, "Test", 2, external_id="wi-test")
    return project


def job_for(org, project, text, actor=None):
    return ImportJob.objects.create(
        organization=org,
        kind=ImportJob.Kind.COST_ENTRIES,
        target_id=project.pk,
        content=text,
        created_by=actor,
    )


def rows(n, *, bad_at=None):
    lines = [HEADER]
    for k in range(n):
        amount = "1.005" if k == bad_at else f"{k % 90 + 10}.25"
        lines.append(f"2027-01-{k % 28 + 1:02d},material,{amount},1,Row {k}\n")
    return "".join(lines)


def upload(client, project, text, capture, name="costs.csv"):
    with capture(execute=True):
        return client.post(
            f"/o/acme/projects/{project.pk}/budget/",
            {"op": "import", "import-file": SimpleUploadedFile(name, text.encode(), "text/csv")},
        )


# --- The page -------------------------------------------------------------------------------


def test_a_cost_file_runs_as_a_job_all_or_nothing_with_errors_by_line_and_column(
    member_client, org, project, eager, django_capture_on_commit_callbacks
):
    bad = upload(
        member_client,
        project,
        HEADER + "2027-01-05,material,100.00,1,Steel\n"
        "2027-01-06,snacks,5.00,,Lunch\n"
        "2027-01-07,labour,1.234,9.9,\n",
        django_capture_on_commit_callbacks,
    )
    job = ImportJob.objects.for_org(org).get()
    assert bad.status_code == 302
    assert bad.url == f"/o/acme/projects/{project.pk}/cost-imports/{job.pk}/"
    assert job.status == "failed" and job.target_id == project.pk
    page = member_client.get(bad.url).content.decode()
    assert "Nothing was imported" in page
    errors = {(e["row"], e["field"]): e for e in job.errors}
    assert errors[(3, "category")]["code"] == "invalid_choice"
    assert "snacks is not allowed here; use one of:" in page and "material" in page
    assert errors[(4, "amount")]["code"] == "amount_places"
    assert errors[(4, "work_item")]["code"] == "unknown_work_item"
    assert CostEntry.objects.for_org(org).count() == 0

    good = upload(
        member_client,
        project,
        "date,category,amount,work_item\n2027-01-05,material,100.00,1\n"
        "2027-01-06,other,-5.00,\n2027-01-07,labour,7.00,wi-test\n",
        django_capture_on_commit_callbacks,
    )
    done = ImportJob.objects.for_org(org).exclude(pk=job.pk).get()
    assert good.status_code == 302 and done.status == "done" and done.created_count == 3
    assert sorted(CostEntry.objects.for_org(org).values_list("amount", flat=True)) == [
        Decimal("-5.00"),
        Decimal("7.00"),
        Decimal("100.00"),
    ]
    budget = member_client.get(f"/o/acme/projects/{project.pk}/budget/").content.decode()
    assert "3 costs" in budget and "Download the template (CSV)" in budget


def test_one_bad_row_of_1000_and_nothing_is_written(org, project, member):
    job = job_for(org, project, rows(1000, bad_at=637), member)

    assert imports.run(org=org, job_id=job.pk) == "failed"

    job.refresh_from_db()
    assert [(e["row"], e["field"], e["code"]) for e in job.errors] == [
        (639, "amount", "amount_places")
    ]
    assert job.total_rows == 1000 and job.processed_rows == 1000
    assert CostEntry.objects.for_org(org).count() == 0
    # The same file without the bad row: all 1,000 at once.
    fixed = job_for(org, project, rows(1000), member)
    assert imports.run(org=org, job_id=fixed.pk) == "done"
    assert CostEntry.objects.for_org(org).filter(project=project).count() == 1000


def test_progress_moves_while_rows_are_checked_and_the_page_polls(
    org, project, member, member_client, monkeypatch
):
    job = job_for(org, project, rows(120), member)
    seen = []
    real = imports.check_rows

    def watching(*args, progress, **kwargs):
        def spy(n):
            progress(n)
            seen.append(ImportJob.objects.for_org(org).get(pk=job.pk).processed_rows)

        return real(*args, progress=spy, **kwargs)

    monkeypatch.setattr(imports, "check_rows", watching)
    assert imports.run(org=org, job_id=job.pk) == "done"
    assert seen[:4] == [25, 50, 75, 100] and seen[-1] == 120

    running = job_for(org, project, rows(3), member)
    ImportJob.objects.for_org(org).filter(pk=running.pk).update(
        status="checking", total_rows=200, processed_rows=50
    )
    url = f"/o/acme/projects/{project.pk}/cost-imports/{running.pk}/"
    swap = member_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in swap and 'value="25"' in swap and "<html" not in swap
    assert f'hx-get="{url}"' in swap


class WorkerKilled(BaseException):
    """What SIGKILL looks like from inside: nothing of the run gets to clean up."""


def test_a_redelivered_task_writes_the_file_once(org, project, member, monkeypatch, settings):
    job = job_for(org, project, rows(40), member)
    real = CostEntry.objects.bulk_create

    def killed(*args, **kwargs):
        real(*args, **kwargs)
        raise WorkerKilled

    monkeypatch.setattr(CostEntry.objects, "bulk_create", killed)
    with pytest.raises(WorkerKilled):
        imports.run(org=org, job_id=job.pk)
    assert CostEntry.objects.for_org(org).count() == 0  # rolled back with the run
    monkeypatch.setattr(CostEntry.objects, "bulk_create", real)

    # A redelivery while the first run's claim is fresh leaves it alone ...
    assert imports.run(org=org, job_id=job.pk) == "skipped"
    # ... and takes it over once the claim is stale: written once.
    ImportJob.objects.for_org(org).filter(pk=job.pk).update(
        claimed_at=ImportJob.objects.for_org(org).get(pk=job.pk).claimed_at
        - settings.FOLLOWUP_IMPORT_CLAIM_TIMEOUT
        - timedelta(seconds=1)
    )
    assert imports.run(org=org, job_id=job.pk) == "done"
    assert imports.run(org=org, job_id=job.pk) == "skipped"
    assert CostEntry.objects.for_org(org).count() == 40


def test_the_tick_requeues_a_cost_file_that_never_reached_a_worker(org, project, member):
    from engagements.tasks import imports_tick

    job = job_for(org, project, rows(5), member)
    ImportJob.objects.for_org(org).filter(pk=job.pk).update(queue_failed_at=job.created_at)
    ran = []

    def queue(org_id, job_id):
        ran.append(job_id)
        return imports.run(org=org, job_id=job_id) == "done"

    assert imports.requeue(queue=queue) == 1
    assert ran == [str(job.pk)] and CostEntry.objects.for_org(org).count() == 5
    assert imports_tick.name == "engagements.tasks.imports_tick"


# --- Change control -------------------------------------------------------------------------


def test_rows_naming_another_projects_or_organizations_work_item_are_refused(
    org, other_org, project, member
):
    elsewhere = item(org, make_project(org), "Other project's item", 1)
    foreign = item(other_org, make_project(other_org), "Globex item", 1)
    text = (
        HEADER
        + f"2027-01-05,material,1.00,{elsewhere.pk},\n2027-01-05,material,1.00,{foreign.pk},\n"
    )
    job = job_for(org, project, text, member)

    assert imports.run(org=org, job_id=job.pk) == "failed"

    job.refresh_from_db()
    codes = [(e["row"], e["code"]) for e in job.errors]
    assert codes == [(2, "other_project"), (3, "unknown_work_item")]
    assert "Globex" not in str(job.errors)
    assert CostEntry.objects.for_org(org).count() == 0


def test_a_closed_project_takes_no_cost_file(api, org, project, member):
    job = job_for(org, project, rows(2), member)
    Project.objects.for_org(org).filter(pk=project.pk).update(status="closed")

    assert imports.run(org=org, job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert "closed" in job.errors[0]["message"]

    response = api.post(
        f"/api/v1/projects/{project.pk}/cost-imports/",
        {"file": SimpleUploadedFile("c.csv", rows(1).encode())},
        format="multipart",
    )
    assert_problem(response, 409)
    assert ImportJob.objects.for_org(org).count() == 1
    assert CostEntry.objects.for_org(org).count() == 0


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"date,category,amount\n2027-01-05,material,1\x00.00\n", "NUL character"),
        ("date,category,amount\n2027-01-05,matériel,1.00\n".encode("latin-1"), "UTF-8"),
    ],
)
def test_bad_bytes_are_a_file_error_before_any_job(api, org, project, raw, message):
    response = api.post(
        f"/api/v1/projects/{project.pk}/cost-imports/", data=raw, content_type="text/csv"
    )
    body = assert_problem(response, 400)
    assert body["errors"][0]["field"] == "file" and message in body["errors"][0]["message"]
    assert not ImportJob.objects.for_org(org).exists()


def test_an_unclosed_quote_fails_the_job_at_its_row(org, project, member):
    job = job_for(
        org, project, HEADER + '2027-01-05,material,1.00,,"ok"\n2027-01-06,material,2.00,,"open\n'
    )
    assert imports.run(org=org, job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.errors[0]["row"] == 3 and "quote" in job.errors[0]["message"]


def test_errors_are_shown_in_the_readers_language(org, project, member, member_client):
    job = job_for(org, project, HEADER + "2027-01-05,material,9.999,,\n", member)
    imports.run(org=org, job_id=job.pk)
    url = f"/o/acme/projects/{project.pk}/cost-imports/{job.pk}/"
    assert "has more than two decimal places" in member_client.get(url).content.decode()
    member.language = "zh-hans"
    member.save()
    chinese = member_client.get(url).content.decode()
    assert "9.999" in chinese and "has more than two decimal places" not in chinese


# --- The API --------------------------------------------------------------------------------


def test_the_api_takes_a_file_as_a_job_and_reports_its_status(
    api, org, project, eager, django_capture_on_commit_callbacks
):
    url = f"/api/v1/projects/{project.pk}/cost-imports/"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            url,
            {"file": SimpleUploadedFile("march.csv", rows(3).encode())},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="costs-march",
        )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert response["Location"].endswith(f"{url}{job_id}/")
    status = api.get(f"{url}{job_id}/").json()
    assert status["status"] == "done" and status["created_count"] == 3
    assert status["filename"] == "march.csv" and status["project"] == str(project.pk)

    # The same key again: the same job, nothing imported twice.
    again = api.post(
        url,
        {"file": SimpleUploadedFile("march.csv", rows(3).encode())},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="costs-march",
    )
    assert again.status_code == 202 and again.json()["id"] == job_id
    assert CostEntry.objects.for_org(org).count() == 3

    with django_capture_on_commit_callbacks(execute=True):
        raw = api.post(
            url,
            data=HEADER + "2027-01-05,snacks,1.00,,\n",
            content_type="text/csv",
        )
    assert raw.status_code == 202
    failed = api.get(f"{url}{raw.json()['id']}/").json()
    assert failed["status"] == "failed"
    assert failed["errors"][0]["field"] == "category"
    assert failed["errors"][0]["code"] == "invalid_choice"
    assert failed["errors"][0]["params"]["value"] == "snacks"
    listed = api.get(url).json()
    assert [j["id"] for j in listed["results"]] == [job_id, raw.json()["id"]]
    assert listed["next"] is None


def test_an_unknown_or_foreign_job_is_404_and_a_post_without_a_file_400(
    api, org, other_org, project
):
    url = f"/api/v1/projects/{project.pk}/cost-imports/"
    other = job_for(other_org, make_project(other_org), rows(1))
    same_org_other_project = job_for(org, make_project(org), rows(1))
    for job_id in (other.pk, same_org_other_project.pk, uuid.uuid4(), "nope"):
        assert_problem(api.get(f"{url}{job_id}/"), 404)
    body = assert_problem(api.post(url, {}, format="multipart"), 400)
    assert body["errors"][0]["field"] == "file"


def test_the_job_lists_keep_a_constant_number_of_queries(api, member_client, org, project, member):
    def make(n):
        for _ in range(n):
            job = job_for(org, project, "", member)
            ImportJob.objects.for_org(org).filter(pk=job.pk).update(
                status="failed", errors=[{"row": 2, "field": "amount", "message": "x"}]
            )

    assert_constant_queries(
        make, lambda: api.get(f"/api/v1/projects/{project.pk}/cost-imports/", {"page_size": 200})
    )
    assert_constant_queries(
        make, lambda: member_client.get(f"/o/acme/projects/{project.pk}/budget/")
    )


def test_the_template_lists_the_columns(member_client, project):
    response = member_client.get(f"/o/acme/projects/{project.pk}/cost-imports/template.csv")
    assert response.status_code == 200
    assert response.content.decode().strip() == ",".join(cost_import.COLUMNS)
