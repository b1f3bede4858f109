"""CSV import: checked first, written all or nothing, matched on external_id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.roles import Role
from engagements import imports
from engagements.models import Contact, Customer, ImportJob, Touchpoint
from followup.site.celery import app
from tests.engagements.factories import make_customer, make_engagement
from tests.factories import MembershipFactory
from tests.utils import assert_constant_queries


@pytest.fixture
def manager(org):
    return MembershipFactory(
        organization=org,
        role=Role.MANAGER,
        user__email="boss@acme.test",
        user__timezone="Asia/Shanghai",
    ).user


@pytest.fixture
def manager_client(manager):
    from django.test import Client

    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def upload(client, kind: str, text: str, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/o/acme/imports/",
            {"kind": kind, "file": SimpleUploadedFile("data.csv", text.encode(), "text/csv")},
        )
    return response


def test_customers_are_imported_and_matched_on_external_id(
    manager_client, org, manager, eager, django_capture_on_commit_callbacks
):
    make_customer(org, name="Old name", external_id="c-1")
    csv_text = (
        "name,external_id,tier,status,owner_email,annual_value,currency\n"
        "New name,c-1,key,active,boss@acme.test,1000,cny\n"
        "Brand new,c-2,small,prospect,,,\n"
        "Brand new again,c-2,small,prospect,,,\n"
    )
    response = upload(manager_client, "customers", csv_text, django_capture_on_commit_callbacks)
    job = ImportJob.objects.for_org(org).get()
    assert response.status_code == 302 and response.url == f"/o/acme/imports/{job.pk}/"
    assert job.status == "done" and (job.created_count, job.updated_count) == (1, 2)
    assert Customer.objects.for_org(org).count() == 2
    updated = Customer.objects.for_org(org).get(external_id="c-1")
    assert (updated.name, updated.owner, updated.currency) == ("New name", manager, "CNY")
    assert Customer.objects.for_org(org).get(external_id="c-2").name == "Brand new again"
    page = manager_client.get(f"/o/acme/imports/{job.pk}/").content.decode()
    assert "1 created, 2 updated" in page


def test_bad_rows_are_reported_and_nothing_is_written(
    manager_client, org, eager, django_capture_on_commit_callbacks
):
    customer = make_customer(org, name="Keep me", external_id="c-1")
    csv_text = (
        "customer_external_id,channel,occurred_at,summary,sentiment\n"
        "c-1,call,2026-03-01 10:00,fine,1\n"
        "c-1,fax,2026-03-01 11:00,bad channel,0\n"
        "c-404,call,2026-03-01 12:00,unknown customer,0\n"
        "c-1,call,yesterday,bad date,7\n"
    )
    upload(manager_client, "touchpoints", csv_text, django_capture_on_commit_callbacks)
    job = ImportJob.objects.for_org(org).get()
    assert job.status == "failed"
    by_row = {(e["row"], e["field"]) for e in job.errors}
    assert {
        (3, "channel"),
        (4, "customer_external_id"),
        (5, "occurred_at"),
        (5, "sentiment"),
    } <= by_row
    assert not Touchpoint.objects.for_org(org).exists()
    customer.refresh_from_db()
    assert customer.last_touch_at is None
    page = manager_client.get(f"/o/acme/imports/{job.pk}/").content.decode()
    assert "Nothing was imported" in page and "No such customer: c-404." in page


def test_a_row_refused_while_writing_rolls_back_the_whole_file(org, manager):
    engagement = make_engagement(org, customer=make_customer(org, external_id="c-1"))
    make_engagement(org, customer=engagement.customer)  # two active: rows must name one
    job = ImportJob.objects.create(
        organization=org,
        kind="touchpoints",
        content=("customer_external_id,channel,summary\nc-1,call,first\n"),
        created_by=manager,
    )
    Touchpoint.objects.for_org(org).delete()
    assert imports.run(org=org, job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.errors[0]["row"] == 2 and job.errors[0]["field"] == "engagement"
    assert not Touchpoint.objects.for_org(org).exists()


def test_touchpoint_times_without_offset_are_read_in_the_importers_time_zone(org, manager):
    make_engagement(org, customer=make_customer(org, name="Shanghai Retail"))
    job = ImportJob.objects.create(
        organization=org,
        kind="touchpoints",
        timezone="Asia/Shanghai",
        content="customer_name,channel,occurred_at,summary,external_id\n"
        "shanghai retail,visit,2026-03-01 23:30,Late visit,a-1\n",
        created_by=manager,
    )
    assert imports.run(org=org, job_id=job.pk) == "done"
    tp = Touchpoint.objects.for_org(org).get()
    assert tp.occurred_at == datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
    assert tp.source == "import" and tp.engagement is not None
    # Run again: the job is done, a re-delivered task does nothing.
    assert imports.run(org=org, job_id=job.pk) == "skipped"


def test_contacts_need_a_known_customer(org):
    make_customer(org, name="Known", external_id="k-1")
    job = ImportJob.objects.create(
        organization=org,
        kind="contacts",
        content="customer_external_id,name,email,is_primary\n"
        "k-1,Chen Jie,chen@example.test,yes\n"
        "k-1,Bad Mail,not-an-email,maybe\n",
    )
    assert imports.run(org=org, job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert {(e["row"], e["field"]) for e in job.errors} == {(3, "email"), (3, "is_primary")}
    assert not Contact.objects.for_org(org).exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("nom,pays\nx,y\n", "Missing columns: name"),
    ],
)
def test_unreadable_files_fail_with_a_clear_message(org, content, message):
    job = ImportJob.objects.create(organization=org, kind="customers", content=content)
    imports.run(org=org, job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and message in job.errors[0]["message"]


def test_a_file_that_is_not_utf8_is_refused_in_the_form(manager_client, org):
    response = manager_client.post(
        "/o/acme/imports/",
        {
            "kind": "customers",
            "file": SimpleUploadedFile("x.csv", "name\nMünchen\n".encode("latin-1")),
        },
    )
    assert response.status_code == 400 and "UTF-8" in response.content.decode()
    assert not ImportJob.objects.for_org(org).exists()


def test_progress_is_polled_with_htmx_until_done(manager_client, org):
    job = ImportJob.objects.create(
        organization=org,
        kind="customers",
        content="name\n",
        status="checking",
        total_rows=200,
        processed_rows=50,
    )
    response = manager_client.get(f"/o/acme/imports/{job.pk}/", HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert 'hx-trigger="every 1s"' in page and 'value="25"' in page and "<html" not in page
    job.status = "done"
    job.save()
    page = manager_client.get(f"/o/acme/imports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in page


def test_only_managers_import(member_client, viewer_client, manager_client):
    assert member_client.get("/o/acme/imports/").status_code == 403
    assert viewer_client.get("/o/acme/imports/").status_code == 403
    assert manager_client.get("/o/acme/imports/").status_code == 200


def test_the_import_list_does_not_grow_queries_with_rows(manager_client, org, manager):
    def rows(n):
        for _ in range(n):
            ImportJob.objects.create(
                organization=org, kind="customers", content="name\n", created_by=manager
            )

    assert_constant_queries(rows, lambda: manager_client.get("/o/acme/imports/"))


# --- Interrupted imports and an unreachable broker (issue 7) -------------------------------

CUSTOMERS_CSV = "name,external_id\n" + "".join(f"Customer {n},c-{n}\n" for n in range(1, 41))


def queued_job(org, manager, content=CUSTOMERS_CSV):
    return ImportJob.objects.create(
        organization=org, kind="customers", content=content, created_by=manager
    )


class WorkerKilled(BaseException):
    """What SIGKILL looks like from inside: nothing of the run gets to clean up."""


def crash_after(monkeypatch, rows: int):
    from engagements import services

    real = services.customer_save
    seen = {"n": 0}

    def save(**kwargs):
        seen["n"] += 1
        if seen["n"] > rows:
            raise WorkerKilled
        return real(**kwargs)

    monkeypatch.setattr(services, "customer_save", save)
    return real


def claim_goes_stale(org, job, settings):
    ImportJob.objects.for_org(org).filter(pk=job.pk).update(
        claimed_at=job.claimed_at - settings.FOLLOWUP_IMPORT_CLAIM_TIMEOUT - timedelta(seconds=1)
    )


def test_a_redelivered_import_after_a_crash_while_writing_finishes_exactly_once(
    org, manager, monkeypatch, settings
):
    job = queued_job(org, manager)
    real = crash_after(monkeypatch, rows=25)
    with pytest.raises(WorkerKilled):
        imports.run(org=org, job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.WRITING
    assert not Customer.objects.for_org(org).exists()  # all or nothing: rolled back

    # The broker redelivers the task (acks late) once the claim of the dead run is stale.
    monkeypatch.setattr(imports.services, "customer_save", real)
    claim_goes_stale(org, job, settings)
    assert imports.run(org=org, job_id=job.pk) == "done"
    job.refresh_from_db()
    assert (job.status, job.created_count, job.updated_count) == ("done", 40, 0)
    assert Customer.objects.for_org(org).count() == 40
    assert imports.run(org=org, job_id=job.pk) == "skipped"  # a third delivery: nothing
    assert Customer.objects.for_org(org).count() == 40


def test_a_job_stuck_checking_rows_is_taken_over_after_the_timeout(org, manager, settings):
    job = queued_job(org, manager)
    # A run claimed it, counted 25 rows and died: "Checking rows" forever, before.
    ImportJob.objects.for_org(org).filter(pk=job.pk).update(
        status=ImportJob.Status.CHECKING,
        processed_rows=25,
        claim=uuid.uuid4(),
        claimed_at=timezone.now() - settings.FOLLOWUP_IMPORT_CLAIM_TIMEOUT - timedelta(seconds=1),
    )
    assert imports.run(org=org, job_id=job.pk) == "done"
    assert Customer.objects.for_org(org).count() == 40


def test_a_redelivery_while_the_first_run_is_alive_leaves_it_alone(org, manager):
    job = queued_job(org, manager)
    ImportJob.objects.for_org(org).filter(pk=job.pk).update(
        status=ImportJob.Status.CHECKING, claim=uuid.uuid4(), claimed_at=timezone.now()
    )
    assert imports.run(org=org, job_id=job.pk) == "skipped"
    assert not Customer.objects.for_org(org).exists()


def test_a_run_that_lost_its_claim_keeps_none_of_its_writes(org, manager, monkeypatch):
    """Two runs: the first is slow, its claim times out, a second takes over and finishes;
    when the first reaches its end it must roll back, not write the file a second time."""
    from engagements import services

    job = queued_job(org, manager, content="name,external_id\nSlow,c-1\n")
    real = services.customer_save

    def save_while_taken_over(**kwargs):
        saved = real(**kwargs)
        ImportJob.objects.for_org(org).filter(pk=job.pk).update(claim=uuid.uuid4())
        return saved

    monkeypatch.setattr(services, "customer_save", save_while_taken_over)
    assert imports.run(org=org, job_id=job.pk) == "skipped"
    assert not Customer.objects.for_org(org).exists()


def broker_down(monkeypatch):
    from kombu.exceptions import OperationalError

    from engagements import tasks

    def refuse(*args, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(tasks.run_import, "delay", refuse)
    monkeypatch.setattr(tasks.run_import, "apply_async", refuse)


def test_with_the_broker_down_an_import_waits_with_a_clear_message(
    manager_client, org, monkeypatch, django_capture_on_commit_callbacks
):
    broker_down(monkeypatch)
    response = upload(
        manager_client, "customers", CUSTOMERS_CSV, django_capture_on_commit_callbacks
    )
    assert response.status_code == 302  # it was a 500
    job = ImportJob.objects.for_org(org).get()
    assert job.status == ImportJob.Status.QUEUED and job.queue_failed_at is not None
    page = manager_client.get(response.url).content.decode()
    assert (
        "Waiting for the worker: the queue is unreachable; it will start when it is back." in page
    )
    assert "hx-trigger" in page  # the page keeps polling
    listing = manager_client.get("/o/acme/imports/").content.decode()
    assert "Waiting for the worker" in listing


def test_the_tick_starts_a_waiting_import_when_the_broker_is_back(
    manager_client, org, monkeypatch, eager, django_capture_on_commit_callbacks
):
    from engagements import tasks

    with monkeypatch.context() as down:
        broker_down(down)
        upload(manager_client, "customers", CUSTOMERS_CSV, django_capture_on_commit_callbacks)
        assert tasks.imports_tick() == 0  # still down: still waiting, no error
    job = ImportJob.objects.for_org(org).get()
    assert job.status == ImportJob.Status.QUEUED
    assert tasks.imports_tick() == 1  # the broker is back
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.queue_failed_at is None
    assert Customer.objects.for_org(org).count() == 40
    assert tasks.imports_tick() == 0


def test_the_tick_requeues_a_stale_run_and_leaves_live_and_fresh_jobs(
    org, manager, settings, eager
):
    from engagements import tasks

    stale = queued_job(org, manager)
    ImportJob.objects.for_org(org).filter(pk=stale.pk).update(
        status=ImportJob.Status.WRITING,
        claim=uuid.uuid4(),
        claimed_at=timezone.now() - settings.FOLLOWUP_IMPORT_CLAIM_TIMEOUT - timedelta(seconds=1),
    )
    live = queued_job(org, manager, content="name\nLive\n")
    ImportJob.objects.for_org(org).filter(pk=live.pk).update(
        status=ImportJob.Status.CHECKING, claim=uuid.uuid4(), claimed_at=timezone.now()
    )
    fresh = queued_job(org, manager, content="name\nFresh\n")
    ImportJob.objects.for_org(org).filter(pk=fresh.pk).update(queued_at=timezone.now())
    assert tasks.imports_tick() == 1
    statuses = dict(ImportJob.objects.for_org(org).values_list("pk", "status"))
    assert statuses == {stale.pk: "done", live.pk: "checking", fresh.pk: "queued"}


def test_import_errors_are_shown_in_the_readers_language_with_the_allowed_values(
    manager_client, manager, org, eager, django_capture_on_commit_callbacks
):
    """Issue 11, defects 10 and 11: errors stored in English stayed English in 中文, and
    "EURO" got "Enter a valid value." without saying what is allowed."""
    csv_text = "name,currency,tier\nACME,EURO,gold\nGlobex,EUR,key\nInitech,eur,platinum\n"
    upload(manager_client, "customers", csv_text, django_capture_on_commit_callbacks)
    job = ImportJob.objects.for_org(org).get()
    assert job.status == "failed"
    stored = {(e["row"], e["field"]): e for e in job.errors}
    assert stored[(2, "currency")]["msgid"] == (
        "Use a three-letter ISO 4217 currency code, e.g. EUR."
    )
    tier = stored[(2, "tier")]
    assert tier["code"] == "invalid_choice" and tier["params"]["value"] == "gold"
    assert "strategic" in tier["message"] and "standard" in tier["message"]

    english = manager_client.get(f"/o/acme/imports/{job.pk}/").content.decode()
    assert "Enter a valid value." not in english
    assert "Use a three-letter ISO 4217 currency code, e.g. EUR." in english
    assert "gold is not allowed here; use one of:" in english

    manager.language = "zh-hans"
    manager.save()
    chinese = manager_client.get(f"/o/acme/imports/{job.pk}/").content.decode()
    assert "请使用三个字母的 ISO 4217 货币代码" in chinese
    assert "Use a three-letter ISO 4217" not in chinese
    assert "gold" in chinese and "is not allowed here" not in chinese


def test_the_import_page_offers_a_template_and_lists_the_allowed_values(manager_client):
    page = manager_client.get("/o/acme/imports/").content.decode()
    assert "/o/acme/imports/template.csv?kind=customers" in page
    assert "strategic, key, standard, small" in page  # tier
    assert ", ".join(value for value, _label in Touchpoint.Channel.choices) in page
    response = manager_client.get("/o/acme/imports/template.csv?kind=touchpoints")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    header = response.content.decode().splitlines()[0].split(",")
    assert header == imports.COLUMNS["touchpoints"]
    assert manager_client.get("/o/acme/imports/template.csv?kind=invoices").status_code == 404


def test_only_importers_download_the_template(member_client):
    assert member_client.get("/o/acme/imports/template.csv?kind=customers").status_code == 403
