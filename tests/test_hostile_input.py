"""Hostile input (issue 12, part 3): each reproduction of the fuzzer and the bad-input run
answers a clear 4xx naming what is wrong, never a 500, and stores nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.roles import Role
from engagements.models import Customer, ImportJob
from followup.engine import services as engine_services
from followup.engine.models import FollowUp
from followup.site.celery import app
from tests.engagements.factories import log, make_customer
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "customers",
    "contacts",
    "engagements",
    "touchpoints",
    "followups",
    "notifications",
    "webhooks",
    "comments",
    "projects",
    "work-items",
    "dependencies",
    "members",
    "api-keys",
]
BAD_MOMENTS = ["2030-01-01T00:00:00%2B16:00", "2030-02-30T00:00:00Z", "2030-01-01T00:00:00-15:00"]
RESOURCE_MOMENT_FILTERS = [
    ("followups", "due_before"),
    ("followups", "due_after"),
    ("touchpoints", "occurred_after"),
    ("touchpoints", "occurred_before"),
]


def _fields(response) -> set:
    return {error["field"] for error in response.json().get("errors", [])}


def _assert_400_naming(response, parameter: str) -> None:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert parameter in _fields(response), response.json()


@pytest.mark.parametrize("resource", LISTS)
@pytest.mark.parametrize("moment", BAD_MOMENTS)
def test_a_bad_updated_after_is_a_400_naming_it_on_every_list(api, resource, moment):
    _assert_400_naming(api.get(f"/api/v1/{resource}/?updated_after={moment}"), "updated_after")


@pytest.mark.parametrize(("resource", "parameter"), RESOURCE_MOMENT_FILTERS)
@pytest.mark.parametrize("moment", BAD_MOMENTS)
def test_bad_due_and_occurred_filters_are_400s_naming_them(api, resource, parameter, moment):
    _assert_400_naming(api.get(f"/api/v1/{resource}/?{parameter}={moment}"), parameter)


def test_real_offsets_still_filter(api, org):
    make_customer(org, name="Acme")
    for offset in ("%2B14:00", "-12:00", "%2B05:45", "Z"):
        response = api.get(f"/api/v1/customers/?updated_after=2000-01-01T00:00:00{offset}")
        assert response.status_code == 200, offset
        assert len(response.json()["results"]) == 1


@pytest.mark.parametrize("page_size", ["abc", "0", "-3", "1.5", ""])
def test_an_invalid_page_size_is_a_400_not_ignored(api, page_size):
    response = api.get(f"/api/v1/customers/?page_size={page_size}")
    if page_size == "":
        assert response.status_code == 200  # an empty parameter is an absent one
        return
    _assert_400_naming(response, "page_size")


def test_deeply_nested_json_is_a_400(api, org):
    body = '{"name": ' + "[" * 1000 + "]" * 1000 + "}"
    response = api.post("/api/v1/customers/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]
    assert not Customer.objects.for_org(org).exists()


def test_json_nested_at_a_sane_depth_is_still_validated(api):
    response = api.post("/api/v1/customers/", {"name": [[["x"]]]}, format="json")
    assert response.status_code == 400
    assert "name" in _fields(response)


def test_a_body_over_the_limit_is_a_413_with_the_limit(api, org, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    body = json.dumps({"name": "Big", "notes": "a" * (2 * 1024 * 1024)})
    response = api.post("/api/v1/customers/", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert "1048576 bytes" in problem["detail"] and problem["limit_bytes"] == 1048576
    assert not Customer.objects.for_org(org).exists()


def test_the_body_limit_is_in_the_api_docs(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "413" in schema["info"]["description"]
    assert "5 MiB" in schema["info"]["description"]


@pytest.mark.parametrize("resource", ["customers", "contacts", "engagements", "touchpoints"])
def test_a_nul_in_an_external_id_path_is_a_400(api, resource):
    response = api.put(f"/api/v1/{resource}/external/a%00b/", {"name": "x"}, format="json")
    _assert_400_naming(response, "external_id")


def test_a_nul_in_a_query_parameter_is_a_400_naming_it(api):
    _assert_400_naming(api.get("/api/v1/customers/?external_id=a%00b"), "external_id")


def test_a_nul_in_a_page_query_is_a_400_page(member_client):
    response = member_client.get("/o/acme/customers/?q=a%00b")
    assert response.status_code == 400
    assert "text/html" in response["Content-Type"]


@pytest.fixture
def manager_client(org):
    manager = MembershipFactory(
        organization=org, role=Role.MANAGER, user__email="boss@acme.test"
    ).user
    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _upload(client, text: str, capture):
    with capture(execute=True):
        return client.post(
            "/o/acme/imports/",
            {"kind": "customers", "file": SimpleUploadedFile("data.csv", text.encode())},
        )


def test_a_csv_with_a_nul_byte_is_a_form_error_naming_the_line(
    manager_client, org, django_capture_on_commit_callbacks
):
    text = "name,external_id\nAcme,c-1\nGlo\x00bex,c-2\n"
    response = _upload(manager_client, text, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "Line 3 contains a NUL character" in response.content.decode()
    assert not ImportJob.objects.for_org(org).exists()


def test_a_csv_line_with_an_unclosed_quote_is_a_row_error_and_nothing_imports(
    manager_client, org, eager, django_capture_on_commit_callbacks
):
    text = 'name,external_id\nAcme,c-1\n"Broken,c-2\nGlobex,c-3\n'
    _upload(manager_client, text, django_capture_on_commit_callbacks)
    job = ImportJob.objects.for_org(org).get()
    assert job.status == "failed"
    assert [error["row"] for error in job.errors] == [3]
    assert "quote" in job.errors[0]["message"]
    assert not Customer.objects.for_org(org).exists()


def _upload_kind(client, kind: str, text: str, capture):
    with capture(execute=True):
        return client.post(
            "/o/acme/imports/",
            {"kind": kind, "file": SimpleUploadedFile("data.csv", text.encode())},
        )


# A quote opened on line 3 and closed further down, in the middle of the file: the reader
# sees one record spanning lines 3-5, whose one-line fields now hold line breaks.
MID_FILE_QUOTES = {
    "customers": ('name,external_id\nAcme,c-1\n"Broken,c-2\nGlobex,c-3\n",c-4\nInitech,c-5\n'),
    "contacts": (
        "customer_name,name,email\nAcme,Ann,ann@acme.test\n"
        '"Acme,Bob,bob@acme.test\nAcme,Cy,cy@acme.test\n",Dee,dee@acme.test\n'
        "Acme,Eve,eve@acme.test\n"
    ),
    "touchpoints": (
        "customer_name,channel,summary\nAcme,call,First\n"
        '"Acme,call,Second\nAcme,call,Third\n",call,Fourth\nAcme,call,Fifth\n'
    ),
}


@pytest.mark.parametrize("kind", sorted(MID_FILE_QUOTES))
def test_an_unbalanced_quote_mid_file_is_a_row_error_naming_its_line_and_nothing_imports(
    manager_client, org, eager, django_capture_on_commit_callbacks, kind
):
    from engagements.models import Contact, Touchpoint

    make_customer(org, name="Acme")
    before = (Customer.objects.for_org(org).count(), Contact.objects.for_org(org).count())
    _upload_kind(manager_client, kind, MID_FILE_QUOTES[kind], django_capture_on_commit_callbacks)
    job = ImportJob.objects.for_org(org).get()
    assert job.status == "failed"
    assert [error["row"] for error in job.errors] == [3]
    assert "quote" in job.errors[0]["message"]
    assert (Customer.objects.for_org(org).count(), Contact.objects.for_org(org).count()) == before
    assert not Touchpoint.objects.for_org(org).exists()


def test_a_quote_closed_mid_file_before_more_text_is_a_row_error_naming_its_line(
    manager_client, org, eager, django_capture_on_commit_callbacks
):
    text = 'name,external_id\nAcme,c-1\n"Broken,c-2\nGlobex,c-3\n"Fine",c-4\nInitech,c-5\n'
    _upload(manager_client, text, django_capture_on_commit_callbacks)
    job = ImportJob.objects.for_org(org).get()
    assert job.status == "failed"
    assert [error["row"] for error in job.errors] == [3]
    assert not Customer.objects.for_org(org).exists()


def test_a_quoted_multi_line_summary_still_imports(
    manager_client, org, eager, django_capture_on_commit_callbacks
):
    from engagements.models import Touchpoint

    make_customer(org, name="Acme")
    text = 'customer_name,channel,summary\nAcme,call,"Two\nlines"\nAcme,email,Plain\n'
    _upload_kind(manager_client, "touchpoints", text, django_capture_on_commit_callbacks)
    job = ImportJob.objects.for_org(org).get()
    assert job.status == "done", job.errors
    summaries = set(Touchpoint.objects.for_org(org).values_list("summary", flat=True))
    assert summaries == {"Two\nlines", "Plain"}


def test_a_chunked_body_without_length_is_a_411_saying_why(api, org):
    response = api.generic(
        "POST",
        "/api/v1/customers/",
        b"",
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 411
    assert response["Content-Type"] == "application/problem+json"
    assert "Content-Length" in response.json()["detail"]
    assert not Customer.objects.for_org(org).exists()


@pytest.fixture
def open_followup(org, member):
    return engine_services.followup_create(
        org=org,
        actor=member,
        title="Call ACME",
        owner=member,
        due_at=timezone.now() + timedelta(days=1),
    )


def test_complete_refuses_another_organizations_touchpoint_as_answer(
    api, open_followup, other_org, outsider
):
    foreign = log(other_org, make_customer(other_org), actor=outsider)
    response = api.post(
        f"/api/v1/followups/{open_followup.pk}/complete/",
        {"answered_by_type": "touchpoint", "answered_by_id": str(foreign.pk)},
        format="json",
    )
    _assert_400_naming(response, "answered_by_id")
    assert "answered_by_type" in _fields(response)
    open_followup.refresh_from_db()
    assert open_followup.status == "open" and open_followup.answered_by_id is None


def test_complete_without_answer_fields_completes(api, open_followup):
    response = api.post(f"/api/v1/followups/{open_followup.pk}/complete/", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "done"


def test_a_touchpoint_answering_a_followup_is_stored_as_its_answer(api, org, member):
    customer = make_customer(org)
    open_followup = engine_services.followup_create(
        org=org,
        actor=member,
        title="Call back",
        owner=member,
        due_at=timezone.now() + timedelta(days=1),
        subject=customer,
    )
    response = api.post(
        "/api/v1/touchpoints/",
        {
            "customer": str(customer.pk),
            "channel": "call",
            "summary": "Called back",
            "occurred_at": timezone.now().isoformat(),
            "followup": str(open_followup.pk),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    done = FollowUp.objects.for_org(org).get(pk=open_followup.pk)
    answer = (done.answered_by_type, str(done.answered_by_id))
    assert answer == ("touchpoint", response.json()["id"])


def test_every_on_commit_callback_is_robust():
    """A callback runs after the write is saved: one that raises (the cache or the broker
    is down) must be logged, not turn the saved write into a 500 that the client retries."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    fragile = []
    for package in ("accounts", "followup", "engagements", "projects", "risks"):
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "on_commit"
                    and not any(
                        k.arg == "robust" and getattr(k.value, "value", None) is True
                        for k in node.keywords
                    )
                ):
                    fragile.append(f"{path.relative_to(root)}:{node.lineno}")
    assert fragile == []
