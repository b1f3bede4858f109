"""Dates of business follow-up at the edge of the calendar: refused (400, form error, import
row error), never stored, never a 500 (issue 7, "Dates at the edge of the calendar crash",
applied to touchpoints and engagements)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from accounts.roles import Role
from engagements import imports, services
from engagements.models import Engagement, ImportJob, Touchpoint
from tests.engagements.factories import log, make_customer, make_engagement
from tests.factories import MembershipFactory
from tests.followup.test_api_conventions import assert_problem


@pytest.fixture
def manager_client(org, client):
    manager = MembershipFactory(organization=org, role=Role.MANAGER).user
    client.force_login(manager)
    return client


@pytest.mark.parametrize(
    "occurred_at", ["0001-01-01T00:00:00Z", "1899-12-31T23:00:00Z", "9999-12-31T23:59:00Z"]
)
def test_a_touchpoint_time_outside_the_range_is_a_400(api, org, occurred_at):
    customer = make_customer(org)
    response = api.post(
        "/api/v1/touchpoints/",
        {"customer": str(customer.pk), "channel": "call", "summary": "Hi",
         "occurred_at": occurred_at},
        format="json",
    )  # fmt: skip
    problem = assert_problem(response, 400)
    assert [e["field"] for e in problem["errors"]] == ["occurred_at"]
    assert not Touchpoint.objects.for_org(org).exists()


def test_an_engagement_start_outside_the_range_is_a_400(api, org):
    customer = make_customer(org)
    response = api.post(
        "/api/v1/engagements/",
        {"customer": str(customer.pk), "name": "Growth", "started_on": "0001-01-01"},
        format="json",
    )
    problem = assert_problem(response, 400)
    assert [e["field"] for e in problem["errors"]] == ["started_on"]


def test_the_quick_log_refuses_a_time_outside_the_range(member_client, org):
    customer = make_customer(org)
    response = member_client.post(
        "/o/acme/touchpoints/log/",
        {"customer": customer.pk, "channel": "call", "summary": "Hi",
         "occurred_at": "0001-01-01T00:30"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "1900-01-01" in response.content.decode()
    assert not Touchpoint.objects.for_org(org).exists()


def test_an_import_row_outside_the_range_is_a_row_error_not_a_crash(
    org, manager_client, django_capture_on_commit_callbacks
):
    from followup.site.celery import app

    make_customer(org, name="ACME", external_id="c-1")
    text = (
        "customer_external_id,channel,occurred_at,summary\nc-1,call,0001-01-01T00:00:00+05:00,Hi\n"
    )
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            manager_client.post(
                "/o/acme/imports/",
                {"kind": "touchpoints",
                 "file": SimpleUploadedFile("t.csv", text.encode(), "text/csv")},
            )  # fmt: skip
    finally:
        app.conf.task_always_eager = False
    job = ImportJob.objects.for_org(org).get()
    assert job.status == ImportJob.Status.FAILED
    assert job.errors[0]["row"] == 2 and job.errors[0]["field"] == "occurred_at"
    assert not Touchpoint.objects.for_org(org).exists()


def test_the_services_refuse_the_range_whoever_calls_them(org):
    customer = make_customer(org)
    with pytest.raises(ValidationError) as refused:
        log(org, customer, occurred_at=datetime(1, 1, 1, 12, tzinfo=UTC))
    assert "occurred_at" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        make_engagement(org, customer=customer, started_on=date(3000, 1, 1))
    assert "started_on" in refused.value.message_dict


def test_the_database_holds_no_touchpoint_or_start_outside_the_range(org):
    customer = make_customer(org)
    touchpoint = log(org, customer)
    engagement = make_engagement(org, customer=customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Touchpoint.objects.for_org(org).filter(pk=touchpoint.pk).update(
            occurred_at=datetime(9999, 12, 31, tzinfo=UTC)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Engagement.objects.for_org(org).filter(pk=engagement.pk).update(started_on=date(1, 1, 1))


@pytest.mark.parametrize(
    "query",
    ["occurred_after=0001-01-01T00:00:00%2B05:00", "occurred_before=9999-12-31T23:59:59-05:00"],
)
def test_touchpoint_time_filters_are_lenient_at_the_edges(api, org, query):
    log(org, make_customer(org))
    assert api.get(f"/api/v1/touchpoints/?{query}").status_code == 200


def test_a_timeline_bookmark_from_the_edge_of_time_is_no_500(member_client, org):
    customer = make_customer(org)
    log(org, customer)
    page = member_client.get(f"/o/acme/customers/{customer.pk}/?before=0001-01-01T00:00:00%2B05:00")
    assert page.status_code == 200


def test_import_times_are_checked_in_the_checking_pass(org):
    rows = [{"customer_name": "ACME", "channel": "call", "summary": "Hi",
             "occurred_at": "9999-12-31 23:00"}]  # fmt: skip
    make_customer(org, name="ACME")
    import zoneinfo

    checked, errors = imports.check_rows(
        org, "touchpoints", rows, zone=zoneinfo.ZoneInfo("Pacific/Auckland")
    )
    assert not checked and errors[0]["field"] == "occurred_at"
    assert services  # the writing pass is never reached
